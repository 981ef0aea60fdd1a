# Stampede in a container: the same build as `make release` (librdkafka >= 2.3 from Debian's
# source package, OpenSSL, zlib), then a slim runtime image with just the binary and its libraries.
FROM swift:6.3-bookworm AS build
WORKDIR /src
COPY . .
RUN apt-get update \
 && bash scripts/setup.sh --build \
 && swift build -c release --product stampede --static-swift-stdlib

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 zlib1g libzstd1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/lib/librdkafka.so.1 /usr/local/lib/
RUN ldconfig
COPY --from=build /src/.build/release/stampede /usr/local/bin/stampede
ENTRYPOINT ["stampede"]
CMD ["--help"]
