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
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        // YAML test files (`stampede bench shop.yaml`): read into the same document as JSON.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries, reached through thin system-library targets (module map + shim header).
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka",
                       providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // Linux headers Glibc does not expose (epoll_event, timerfd, eventfd) and a few macro shims.
        .systemLibrary(name: "CLinux"),
        // The one compiled C shim: GNU-only calls (thread affinity).
        .target(name: "CShims"),

        // The model: load spec and its one validator, counters, reports, thresholds. Plain data;
        // HTTP1 only for parsing URLs and checking headers as the encoder will.
        .target(name: "StampedeModel", dependencies: ["Histogram", "HTTP1", "Patterns"]),
        // The wire: bus messages, TestConfig as posted, WebSocket events (JSON shapes of the model).
        .target(name: "StampedeWire", dependencies: ["StampedeModel", "Messaging", "HTTP1", "Histogram", .product(name: "Logging", package: "swift-log")]),

        // Engine modules.
        .target(name: "Histogram", dependencies: ["CZlib"]),
        .target(name: "Reactor", dependencies: ["CLinux", "CShims"]),
        // HTTP1 and Sessions: no run-time exclusivity checks in release builds, as LoadGenerator
        // (below): a session's parser resets, header recorder and body keeping paid about 570
        // instructions a request for them (callgrind).
        .target(name: "HTTP1", swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
                                               .unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "TLS", dependencies: ["COpenSSL"]),
        .target(name: "HTTPServer", dependencies: ["Reactor", "HTTP1"]),
        .target(name: "WebSocket", dependencies: ["COpenSSL", "HTTP1", "Reactor"]),
        .target(name: "Messaging", dependencies: ["CRdKafka", "CLinux", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Orchestrator", dependencies: ["Reactor", "HTTP1", "HTTPServer", "WebSocket", "Messaging", "ReportPage",
                                                    "StampedeModel", "StampedeWire", "Histogram",
                                                    .product(name: "Logging", package: "swift-log")]),
        // The one place wire types meet the engine.
        .target(name: "Driver", dependencies: ["Messaging", "StampedeWire", "StampedeModel", "LoadGenerator", "Histogram", "Reactor",
                                              .product(name: "Logging", package: "swift-log")]),
        // A user's session at run time: cookie jar (RFC 6265), running captures, drawing think
        // times, gzip. Plain logic, no I/O; it implements what the model declares.
        .target(name: "Sessions", dependencies: ["CZlib", "HTTP1", "Patterns", "StampedeModel"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // From a browser recording (HAR) to a journey: what to keep, redirects, correlation.
        .target(name: "HARImport", dependencies: ["HTTP1", "StampedeModel", "StampedeWire", "Sessions", "Patterns"]),
        // A linear-time regular expression engine (Pike VM): the model checks a capture's
        // pattern with it, Sessions runs it.
        // Optimized in debug builds too: the tests run captures over whole bodies at load, and
        // unoptimized the engine spent about 100 ms on a 5 KB body.
        .target(name: "Patterns", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Release builds skip the run-time exclusivity checks on the request path (a worker and its
        // connections live on one thread; debug builds, and so the tests, keep the checks): they
        // were about 360 of some 6,600 instructions per request (callgrind). Debug builds compile
        // the engine optimized too: the tests drive it at thousands of requests per second and
        // measure time: unoptimized it spent about 45 µs of CPU per request, optimized 15 µs.
        .target(name: "LoadGenerator", dependencies: ["Reactor", "HTTP1", "TLS", "Histogram", "StampedeModel", "Sessions"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
                                .unsafeFlags(["-O"], .when(configuration: .debug))]),
        // A test's self-contained HTML report, rendered from its report and latency.hlog.
        .target(name: "ReportPage", dependencies: ["Histogram", "StampedeModel"]),

        // The command-line tool.
        .executableTarget(
            name: "stampede",
            dependencies: [
                "Histogram", "Reactor", "HTTP1", "TLS", "LoadGenerator", "HTTPServer", "Messaging", "Driver", "Orchestrator",
                "StampedeModel", "StampedeWire", "ReportPage", "Sessions", "HARImport", "CRdKafka", "COpenSSL", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]),

        // libFuzzer harnesses (`make fuzz`); a corpus replayer when built normally.
        .executableTarget(name: "stampede-fuzz", dependencies: ["HTTP1", "Histogram", "WebSocket", "Messaging", "StampedeWire", "StampedeModel", "Sessions", "Patterns"],
                          path: "Fuzz/Harness"),

        // Benchmarks (run by `make perf`, release build).
        .executableTarget(name: "histogram-bench", dependencies: ["Histogram"],
                          path: "Perf/HistogramBenchmark"),
        .executableTarget(name: "kafka-bench", dependencies: ["Messaging", "StampedeWire"],
                          path: "Perf/KafkaBenchmark"),
        .executableTarget(name: "merge-bench", dependencies: ["Orchestrator"],
                          path: "Perf/MergeBenchmark"),

        // Test helpers shared by the test targets (subprocesses, servers, the Python bridge): no
        // Kafka linked in. BusTestSupport adds what reads the bus, for the targets that need it.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(name: "BusTestSupport", dependencies: ["Messaging", "StampedeWire", "TestSupport"], path: "Tests/BusTestSupport"),
        .testTarget(name: "HistogramTests", dependencies: ["Histogram", "TestSupport"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1", "TestSupport"]),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket", "HTTP1", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "Reactor", "HTTP1", "TestSupport"]),
        .testTarget(name: "OrchestratorTests", dependencies: ["Orchestrator", "Messaging", "Histogram", "StampedeModel", .product(name: "Logging", package: "swift-log"),
                                                           "StampedeWire", "TestSupport"]),
        .testTarget(name: "DriverTests", dependencies: ["Messaging", "StampedeWire", "StampedeModel", "Histogram", "TestSupport", "BusTestSupport"]),
        .testTarget(name: "MessagingTests", dependencies: ["Messaging", "StampedeWire", "StampedeModel", "TestSupport", "BusTestSupport"]),
        // In memory: the connection's state machine with a manual clock (no sockets, no Kafka).
        .testTarget(name: "SessionsTests", dependencies: ["Sessions", "HTTP1", "Patterns", "StampedeModel"]),
        .testTarget(name: "HARImportTests", dependencies: ["HARImport", "StampedeModel", "StampedeWire", "TestSupport"]),
        .testTarget(name: "ConnectionStateMachineTests", dependencies: ["LoadGenerator", "Reactor"]),
        .testTarget(name: "LoadGeneratorTests", dependencies: ["LoadGenerator", "Histogram", "HTTP1", "Reactor", "StampedeModel", "TestSupport"]),
        .testTarget(name: "StampedeModelTests", dependencies: ["StampedeModel", "StampedeWire", "Messaging", "TestSupport"]),
        .testTarget(name: "DocsTests", dependencies: ["TestSupport"]),
    ]
)
