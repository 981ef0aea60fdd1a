// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "stampede",
    products: [
        .executable(name: "stampede", targets: ["stampede"]),
        .library(name: "Histogram", targets: ["Histogram"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, reached through thin system-library targets (module map + shim header).
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka",
                       providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // Engine modules.
        .target(name: "Histogram", dependencies: ["CZlib"]),

        // The command-line tool.
        .executableTarget(
            name: "stampede",
            dependencies: [
                "Histogram", "CRdKafka", "COpenSSL", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Benchmarks (run by `make perf`, release build).
        .executableTarget(name: "histogram-bench", dependencies: ["Histogram"],
                          path: "Perf/HistogramBenchmark"),

        .testTarget(
            name: "HistogramTests",
            dependencies: ["Histogram"]),
    ]
)
