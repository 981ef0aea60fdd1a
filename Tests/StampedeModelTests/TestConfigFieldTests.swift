import Foundation
import StampedeWire
import Testing
import TestSupport

/// Why `TestConfig(json:)` refuses `body`; nil (and a recorded issue) when it accepts it.
func refusal(_ body: String) -> FieldError? {
    do {
        _ = try TestConfig(json: Array(body.utf8)) { "generated" }
        Issue.record("accepted: \(body)")
        return nil
    } catch { return error }
}

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
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "capture_bytes": 0}"#, 400, "capture_bytes"),
        (#"{"duration_s": 5, "requests": [{"url": "ftp://x/"}]}"#, 400, "requests[0].url"),
    ]

    @Test(arguments: cases.indices) func refusedNamingTheField(_ index: Int) {
        let (body, status, field) = Self.cases[index]
        guard let error = refusal(body) else { return }
        #expect(error.status == status, "\(body)")
        #expect(error.field == field, "\(body): \(error)")
        #expect(!error.description.isEmpty)
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

/// Sessions' settings refused before any load, naming the entry and its field.
@Suite struct SessionFieldTests {
    static func config(_ requests: String, _ extra: String = #""order": "sequence""#) -> String {
        #"{"duration_s": 5, \#(extra), "requests": \#(requests)}"#
    }
    static let login = #"{"url": "http://127.0.0.1:1/login", "capture": {"csrf": {"json": "csrf"}}}"#

    static let cases: [(body: String, field: String, says: String)] = [
        (config(#"[{"url": "http://127.0.0.1:1/a", "headers": {"X": "{{var.csrf}}"}}]"#), "requests[0].headers", "no earlier request"),
        (config("[\(login), {\"url\": \"http://127.0.0.1:1/b?t={{var.token}}\"}]"), "requests[1].url", "captured before this one: csrf"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "capture": {"x": {"xpath": "//a"}}}]"#), "requests[0].capture.x.xpath", "unknown capture kind"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "capture": {"x": {"json": "a..b"}}}]"#), "requests[0].capture.x.json", "empty key"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "capture": {"x": {"regex": "id=([0-9]+"}}}]"#), "requests[0].capture.x.regex", "does not compile"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "capture": {"x": {"json": "a", "header": "B"}}}]"#), "requests[0].capture.x", "exactly one"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "think_ms": -5}]"#), "requests[0].think_ms", "negative"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "think_ms": [300, 100]}]"#), "requests[0].think_ms", "MIN must not exceed MAX"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "think_ms": {"mean": 5}}]"#), "requests[0].think_ms", "exponential"),
        (config("[\(login)]", #""order": "random""#), "requests[0].capture", "order sequence"),
        (config(#"[{"url": "http://127.0.0.1:1/a", "think_ms": 5}]"#, #""order": "sequence", "test_type": "TSUNAMI", "rate": 5"#),
         "requests[0].think_ms", "tsunami"),
        (config("[\(login), {\"url\": \"http://127.0.0.1:1/b\", \"body\": \"{{var.csrf|html}}\"}]"), "requests[1].body", "unknown filter"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""order": "sequence", "follow_redirects": 21"#), "follow_redirects", "0...20"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""order": "sequence", "session_rate": 5"#), "session_rate", "tsunami"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""test_type": "TSUNAMI", "session_rate": 5"#), "session_rate", "order: sequence"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""order": "sequence", "test_type": "TSUNAMI", "session_rate": 5, "rate": 5"#),
         "session_rate", "not both"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""order": "sequence", "test_type": "TSUNAMI", "session_rate": true"#),
         "session_rate", "stages or a search"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""order": "sequence", "test_type": "TSUNAMI", "session_rate": "fast""#),
         "session_rate", "sessions per second"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""order": "sequence", "test_type": "TSUNAMI", "session_rate": 0"#),
         "session_rate", "sessions/s"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""order": "sequence", "cookies": "always""#), "cookies", "session, keep or off"),
        (config(#"[{"url": "http://127.0.0.1:1/a"}]"#, #""thresholds": {"session_p99_ms": 100}"#), "thresholds", "order: sequence"),
        (config(#"[{"url": "http://127.0.0.1:1/a?s={{session}}"}]"#, #""order": "random""#), "requests[0].url", "{{session}}"),
        (config(#"[{"name": "home", "url": "http://127.0.0.1:1/a"}]"#, #""thresholds": {"checkout:p99_ms": 10}"#), "thresholds", "no request is named 'checkout'"),
        (config(#"[{"name": "home", "url": "http://127.0.0.1:1/a"}]"#, #""thresholds": {"home:unsent_rate": 0.1}"#), "thresholds", "whole-test figure"),
    ]

    @Test(arguments: cases.indices) func refusedNamingTheEntry(_ index: Int) {
        let (body, field, says) = Self.cases[index]
        guard let error = refusal(body) else { return }
        #expect(error.field == field, "\(body): \(error)")
        #expect(error.reason.contains(says), "\(error)")
    }

    /// A journey that captures and uses its values is accepted and keeps them on the way to the
    /// drivers (the bus carries the list as JSON).
    @Test func aJourneyRoundTrips() throws {
        let body = Self.config("[\(Self.login), {\"url\": \"http://127.0.0.1:1/b?t={{var.csrf|url}}\", \"think_ms\": [100, 200]}]")
        let config = try TestConfig(json: Array(body.utf8)) { "g" }
        let again = try TestSpec(config.load).loadSpec(defaultThreads: 1)
        #expect(again.requests.map(\.captures) == config.load.requests.map(\.captures))
        #expect(again.requests[1].thinkTime == .uniform(minMs: 100, maxMs: 200))
        #expect(again.requests[0].captures.first?.variable == "csrf")
    }

    /// The open model and redirects reach the drivers unchanged: the session rate split over the
    /// drivers, still pacing sessions; the stages' targets as sessions per second.
    @Test func sessionRateAndRedirectsRoundTrip() throws {
        let body = Self.config("[\(Self.login), {\"url\": \"http://127.0.0.1:1/b\", \"think_ms\": 50}]",
                               #""order": "sequence", "test_type": "TSUNAMI", "session_rate": 40, "follow_redirects": 3"#)
        let config = try TestConfig(json: Array(body.utf8)) { "g" }
        #expect(config.load.pacesSessions && config.load.followRedirects == 3)
        let share = try config.spec(driverCount: 2).loadSpec(defaultThreads: 1)
        #expect(share.pacesSessions && share.pacing == .rate(20) && share.followRedirects == 3)
        let staged = #"{"order": "sequence", "test_type": "TSUNAMI", "session_rate": true, "stages": [{"duration_s": 2, "target": 10}], "requests": [{"url": "http://127.0.0.1:1/a"}]}"#
        let stagedConfig = try TestConfig(json: Array(staged.utf8)) { "g" }
        #expect(stagedConfig.load.pacesSessions && stagedConfig.load.stages != nil)
        guard case .object(let written) = TestConfig.json(testID: "g", load: stagedConfig.load, drivers: nil, thresholds: []) else {
            Issue.record("not an object"); return
        }
        #expect(written["session_rate"] == .bool(true) && written["rate"] == nil)
        // A capacity search in sessions per second.
        let search = #"{"order": "sequence", "test_type": "SEARCH", "session_rate": true, "slo": {"session_p99_ms": 500}, "requests": [{"url": "http://127.0.0.1:1/a"}]}"#
        let searchConfig = try TestConfig(json: Array(search.utf8)) { "g" }
        #expect(searchConfig.load.pacesSessions && searchConfig.search?.slo.first?.name == .session_p99_ms)
    }

    /// docs/rest-api.md names every TestConfig field, docs/sessions.md the session ones.
    @Test func everyFieldIsDocumented() throws {
        let rest = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/rest-api.md"), encoding: .utf8)
        for field in TestConfigField.allCases { #expect(rest.contains("`\(field.rawValue)`"), "docs/rest-api.md lacks \(field.rawValue)") }
        let scenarios = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/scenarios.md"), encoding: .utf8)
        for name in TestConfigField.scenarioFields.map(\.rawValue) + ["{{scenario}}", "Tag=scenario.NAME", "stampede validate", "--sessions",
                                                                     "scenarios.NAME.driver_selector", "NAME/p99_ms"] {
            #expect(scenarios.contains(name), "docs/scenarios.md lacks \(name)")
        }
        let sessions = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/sessions.md"), encoding: .utf8)
        for name in ["capture", "think_ms", "cookies", "follow_redirects", "session_rate", "capture_bytes", "{{session}}", "{{var.NAME|url}}",
                     "start_delay_us", "duration_us", "active_us", "dropped", "interrupted", "session_p99_ms", "session_error_rate",
                     "sessions_started", "Tag=session", "NAME redirect", "errors.redirects"] {
            #expect(sessions.contains(name), "docs/sessions.md lacks \(name)")
        }
    }
}
