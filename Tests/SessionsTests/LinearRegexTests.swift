import Foundation
import Patterns
import Sessions
import StampedeModel
import Testing

/// The capture regex engine: Perl's leftmost-first choice of match, and time linear in the input
/// whatever the pattern (the patterns that make a backtracking engine explode included).
@Suite struct LinearRegexTests {
    static func match(_ pattern: String, _ text: String) throws -> [String?]? {
        try LinearRegex(pattern).firstMatch(in: text)?.map { $0.map(String.init) }
    }

    @Test(arguments: [
        ("id=([0-9]+)", "x id=42&id=7", ["id=42", "42"]),
        ("[a-z]+=[0-9]+", "AB cd=12", ["cd=12"]),
        (#"name="csrf" value="([^"]*)""#, #"<input name="csrf" value="a1B2-c3"/>"#, [#"name="csrf" value="a1B2-c3""#, "a1B2-c3"]),
        ("a.*b", "xaxbxb", ["axbxb"]),  // greedy
        ("a.*?b", "xaxbxb", ["axb"]),  // lazy
        ("(a|ab)(c|bcd)", "abcd", ["abcd", "a", "bcd"]),  // leftmost-first, as Perl (not longest: POSIX)
        ("(a+)+$", "aaaa", ["aaaa", "aaaa"]),
        (#"\d{2,3}"#, "a1234", ["123"]),
        (#"\bcat\b"#, "concat cat", ["cat"]),
        ("^abc", "abcabc", ["abc"]),
        ("c$", "abcabc", ["c"]),
        ("(?:ab)+(?<last>c)?", "ababx", ["abab", nil]),
        (#"\x41\."#, "A.", ["A."]),
        ("é+", "café", ["é"]),
        ("x*", "abc", [""]),
        ("[^\\s]+", "  tok en", ["tok"]),
    ] as [(String, String, [String?])])
    func matchesAsPerlWould(pattern: String, text: String, expected: [String?]) throws {
        let got = try Self.match(pattern, text)
        #expect(got == expected, "\(pattern): \(String(describing: got))")
    }

    @Test func noMatchIsNil() throws {
        #expect(try Self.match("id=([0-9]+)", "id=x") == nil)
        #expect(try Self.match("^b", "ab") == nil)
    }

    @Test(arguments: [
        ("id=([0-9]+", "missing ')'"),
        ("(a)\\1", "backreference"),
        ("a(?=b)", "lookahead"),
        ("(?<=a)b", "lookbehind"),
        ("a++", "possessive"),
        ("(?i)a", "inline options"),
        ("*a", "nothing to repeat"),
        ("a{2000}", "repeat count"),
        ("[z-a]", "range"),
        ("\\q", "unknown escape"),
        ("(((a{1,1000}){1,1000}){1,1000})", "larger than"),
    ])
    func whatCannotRunLinearlyIsRefusedWithTheReason(pattern: String, says: String) {
        #expect(throws: RegexSyntaxError.self) { try LinearRegex(pattern) }
        do { _ = try LinearRegex(pattern) } catch { #expect(error.reason.contains(says), "\(pattern): \(error)") }
    }

    /// `(a+)+$` against 26 a's and a b held a driver for 80 s with a backtracking engine; here a
    /// body 1,000 times longer takes well under a second, and doubling it about doubles the time.
    @Test func catastrophicPatternsRunInLinearTime() throws {
        for pattern in ["(a+)+$", "(a|aa)*c", "(x+x+)+y", "(.*a){12}"] {
            let re = try LinearRegex(pattern)
            func seconds(_ n: Int) -> Double {
                let text = String(repeating: "a", count: n) + "b"
                let start = Date()
                #expect(re.firstMatch(in: text) == nil || pattern == "(.*a){12}")
                return Date().timeIntervalSince(start)
            }
            let short = seconds(26)
            let long = seconds(26_000)
            #expect(short < 0.05 && long < 1.0, "\(pattern): \(short) s, \(long) s")
        }
    }
}
