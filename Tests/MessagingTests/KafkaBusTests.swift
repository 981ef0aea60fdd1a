import Foundation
import Messaging
import StampedeModel
import StampedeWire
import Testing
import TestSupport
import BusTestSupport

let sampleMessages: [BusMessage] = {
    var errors = ErrorCounts()
    errors.timeout = 2
    let spec = TestSpec(target: "http://127.0.0.1:8080/", mode: .tsunami, connections: 4, requests: 300,
                        duration_s: nil, delay_ms: 10, headers: ["X-A": "1"])
    return [
        .register(RegisterMessage(driverID: "d1", host: "h1", threads: 2, version: "0.1.0", pid: 42)),
        .heartbeat(HeartbeatMessage(driverID: "d1", state: .busy, testID: "t1", sentAtMs: 1_700_000_000_000)),
        .testConfig(TestConfigMessage(testID: "t1", driverIDs: ["d1", "d2"], config: spec)),
        .trigger(TriggerMessage(testID: "t1", driverIDs: nil, startAtMs: 1_700_000_000_500)),
        .stop(StopMessage(testID: "t1")),
        .interval(IntervalMessage(driverID: "d1", testID: "t1", t: 3, requests: 10, responses: 9, errors: errors,
                                  bytesRead: 900, histogram: "HISTFAAAAB94nJNpmSzMwMDAxAABzFCaEUzzTWCxBwATOgHe")),
        .final(FinalMessage(driverID: "d1", testID: "t1", startedAtMs: 1_700_000_000_500, durationS: 1.5, requests: 300,
                            responses: 298, errors: errors, bytesRead: 30_000, histogram: "HISTF", serviceHistogram: nil,
                            firstError: "connect 127.0.0.1:1: Connection refused", interrupted: false)),
    ]
}()

/// The bus against a real broker (Tansu), one broker per test.
@Suite(.serialized) struct KafkaBusTests {
    @Test func everyMessageTypeRoundTrips() throws {
        let broker = try TansuBroker()
        let bus = try KafkaBus(brokers: broker.brokers, topics: TopicNames.stampede(prefix: uniqueTopicPrefix()))
        let subscription = try bus.subscribe(Topic.stampede, from: .end)
        let publisher = try bus.makePublisher()
        for m in sampleMessages { try publisher.publish(m) }
        #expect(publisher.flush(timeoutMs: 10_000))
        let received = try collect(subscription, count: sampleMessages.count, seconds: 20)
        #expect(received.count == sampleMessages.count)
        for m in sampleMessages { #expect(received.contains(m), "\(m)") }
        #expect(publisher.delivered == sampleMessages.count && publisher.failed == 0)
    }

    @Test func tenThousandMetricsFromFourProducersArriveCompleteAndInOrder() throws {
        let broker = try TansuBroker()
        let bus = try KafkaBus(brokers: broker.brokers, topics: TopicNames.stampede(prefix: uniqueTopicPrefix()))
        let subscription = try bus.subscribe([.metrics], from: .end)
        let publishers = try (0..<4).map { _ in try bus.makePublisher() }
        let histogram = String(repeating: "A", count: 600)  // a metrics-sized payload (~1 KB)
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: 4) { p in
            for t in 1...2_500 {
                try! publishers[p].publish(.interval(IntervalMessage(driverID: "d\(p)", testID: "t", t: t, requests: t, responses: t,
                                                                     errors: ErrorCounts(), bytesRead: 0, histogram: histogram)))
            }
        }
        let skipped = LogLines()
        let received = try collect(subscription, count: 10_000, seconds: 90, skipped: { skipped.append("\($0)") })
        let elapsed = Date().timeIntervalSince(start)
        #expect(received.count == 10_000)
        var lastSeen: [String: Int] = [:]
        var outOfOrder: [String] = []
        for case .interval(let m) in received {
            let expected = (lastSeen[m.driverID] ?? 0) + 1
            if m.t != expected { outOfOrder.append("\(m.driverID): \(m.t) after \(expected - 1)") }
            lastSeen[m.driverID] = m.t
        }
        #expect(outOfOrder.isEmpty, "\(outOfOrder.prefix(10))")
        #expect(lastSeen == ["d0": 2_500, "d1": 2_500, "d2": 2_500, "d3": 2_500])
        #expect(skipped.lines.isEmpty, "undecodable: \(skipped.lines.prefix(3))")
        // Where a loss happened, say whose it was: the producers' delivery reports, and what the
        // broker still holds when read again from the beginning.
        for (p, publisher) in publishers.enumerated() {
            #expect(publisher.flush(timeoutMs: 10_000), "publisher \(p) did not flush")
            #expect(publisher.failed == 0 && publisher.delivered == 2_500,
                    "publisher \(p): delivered \(publisher.delivered), failed \(publisher.failed): \((publisher as? KafkaProducer)?.lastDeliveryError ?? "-")")
        }
        if received.count != 10_000 {
            let again = try bus.subscribe([.metrics], from: .beginning)
            let stored = try collect(again, count: 10_000, seconds: 20)
            Issue.record("the broker holds \(stored.count) of 10000 when read again from the beginning")
        }
        let reRead = (subscription as? KafkaConsumer)?.skippedFetchesReRead ?? 0
        #expect((subscription as? KafkaConsumer)?.offsetsGivenUp == 0)
        print("FIGURE kafka throughput: 10000 metrics messages (~1 KB) from 4 producers in \(String(format: "%.2f", elapsed)) s = \(Int(10_000 / elapsed)) msg/s through Tansu (fetches that skipped offsets, read again: \(reRead))")
    }

    @Test func aPausedBrokerLosesAndDuplicatesNothingAndNeverBlocksTheProducer() throws {
        let broker = try TansuBroker()
        let bus = try KafkaBus(brokers: broker.brokers, topics: TopicNames.stampede(prefix: uniqueTopicPrefix()))
        let subscription = try bus.subscribe([.metrics], from: .end)
        let publisher = try bus.makePublisher()
        var slowest = 0.0
        var sent = 0
        let start = Date()
        var paused = false, resumed = false
        while Date().timeIntervalSince(start) < 8 {
            let elapsed = Date().timeIntervalSince(start)
            if !paused && elapsed >= 1 { broker.pause(); paused = true }
            if !resumed && elapsed >= 6 { broker.resume(); resumed = true }
            sent += 1
            let before = Date()
            try publisher.publish(.interval(IntervalMessage(driverID: "d", testID: "t", t: sent, requests: 0, responses: 0,
                                                            errors: ErrorCounts(), bytesRead: 0, histogram: "")))
            slowest = max(slowest, Date().timeIntervalSince(before))
            usleep(10_000)
        }
        #expect(publisher.flush(timeoutMs: 60_000))
        let received = try collect(subscription, count: sent, seconds: 60)
        var seen = Set<Int>()
        var duplicates = 0
        for case .interval(let m) in received { if !seen.insert(m.t).inserted { duplicates += 1 } }
        // Read a little longer: a duplicate would arrive after the originals.
        for case .interval(let m) in try collect(subscription, count: 1, seconds: 2) { if !seen.insert(m.t).inserted { duplicates += 1 } }
        #expect(seen == Set(1...sent), "missing \(Set(1...sent).subtracting(seen).count) of \(sent)")
        #expect(duplicates == 0)
        #expect(slowest < 0.05, "slowest publish call \(slowest) s")
        print("FIGURE kafka pause: \(sent) messages over 8 s with the broker stopped for 5 s: \(seen.count) delivered, \(duplicates) duplicates, slowest publish \(String(format: "%.2f", slowest * 1000)) ms")
    }

    @Test func aBrokerRestartedEmptyIsFollowedAndNothingSentSinceIsLost() throws {
        let broker = try TansuBroker()
        let repairs = LogLines()
        let bus = try KafkaBus(brokers: broker.brokers, topics: TopicNames.stampede(prefix: uniqueTopicPrefix()),
                               keepTopics: true, onTopicRepair: { repairs.append($0) })
        let subscription = try bus.subscribe([.metrics], from: .end)
        let publisher = try bus.makePublisher()
        var sent = 0
        var slowest = 0.0
        var firstAfterKill = 0
        var received: [Int] = []
        let start = Date()
        var killed = false, restarted = false
        while Date().timeIntervalSince(start) < 10 {
            let elapsed = Date().timeIntervalSince(start)
            if !killed && elapsed >= 2 { broker.kill(); killed = true; firstAfterKill = sent + 1 }
            if !restarted && elapsed >= 4 { try broker.start(); restarted = true }
            sent += 1
            let before = Date()
            try publisher.publish(.interval(IntervalMessage(driverID: "d", testID: "t", t: sent, requests: 0, responses: 0,
                                                            errors: ErrorCounts(), bytesRead: 0, histogram: "")))
            slowest = max(slowest, Date().timeIntervalSince(before))
            for case .interval(let m) in try subscription.pollMessages(timeoutMs: 0) { received.append(m.t) }
            usleep(10_000)
        }
        let deadline = Date().addingTimeInterval(30)
        while received.last != sent && Date() < deadline {
            for case .interval(let m) in try subscription.pollMessages(timeoutMs: 100) { received.append(m.t) }
        }
        // Once each, in order; everything published from the moment the broker died on arrived
        // (queued while it was down, moved to a fresh client, delivered to the re-created topic).
        #expect(received == received.sorted() && Set(received).count == received.count, "out of order or duplicated")
        let missing = Set(firstAfterKill...sent).subtracting(received)
        #expect(missing.isEmpty, "\(missing.count) of the messages sent since the kill are missing")
        #expect(slowest < 0.5, "slowest publish \(slowest) s")
        #expect(repairs.lines.contains { $0.contains("created them again") }, "\(repairs.lines)")
        print("FIGURE kafka broker restart: \(sent) messages over 10 s, broker killed at 2 s and restarted empty at 4 s: \(received.count) received, \(sent - firstAfterKill + 1 - missing.count) of \(sent - firstAfterKill + 1) sent since the kill, slowest publish \(String(format: "%.1f", slowest * 1000)) ms")
    }

    @Test func malformedMessagesAreSkippedAndTheConsumerGoesOn() throws {
        let broker = try TansuBroker()
        let bus = try KafkaBus(brokers: broker.brokers, topics: TopicNames.stampede(prefix: uniqueTopicPrefix()))
        let subscription = try bus.subscribe([.heartbeat], from: .end)
        let publisher = try bus.makePublisher()
        try publisher.publish(.heartbeat, key: "x", payload: Array("not json".utf8))
        try publisher.publish(.heartbeat, key: "x", payload: Array(#"{"type":"weird","v":1}"#.utf8))
        try publisher.publish(.heartbeat, key: "x", payload: Array(#"{"type":"heartbeat","v":2,"driver_id":"d"}"#.utf8))
        try publisher.publish(.heartbeat, key: "x", payload: Array(#"{"type":"heartbeat","v":1}"#.utf8))
        let good = BusMessage.heartbeat(HeartbeatMessage(driverID: "d", state: .idle, testID: nil, sentAtMs: 5))
        try publisher.publish(good)
        var skipped: [String] = []
        let received = try collect(subscription, count: 1, seconds: 20) { skipped.append("\($0)") }
        #expect(received == [good])
        #expect(skipped.count == 4, "\(skipped)")
        #expect(skipped.allSatisfy { $0.contains("heartbeat[0]@") })
    }
}

@Suite struct InMemoryBusTests {
    @Test func sameSemanticsWithoutABroker() throws {
        let bus = InMemoryBus(topics: .stampede())
        let publisher = try bus.makePublisher()
        try publisher.publish(sampleMessages[0])  // before anyone subscribed
        let fromEnd = try bus.subscribe(Topic.stampede, from: .end)
        let fromStart = try bus.subscribe([.register], from: .beginning)
        for m in sampleMessages { try publisher.publish(m) }
        #expect(try collect(fromEnd, count: sampleMessages.count, seconds: 1) == sampleMessages)
        #expect(try collect(fromStart, count: 2, seconds: 1) == [sampleMessages[0], sampleMessages[0]])
        #expect(try fromEnd.poll(timeoutMs: 0).isEmpty)
        // The readiness descriptor fires on publish.
        try publisher.publish(sampleMessages[1])
        var fds = pollfd(fd: fromEnd.readinessFD, events: Int16(POLLIN), revents: 0)
        #expect(poll(&fds, 1, 1000) == 1)
        #expect(try fromEnd.pollMessages(timeoutMs: 0) == [sampleMessages[1]])
    }
}

/// Lines a closure was given, from any thread.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}
