// swift-tools-version: 6.1
// A separate package because hdrhistogram-swift's module is also named `Histogram`, and SwiftPM
// refuses two targets of one name in a package graph. Stampede's tests run this tool as a
// subprocess: an independent implementation to check our percentiles against, and the peer of the
// histogram micro-benchmark in Perf/.
import PackageDescription

let package = Package(
    name: "hdr-oracle",
    dependencies: [
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "hdr-oracle",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")]),
    ]
)
