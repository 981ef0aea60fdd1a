import Foundation
import Histogram
import Messaging
import StampedeModel
import StampedeWire
import Testing
import TestSupport
import BusTestSupport

/// A broker, nginx, a watcher on `register` and `metrics`, and one driver process that has registered.
struct RegisteredDriver {
    let broker: TansuBroker
    let nginx: Nginx
    let bus: KafkaBus
    let watcher: BusSubscription
    let driver: DriverProcess

    init(id: String) throws {
        broker = try TansuBroker()
        nginx = try Nginx()
        let prefix = uniqueTopicPrefix()
        bus = try KafkaBus(brokers: broker.brokers, topics: TopicNames.stampede(prefix: prefix))
        watcher = try bus.subscribe([.register, .metrics], from: .end)
        driver = try DriverProcess(brokers: broker.brokers, id: id, prefix: prefix)
        _ = try collect(watcher, seconds: 20) { $0.contains { if case .register = $0 { return true } else { return false } } }
    }

    func stop() {
        _ = driver.terminate()
        nginx.stop()
        broker.stop()
    }
}

@Suite(.serialized) struct DriverProcessTests {
    @Test func registersHeartbeatsEverySecondAndSaysWhenItLeaves() throws {
        let broker = try TansuBroker()
        let prefix = uniqueTopicPrefix()
        let bus = try KafkaBus(brokers: broker.brokers, topics: TopicNames.stampede(prefix: prefix))
        let watcher = try bus.subscribe([.register, .heartbeat], from: .end)
        let driver = try DriverProcess(brokers: broker.brokers, id: "d-beat", prefix: prefix)
        var arrivals: [(Date, HeartbeatMessage)] = []
        var registered: RegisterMessage?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && arrivals.count < 5 {
            for m in try watcher.pollMessages(timeoutMs: 100) {
                if case .register(let r) = m { registered = r }
                if case .heartbeat(let h) = m { arrivals.append((Date(), h)) }
            }
        }
        #expect(registered?.driverID == "d-beat" && registered?.version == "0.1.0")
        #expect(arrivals.count >= 5)
        let sent = arrivals.map { Double($0.1.sentAtMs) / 1000 }
        for (a, b) in zip(sent, sent.dropFirst()) { #expect(abs((b - a) - 1) < 0.3, "heartbeat spacing \(b - a) s") }
        #expect(arrivals.allSatisfy { $0.1.driverID == "d-beat" && $0.1.state == .idle })

        #expect(driver.terminate() == 0)
        let leaving = try collect(watcher, seconds: 10) { $0.contains { if case .heartbeat(let h) = $0 { return h.state == .leaving } else { return false } } }
        #expect(leaving.contains { if case .heartbeat(let h) = $0 { return h.state == .leaving } else { return false } })
    }

    @Test func runsATriggeredTestAndReportsExactCounts() throws {
        let setup = try RegisteredDriver(id: "d-run")
        defer { setup.stop() }
        let (bus, nginx, watcher) = (setup.bus, setup.nginx, setup.watcher)

        let publisher = try bus.makePublisher()
        let spec = TestSpec(target: "http://127.0.0.1:\(nginx.port)/", mode: .avalanche, connections: 4, requests: 2_000, duration_s: nil)
        try publisher.publish(.testConfig(TestConfigMessage(testID: "t-run", driverIDs: ["d-run"], config: spec)))
        let startAt = Int64(Date().timeIntervalSince1970 * 1000) + 1_000
        try publisher.publish(.trigger(TriggerMessage(testID: "t-run", driverIDs: nil, startAtMs: startAt)))
        #expect(publisher.flush(timeoutMs: 10_000))

        let messages = try collect(watcher, seconds: 30) { $0.contains { if case .final = $0 { return true } else { return false } } }
        let finals = messages.compactMap { if case .final(let f) = $0 { return f } else { return nil } }
        let intervals = messages.compactMap { if case .interval(let i) = $0 { return i } else { return nil } }
        let final = try #require(finals.first)
        #expect(final.testID == "t-run" && final.driverID == "d-run")
        #expect(final.requests == 2_000 && final.responses == 2_000)
        #expect(intervals.map(\.requests).reduce(0, +) == 2_000)
        #expect(try HDRHistogram(base64: final.histogram).totalCount == 2_000)
        var merged = HDRHistogram()
        for i in intervals { try merged.add(try HDRHistogram(base64: i.histogram)) }
        #expect(merged.totalCount == 2_000)
        #expect(Double(final.startedAtMs) >= Double(startAt) - 5)
        #expect((final.startLagMs ?? 1e9) < 250, "start lag \(final.startLagMs ?? -1) ms")
        #expect(try nginx.accessLogLines(expecting: 2_000) == 2_000)
    }

    @Test func runsATsunamiAtTheSeedsPace() throws {
        let setup = try RegisteredDriver(id: "d-tsu")
        defer { setup.stop() }
        let (bus, nginx, watcher) = (setup.bus, setup.nginx, setup.watcher)
        let publisher = try bus.makePublisher()
        // The original system's tsunami: 10 ms between a connection's requests, 300 requests, 2 connections.
        let spec = TestSpec(target: "http://127.0.0.1:\(nginx.port)/", mode: .tsunami, connections: 2, requests: 300,
                            duration_s: nil, delay_ms: 10)
        try publisher.publish(.testConfig(TestConfigMessage(testID: "t-tsu", driverIDs: nil, config: spec)))
        try publisher.publish(.trigger(TriggerMessage(testID: "t-tsu", driverIDs: nil, startAtMs: Int64(Date().timeIntervalSince1970 * 1000) + 500)))
        let messages = try collect(watcher, seconds: 30) { $0.contains { if case .final = $0 { return true } else { return false } } }
        let final = try #require(messages.compactMap { if case .final(let f) = $0 { return f } else { return nil } }.first)
        #expect(final.requests == 300 && final.responses == 300)
        #expect(final.durationS > 1.3 && final.durationS < 1.9, "duration \(final.durationS) s")
    }
}
