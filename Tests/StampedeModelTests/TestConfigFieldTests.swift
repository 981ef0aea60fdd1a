import StampedeWire
import Testing

/// Every way a TestConfig can be wrong, refused by `TestConfig(json:)` with the status and the
/// field the API answers with (APITests checks a few of them over HTTP).
@Suite struct TestConfigFieldTests {
    static let cases: [(body: String, status: Int, field: String)] = [
        ("{not json", 400, "body"),
        ("[1, 2]", 400, "body"),
        (#"{"message_count_per_driver": 10}"#, 400, "target"),
        (#"{"target": 5, "message_count_per_driver": 10}"#, 400, "target"),
        (#"{"target": "ftp://x/", "message_count_per_driver": 10}"#, 400, "target"),
        (#"{"target": "http://127.0.0.1:1/"}"#, 400, "message_count_per_driver"),
        (#"{"target": "http://127.0.0.1:1/", "message_count_per_driver": 10, "duration_s": 5}"#, 400, "duration_s"),
        (#"{"target": "http://127.0.0.1:1/", "message_count_per_driver": "10"}"#, 400, "message_count_per_driver"),
        (#"{"target": "http://127.0.0.1:1/", "message_count_per_driver": 1.5}"#, 400, "message_count_per_driver"),
        (#"{"target": "http://127.0.0.1:1/", "message_count_per_driver": 0}"#, 400, "message_count_per_driver"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": -1}"#, 400, "duration_s"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "connections": 0}"#, 400, "connections"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "connections": 100001}"#, 400, "connections"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "test_type": "EARTHQUAKE"}"#, 400, "test_type"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "test_type": "TSUNAMI"}"#, 400, "test_message_delay"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "test_type": "AVALANCHE", "rate": 10}"#, 400, "rate"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "test_type": "TSUNAMI", "rate": 10, "test_message_delay": 5}"#, 400, "rate"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "timeout_ms": 0}"#, 400, "timeout_ms"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "headers": {"X": 1}}"#, 400, "headers"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "headers": "X: 1"}"#, 400, "headers"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "method": "GE T"}"#, 400, "method"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "thresholds": {"p98_ms": 5}}"#, 400, "thresholds"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "test_id": "../etc"}"#, 400, "test_id"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "colour": "red"}"#, 400, "colour"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "drivers": 0}"#, 400, "drivers"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "cookies": "sometimes"}"#, 400, "cookies"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "cookies": true}"#, 400, "cookies"),
    ]

    @Test(arguments: cases.indices) func refusedNamingTheField(_ index: Int) {
        let (body, status, field) = Self.cases[index]
        do {
            _ = try TestConfig(json: Array(body.utf8)) { "generated" }
            Issue.record("accepted: \(body)")
        } catch {
            #expect(error.status == status, "\(body)")
            #expect(error.field == field, "\(body): \(error)")
            #expect(!error.description.isEmpty)
        }
    }

    @Test func aValidConfigIsAccepted() throws {
        let config = try TestConfig(json: Array(#"{"test_id": "ok-1", "target": "http://127.0.0.1:1/", "duration_s": 1}"#.utf8)) { "generated" }
        #expect(config.testID == "ok-1")
        #expect(config.load.cookies == .session)
        let kept = try TestConfig(json: Array(#"{"target": "http://127.0.0.1:1/", "duration_s": 1, "cookies": "keep"}"#.utf8)) { "g" }
        #expect(kept.load.cookies == .keep)
        // And on to the drivers: the bus spec carries it, and `json()` (GET /tests, test.json) too.
        #expect(try TestSpec(kept.load).loadSpec(defaultThreads: 1).cookies == .keep)
    }
}
