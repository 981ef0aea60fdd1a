import Foundation
import Messaging
import StampedeModel
import StampedeWire
import Testing

/// What arrives from outside (a bus message, a data file) is checked before it is used: out of
/// range is refused by field, sums that do not fit are refused, and validation is linear.
@Suite struct HostileInputTests {
    static func record(_ json: String) -> BusRecord {
        BusRecord(topic: .metrics, partition: 0, offset: 7, key: "d1", payload: Array(json.utf8))
    }

    static func interval(requests: String = "5", t: String = "1", errors: String = "{}", extra: String = "") -> String {
        """
        {"type":"interval","v":1,"driver_id":"d1","test_id":"t1","t":\(t),"requests":\(requests),"responses":5,\
        "errors":\(errors),"bytes_read":10,"histogram":""\(extra)}
        """
    }

    @Test func anIntervalWithAnOverflowingCountIsSkippedNamingTheField() {
        guard case .failure(let error) = BusMessage.decode(Self.record(Self.interval(requests: "9223372036854775807"))) else {
            Issue.record("decoded")
            return
        }
        #expect("\(error)".contains("'requests'") && "\(error)".contains("metrics[0]@7") && "\(error)".contains("d1"), "\(error)")
        guard case .success = BusMessage.decode(Self.record(Self.interval())) else { Issue.record("a fair interval refused"); return }
    }

    @Test(arguments: [
        (interval(t: "0"), "'t'"),
        (interval(t: "99999999"), "'t'"),
        (interval(requests: "-1"), "'requests'"),
        (interval(extra: #","status_codes":{"200":9223372036854775807}"#), "'status_codes.200'"),
        (interval(errors: #"{"read":-4}"#), "'errors.read'"),
        (interval(extra: #","status_codes":{"200":-3}"#), "'status_codes'"),
        (interval(extra: #","status_codes":{"999":68719476737}"#), "'status_codes.999'"),
        (interval(extra: #","check_failures":{"status":-1,"body":0}"#), "'check_failures.status'"),
        (interval(extra: #","sessions":{"counts":{"started":1,"completed":-1,"dropped":0,"interrupted":0,"failures":{}},"duration_histogram":"","active_histogram":""}"#), "'sessions.completed'"),
        (interval(extra: #","scenarios":{"buy":{"requests":1,"responses":0,"errors":{},"bytes_read":0,"histogram":"","by_name":{"a":{"requests":1,"responses":0,"errors":{"timeout":-2},"status_codes":{},"histogram":""}}}}"#),
         "'scenarios.buy.by_name.a.errors.timeout'"),
        (interval(extra: #","part":0"#), "'part'"),
        (interval(extra: #","target_rate":1e300"#), "'target_rate'"),
        (interval(extra: #","by_name":{"a":{"requests":1099511627776000,"responses":0,"errors":{},"status_codes":{},"histogram":""}}"#),
         "'by_name.a.requests'"),
        (interval(extra: #","scenarios":{"buy":{"requests":9223372036854775807,"responses":0,"errors":{},"bytes_read":0,"histogram":""}}"#),
         "'scenarios.buy.requests'"),
        (interval(extra: #","scenarios":{"buy":{"requests":1,"responses":0,"errors":{},"bytes_read":0,"histogram":"","target_rate":-1}}"#),
         "'scenarios.buy.target_rate'"),
    ])
    func everyCountedFieldHasARange(json: String, field: String) {
        guard case .failure(let error) = BusMessage.decode(Self.record(json)) else { Issue.record("decoded: \(json)"); return }
        #expect("\(error)".contains(field), "\(error)")
    }

    @Test func countersThatDoNotFitAreRefusedNotTrapped() throws {
        var big = LoadCounters()
        big.requests = Int.max - 1
        var one = LoadCounters()
        one.requests = 2
        #expect(throws: CounterOverflow(field: "requests")) { try big.adding(one) }
        var codes = LoadCounters()
        codes.statusCodes.add(200, Int.max)
        var more = LoadCounters()
        more.statusCodes.add(200, 1)
        #expect(throws: CounterOverflow(field: "status_codes.200")) { try codes.adding(more) }
        var errors = LoadCounters()
        errors.errors.read = Int.max / 2 + 1
        errors.errors.write = Int.max / 2 + 1
        #expect(throws: CounterOverflow.self) { try LoadCounters().adding(errors) }
        one.statusCodes.add(404, 3)
        #expect(try LoadCounters().adding(one).adding(one) == one + one)
    }

    @Test func aHundredThousandColumnCSVIsRefusedQuickly() {
        let header = (0..<100_000).map { "c\($0)" }.joined(separator: ",")
        let row = (0..<100_000).map { _ in "1" }.joined(separator: ",")
        let started = Date()
        #expect(throws: TemplateError.self) { try CSVData(parsing: header + "\n" + row + "\n") }
        #expect(Date().timeIntervalSince(started) < 1, "\(Date().timeIntervalSince(started)) s")
        // At the limit, accepted, duplicates still found (in linear time).
        let names = (0..<CSVData.maxColumns).map { "c\($0)" }
        let ones = Array(repeating: "1", count: names.count).joined(separator: ",")
        #expect((try? CSVData(parsing: names.joined(separator: ",") + "\n" + ones + "\n"))?.columns.count == CSVData.maxColumns)
        let twice = names.dropLast() + ["c7"]
        #expect(throws: TemplateError("line 1: column 'c7' is named twice")) {
            try CSVData(parsing: twice.joined(separator: ",") + "\n" + ones + "\n")
        }
    }

    @Test(arguments: [
        (#"{"duration_s": 1, "duration_s": "x", "target": "http://127.0.0.1:1/"}"#, "duration_s"),
        (#"{"duration_s": 1, "requests": [{"url": "http://127.0.0.1:1/"}, {"url": "http://127.0.0.1:1/b", "headers": {"X": "1", "Y": "\"", "X": "2"}}]}"#,
         "requests[1].headers.X"),
    ])
    func aNameGivenTwiceIsRefusedNamingIt(json: String, field: String) {
        do {
            _ = try TestConfig(json: Array(json.utf8)) { "t" }
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.field == field && error.reason.contains("twice"), "\(error)")
        }
        // The same names in different objects are not duplicates.
        #expect((try? TestConfig(json: Array(#"{"duration_s": 1, "requests": [{"name": "a", "url": "http://127.0.0.1:1/"}, {"name": "b", "url": "http://127.0.0.1:1/b"}]}"#.utf8)) { "t" }) != nil)
    }

    @Test func anUnusualStatusIsCountedUnderItsCode() {
        var c = LoadCounters()
        c.statusCodes.record(999)
        c.statusCodes.record(200)
        var d = c
        d.statusCodes.record(999)
        #expect((c + d).statusCodes.byCode == ["999": 3, "200": 2])
        #expect(c.statusCodes.count(999) == 1 && !c.statusCodes.isEmpty)
    }
}
