import Patterns
import Sessions
import StampedeModel
import Testing

/// Captures and think times, in memory.
@Suite struct CaptureTests {
    func find(_ path: String, _ json: String) throws -> String? {
        let p = try JSONPath(path)
        return Array(json.utf8).withUnsafeBytes { p.find(in: $0) }
    }

    @Test func jsonPathsOfKeysAndIndices() throws {
        let doc = #"{"data": {"items": [{"id": 7, "name": "a\"b"}, {"id": 8}], "ok": true, "none": null}, "csrf": "t\u00e9k"}"#
        #expect(try find("data.items[0].id", doc) == "7")
        #expect(try find("data.items[1].id", doc) == "8")
        #expect(try find("data.items[0].name", doc) == "a\"b")
        #expect(try find("csrf", doc) == "ték")
        #expect(try find("data.ok", doc) == "true")
        #expect(try find("data.items[1]", doc) == #"{"id": 8}"#)
        #expect(try find("data.items[2].id", doc) == nil)
        #expect(try find("data.none", doc) == nil)
        #expect(try find("missing", doc) == nil)
        #expect(try find("[1]", "[10, 20]") == "20")
        // A key written with escapes is the key it spells.
        #expect(try find("é.b", #"{"\u00e9": {"a": 1, "b": [2]}}"#) == "[2]")
        // Cut off by capture_bytes: what lies before the cut is found, nothing after it.
        #expect(try find("a", #"{"a": "x", "b": "yyyy"#) == "x")
        #expect(try find("b", #"{"a": "x", "b": "yyyy"#) == nil)
        #expect(try find("n", #"{"n": 12"#) == nil)
    }

    @Test func malformedPathsAreRefusedNamingTheProblem() {
        for bad in ["", "a.", "a..b", "a[x]", "a[1", ".a", "a[0]b"] {
            #expect(throws: CaptureError.self, "\(bad)") { try JSONPath(bad) }
        }
    }

    @Test func rulesRefuseUnknownKindsBadRegexesAndNames() {
        #expect(throws: CaptureError.unknownKind("xpath")) { try CaptureRule(variable: "v", kind: "xpath", argument: "//a") }
        #expect(throws: CaptureError.self) { try CaptureRule(variable: "v", kind: "regex", argument: "id=([0-9]+") }
        #expect(throws: CaptureError.badVariableName("1v")) { try CaptureRule(variable: "1v", kind: "header", argument: "Location") }
        #expect(throws: CaptureError.emptyArgument("header")) { try CaptureRule(variable: "v", kind: "header", argument: "") }
    }

    @Test func eachKindCapturesAndAMissWithoutDefaultFailsTheSession() throws {
        let runner = CaptureRunner([
            try CaptureRule(variable: "csrf", kind: "json", argument: "csrf"),
            try CaptureRule(variable: "next", kind: "header", argument: "Location"),
            try CaptureRule(variable: "id", kind: "regex", argument: "id=([0-9]+)"),
            try CaptureRule(variable: "all", kind: "regex", argument: "[a-z]+=[0-9]+"),
            try CaptureRule(variable: "sid", kind: "cookie", argument: "sid"),
            try CaptureRule(variable: "opt", kind: "json", argument: "nothing", defaultValue: "fallback"),
        ])
        var jar = CookieJar()
        jar.store(setCookie: "sid=s-42", host: "shop.test", path: "/", now: 0)
        let body = Array(#"{"csrf": "tok", "link": "/item?id=314"}"#.utf8)
        var vars: [String: String] = [:]
        let failed = body.withUnsafeBytes { bytes in
            runner.run(ResponseView(names: ["set-cookie", "location"], values: [(1, Array("/account".utf8))], body: bytes),
                       jar: jar, host: "shop.test") { k, v in vars[runner.rules[k].variable] = v }
        }
        #expect(failed == nil)
        #expect(vars == ["csrf": "tok", "next": "/account", "id": "314", "all": "id=314", "sid": "s-42", "opt": "fallback"])

        let strict = CaptureRunner([try CaptureRule(variable: "csrf", kind: "json", argument: "csrf")])
        var none: [String: String] = [:]
        let missing = Array("<html>".utf8).withUnsafeBytes {
            strict.run(ResponseView(names: [], values: [], body: $0), jar: jar, host: "shop.test") { k, v in none[strict.rules[k].variable] = v }
        }
        #expect(missing == "csrf" && none.isEmpty)
    }

    @Test func thinkTimesParseValidateAndSample() throws {
        #expect(try ThinkTime(parsing: "250") == .fixed(ms: 250))
        #expect(try ThinkTime(parsing: "100-300") == .uniform(minMs: 100, maxMs: 300))
        #expect(throws: ThinkTime.Problem.inverted(300, 100)) { try ThinkTime(parsing: "300-100") }
        #expect(throws: ThinkTime.Problem.negative(-5)) { try ThinkTime(parsing: "-5") }
        #expect(throws: ThinkTime.Problem.self) { try ThinkTime(parsing: "soon") }
        #expect(throws: ThinkTime.Problem.self) { try ThinkTime.exponential(meanMs: -1).validated() }
        var random = SystemRandomNumberGenerator()
        #expect(ThinkTime.fixed(ms: 250).sampleNs(&random) == 250_000_000)
        for _ in 0..<1000 {
            let ns = ThinkTime.uniform(minMs: 100, maxMs: 300).sampleNs(&random)
            #expect((100_000_000...300_000_000).contains(ns))
        }
        let samples = (0..<20_000).map { _ in Double(ThinkTime.exponential(meanMs: 100).sampleNs(&random)) / 1e6 }
        let mean = samples.reduce(0, +) / Double(samples.count)
        #expect(abs(mean - 100) < 5, "mean \(mean)")
    }
}
