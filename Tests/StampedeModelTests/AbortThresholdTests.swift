import Foundation
import StampedeModel
import StampedeWire
import Testing

/// `abort_on_fail` as the CLI and the REST API write it, refused where it cannot work.
@Suite struct AbortThresholdTests {
    @Test func theCommandLineForm() throws {
        let plain = try Threshold(parsing: "p99_ms=500")
        #expect(!plain.abortOnFail && plain.delayAbortEvalS == 0)
        let abort = try Threshold(parsing: "p99_ms=500,abort")
        #expect(abort.abortOnFail && abort.delayAbortEvalS == 0 && abort.value == 500)
        let later = try Threshold(parsing: "checkout:error_rate=0.01,abort-after=1m")
        #expect(later.abortOnFail && later.delayAbortEvalS == 60 && later.scope == "checkout")
        #expect(try Threshold(parsing: "p99_ms=5,abort-after=500ms").delayAbortEvalS == 0.5)
        for (text, reason) in [("p99_ms=500,stop", "give ',abort' or ',abort-after=DURATION'"),
                               ("p99_ms=500,abort-after=soon", "give ',abort' or ',abort-after=DURATION'"),
                               ("min_rps=10,abort", "min_rps is only known at the test's end"),
                               ("unsent_rate=0.1,abort", "unsent_rate is only known at the test's end")] {
            #expect(throws: ConfigError.self, "\(text)") { try Threshold(parsing: text) }
            do { _ = try Threshold(parsing: text) } catch { #expect(error.reason.contains(reason), "\(text): \(error.reason)") }
        }
    }

    @Test func theRestFormAndItsRefusals() throws {
        let config = try TestConfig(json: Array(#"""
            {"target": "http://127.0.0.1:1/", "duration_s": 30,
             "thresholds": {"p99_ms": 500, "error_rate": {"limit": 0.01, "abort_on_fail": true, "delay_abort_eval_s": 10}}}
            """#.utf8)) { "t" }
        let rate = try #require(config.thresholds.first { $0.name == .error_rate })
        #expect(rate.abortOnFail && rate.delayAbortEvalS == 10 && rate.value == 0.01)
        // A config built from flags (`--dry-run`, `stampede run`) writes the object form, which reads back the same.
        let written = TestConfig.json(testID: "t", load: config.load, drivers: nil, thresholds: config.thresholds).text
        let again = try TestConfig(json: Array(written.utf8)) { "t" }
        #expect(again.thresholds.sorted { $0.key < $1.key } == config.thresholds.sorted { $0.key < $1.key }, "\(written)")
        #expect(written.contains("abort_on_fail"), "\(written)")
        let cases: [(String, String, String)] = [
            (#"{"p99_ms": {"limit": 5, "abort": true}}"#, "thresholds.p99_ms.abort", "unknown field"),
            (#"{"p99_ms": {"abort_on_fail": true}}"#, "thresholds.p99_ms.limit", "is required"),
            (#"{"p99_ms": {"limit": 5, "abort_on_fail": "yes"}}"#, "thresholds.p99_ms.abort_on_fail", "must be true or false"),
            (#"{"p99_ms": {"limit": 5, "delay_abort_eval_s": 3}}"#, "thresholds.p99_ms.delay_abort_eval_s", "applies with abort_on_fail"),
            (#"{"p99_ms": {"limit": 5, "abort_on_fail": true, "delay_abort_eval_s": -1}}"#, "thresholds.p99_ms.delay_abort_eval_s", "0...86400"),
            (#"{"min_rps": {"limit": 5, "abort_on_fail": true}}"#, "thresholds.min_rps.abort_on_fail", "only known at the test's end"),
            (#"{"p99_ms": {"limit": 5, "abort_on_fail": true, "delay_abort_eval_s": 30}}"#, "thresholds", "not before the test's end"),
            (#"{"p99_ms": "5"}"#, "thresholds", "must be a number, or an object"),
        ]
        for (thresholds, field, reason) in cases {
            do {
                _ = try TestConfig(json: Array(#"{"target": "http://127.0.0.1:1/", "duration_s": 30, "thresholds": \#(thresholds)}"#.utf8)) { "t" }
                Issue.record("accepted: \(thresholds)")
            } catch {
                #expect(error.field == field && error.reason.contains(reason), "\(thresholds): \(error)")
            }
        }
    }
}
