import Foundation
import Messaging
import StampedeModel
import StampedeWire
import Testing
import TestSupport

/// `IntervalReading` (the bus's reader for `interval` messages) reads every message exactly as
/// Foundation's decoder of `IntervalMessage` does, or leaves it to that decoder: never a value the
/// decoder would not give.
@Suite struct IntervalReadingTests {
    static func foundation(_ bytes: [UInt8]) -> IntervalMessage? {
        try? JSONDecoder().decode(IntervalMessage.self, from: Data(bytes))
    }

    /// A message with every field the generator can fill, some left out at random.
    static func randomInterval(_ rng: inout SeededGenerator) -> IntervalMessage {
        func n() -> Int { Int.random(in: 0...5_000, using: &rng) }
        func maybe() -> Bool { Bool.random(using: &rng) }
        func text() -> String { String((0..<Int.random(in: 0...40, using: &rng)).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/=".randomElement(using: &rng)! }) }
        func errors() -> ErrorCounts {
            var e = ErrorCounts()
            if maybe() { e.connect = n() }
            if maybe() { e.status_5xx = n() }
            if maybe() { e.check = n() }
            if maybe() { e.redirects = n() }
            return e
        }
        func codes() -> StatusCodeCounts {
            var c = StatusCodeCounts()
            for code in [200, 204, 302, 404, 503, 999] where maybe() { c.add(code, n() + 1) }
            return c
        }
        func timings() -> TimingsShare? {
            guard maybe() else { return nil }
            var t = try? JSONDecoder().decode(TimingsShare.self, from: Data("{}".utf8))
            t?.connect = maybe() ? text() : nil
            t?.waiting = maybe() ? text() : nil
            t?.receiving = maybe() ? text() : nil
            return t
        }
        func names() -> [String: NameShare]? {
            guard maybe() else { return nil }
            let all = ["home", "café ☕", "a \"quoted\" name", "line\nbreak", "😀 emoji", "/path?x=1&y=2", ""]
            var shares: [String: NameShare] = [:]
            for name in all where maybe() {
                var figures = NamedFigures(name: name)
                figures.counters.requests = n()
                figures.counters.responses = n()
                figures.counters.errors = errors()
                figures.counters.statusCodes = codes()
                var share = NameShare(figures, timed: false)
                share.histogram = text()
                share.timings = timings()
                share.sessionFailures = maybe() ? errors() : nil
                share.checkFailures = maybe() ? CheckFailures(status: n(), body: n()) : nil
                shares[name] = share
            }
            return shares
        }
        var m = IntervalMessage(driverID: "driver-\(n())", testID: "t\(n())", t: n() + 1, requests: n(), responses: n(),
                                errors: errors(), bytesRead: n(), histogram: text(), part: maybe() ? n() + 1 : nil, retriedStale: n())
        m.cookiesDropped = maybe() ? n() : nil
        m.unsent = maybe() ? n() : nil
        m.checkFailures = maybe() ? CheckFailures(status: n(), body: n()) : nil
        m.statusCodes = maybe() ? codes() : nil
        m.byName = names()
        m.connections = maybe() ? n() : nil
        m.targetRate = maybe() ? Double(n()) / 7 : nil
        m.targetConnections = maybe() ? Double(n()) * 1e-3 : nil
        m.timings = timings()
        if maybe() {
            var counts = SessionCounts()
            counts.started = n(); counts.completed = n(); counts.failures = errors()
            var share = SessionShare(counts: counts, histograms: SessionHistograms())
            share.durationHistogram = text()
            share.startDelayHistogram = maybe() ? text() : nil
            m.sessions = share
        }
        if maybe() {
            var scenarios: [String: ScenarioShare] = [:]
            for name in ["browse", "buy"] where maybe() {
                var s = ScenarioShare(second: Figures())
                s.requests = n(); s.errors = errors(); s.histogram = text(); s.byName = names(); s.timings = timings()
                s.targetRate = maybe() ? Double(n()) : nil
                s.statusCodes = maybe() ? codes() : nil
                scenarios[name] = s
            }
            m.scenarios = scenarios
        }
        return m
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func everyMessageAsTheBusCarriesItIsReadAsFoundationReadsIt(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let message = Self.randomInterval(&rng)
            let bytes = BusMessage.interval(message).encoded()
            guard case .interval(let read) = IntervalReading.read(bytes) else {
                Issue.record("not read: \(IntervalReading.read(bytes)) \(String(decoding: bytes, as: UTF8.self))")
                return
            }
            #expect(read == message)
            #expect(read == Self.foundation(bytes))
            // And with Foundation's own spelling (every error kind, unsorted keys, escaped slashes).
            let plain = [UInt8](try JSONEncoder().encode(message))
            #expect(IntervalReading.read(plain) == .interval(message))
        }
    }

    @Test func whatJSONAllowsIsReadAlike() {
        let forms = [
            #"  {"type" : "interval" ,"v":1,"driver_id":"d\u00e9\ud83d\ude00","test_id":"t\/1","t":1,"requests":0,"responses":-0,"errors":{"read":null,"unknown":[1,{"x":[]}]},"bytes_read":10,"histogram":"","retried_stale":null,"target_rate":1.5e2,"extra":{"a":[true,false,null,"s",-1.25E-3]}}  "#,
            #"{"type":"interval","v":0,"driver_id":"","test_id":"","t":7,"requests":1,"responses":1,"errors":{},"bytes_read":0,"histogram":"x","timings":{},"by_name":{"\u0061":{"requests":1,"responses":1,"errors":{},"status_codes":{"200":1},"histogram":"","timings":null}}}"#,
        ]
        for form in forms {
            let bytes = Array(form.utf8)
            guard case .interval(let read) = IntervalReading.read(bytes) else { Issue.record("not read: \(form)"); continue }
            #expect(read == Self.foundation(bytes), "\(form)")
        }
    }

    @Test(arguments: [
        // Stricter than Foundation: refused once `type` and `v` are known.
        (#"{"type":"interval","v":1,"t":1.0}"#, "'t': expected an integer, not a fraction"),
        (#"{"type":"interval","v":1,"type":"interval"}"#, "'type' given twice"),
        (#"{"type":"interval","v":1,"status_codes":{"abc":1}}"#, "'status_codes.abc': not a status code"),
        (#"{"type":"interval","v":1,"x":"\ud800"}"#, "'x': a lone surrogate"),
        (#"{"type":"interval","v":1,"x":1e999}"#, "'x': a number beyond a Double"),
        (#"{"type":"interval","v":1} x"#, "unexpected bytes after the message"),
        (#"{"type":"interval","v":1,"x":"#, "'x': expected a number"),
        (#"{"type":"interval","v":1,"x":"#.appending(String(repeating: "[", count: 100)), "nested deeper than 64"),
        (#"{"type":"interval","v":1,"t":99999999999999999999}"#, "'t': an integer beyond"),
        (#"{"type":"interval","v":1,"driver_id":"d"}"#, "no 'test_id'"),
        (#"{"type":"interval","v":1,"by_name":{"a":{"requests":1}}}"#, "'by_name.a': no 'responses'"),
    ])
    func malformedIntervalsSayWhereAndWhat(json: String, problem: String) {
        guard case .malformed(let reason) = IntervalReading.read(Array(json.utf8)) else {
            Issue.record("\(IntervalReading.read(Array(json.utf8))) for \(json)")
            return
        }
        #expect(reason.contains(problem), "\(reason)")
    }

    @Test func otherTypesNewerVersionsAndEarlyFailuresAreLeftToTheDecoder() {
        for json in [#"{"type":"heartbeat","v":1,"driver_id":"d","state":"idle","test_id":null,"sent_at_ms":1}"#,
                     #"{"type":"interval","v":2,"t":"a newer meaning"}"#,
                     #"{"t":1.5,"type":"interval","v":1}"#,
                     #"{"type":"interval"}"#, "[]", "", "\u{FF}"] {
            guard case .notThisReader = IntervalReading.read(Array(json.utf8)) else { Issue.record("read: \(json)"); continue }
        }
        let newer = BusRecord(topic: .metrics, partition: 0, offset: 3, key: "d", payload: Array(#"{"type":"interval","v":2,"t":"x"}"#.utf8))
        guard case .failure(.newerVersion(_, let v)) = BusMessage.decode(newer) else { Issue.record("newer version decoded"); return }
        #expect(v == 2)
    }

    /// Keys sorted as drivers send them put `type` and `v` last: what the reader refuses before
    /// them is refused all the same once the decoder says it is an interval.
    @Test func anIntervalIsHeldToTheReaderWhateverItsKeysOrder() {
        let fair = #""driver_id":"d","test_id":"t","t":1,"requests":1,"responses":1,"errors":{},"bytes_read":0,"histogram":"""#
        let names = #""by_name":{"a":{"requests":1,"responses":1,"errors":{},"status_codes":{"abc":1},"histogram":""}}"#
        for (json, problem) in [("{\"requests\":1,\(fair),\"type\":\"interval\",\"v\":1}", "'requests' given twice"),
                                ("{\(names),\(fair),\"type\":\"interval\",\"v\":1}", "'by_name.a.status_codes.abc': not a status code")] {
            let record = BusRecord(topic: .metrics, partition: 0, offset: 3, key: "d", payload: Array(json.utf8))
            guard case .failure(.malformed(_, let reason)) = BusMessage.decode(record) else { Issue.record("decoded: \(json)"); continue }
            #expect(reason.contains(problem), "\(reason)")
        }
        let heartbeat = #"{"driver_id":"d","state":"idle","test_id":null,"sent_at_ms":1,"type":"heartbeat","v":1}"#
        guard case .success(.heartbeat) = BusMessage.decode(BusRecord(topic: .heartbeat, partition: 0, offset: 0, key: "d", payload: Array(heartbeat.utf8))) else {
            Issue.record("a heartbeat refused")
            return
        }
    }

    /// Bytes of real messages changed at random: whatever the reader reads, Foundation reads the
    /// same (the fuzz target `bus-message` checks this too, for as long as it runs).
    @Test func damagedMessagesAreNeverReadDifferently() {
        var rng = SeededGenerator(seed: 41)
        var read = 0
        for _ in 0..<3_000 {
            var bytes = BusMessage.interval(Self.randomInterval(&rng)).encoded()
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: at)
                default: bytes.insert(Array(#"{}[]",:0-e.\n"#.utf8).randomElement(using: &rng)!, at: at)
                }
            }
            if case .interval(let m) = IntervalReading.read(bytes) {
                read += 1
                #expect(m == Self.foundation(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(read > 100, "only \(read) damaged messages still read: the comparison proves little")
    }
}
