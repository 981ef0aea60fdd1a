# Stampede in a container, from the same recipe as `make dist` (librdkafka >= 2.3 from Debian's
# source package, the Swift runtime linked in statically, librdkafka beside the binary), then a
# slim runtime image with the tarball's contents under /opt/stampede.
FROM swift:6.3-bookworm AS build
WORKDIR /src
COPY . .
RUN apt-get update \
 && bash scripts/setup.sh --build \
 && swift build -c release --product stampede --static-swift-stdlib --scratch-path .build-dist \
      -Xlinker -rpath -Xlinker '$ORIGIN/../lib' \
 && scripts/dist.sh \
 && mkdir -p /opt/stampede && tar -C /opt/stampede --strip-components=1 -xzf dist/stampede-*-linux-*.tar.gz

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 zlib1g libzstd1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/stampede /opt/stampede
ENV PATH=/opt/stampede/bin:$PATH
ENTRYPOINT ["stampede"]
CMD ["--help"]
