/// Why a pattern cannot be run: what and where (a byte offset into the pattern).
public struct RegexSyntaxError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public let offset: Int
    public var description: String { "\(reason) at offset \(offset)" }
}

/// 256 bits: which bytes a class matches.
struct ByteSet: Equatable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: ByteSet, b: ByteSet) -> Bool { a.words == b.words }

    func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    mutating func insert(_ range: ClosedRange<UInt8>) { for b in range { insert(b) } }
    mutating func formUnion(_ o: ByteSet) { words = (words.0 | o.words.0, words.1 | o.words.1, words.2 | o.words.2, words.3 | o.words.3) }
    var inverted: ByteSet { var s = ByteSet(); s.words = (~words.0, ~words.1, ~words.2, ~words.3); return s }

    static let digits: ByteSet = { var s = ByteSet(); s.insert(48...57); return s }()
    static let word: ByteSet = { var s = digits; s.insert(65...90); s.insert(97...122); s.insert(95); return s }()
    static let space: ByteSet = { var s = ByteSet(); for b: UInt8 in [32, 9, 10, 11, 12, 13] { s.insert(b) }; return s }()
}

/// A parsed pattern.
indirect enum RegexNode {
    case empty
    case byte(UInt8)
    case set(ByteSet)
    /// `.`: any byte but a newline.
    case any
    case begin, end
    case boundary(Bool)
    case concat([RegexNode])
    case alternation([RegexNode])
    case group(RegexNode, capture: Int?)
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)
}

/// A recursive-descent parser of the syntax `LinearRegex` runs (see there). Works on the
/// pattern's UTF-8 bytes: a non-ASCII literal is its byte sequence.
struct RegexParser {
    private let p: [UInt8]
    private var i = 0
    private(set) var groups = 0
    static let maxRepeat = 1_000

    init(_ pattern: String) { p = Array(pattern.utf8) }

    private func fail(_ reason: String, at offset: Int? = nil) -> RegexSyntaxError { RegexSyntaxError(reason: reason, offset: offset ?? i) }
    private var atEnd: Bool { i >= p.count }
    private func peek(_ k: Int = 0) -> UInt8? { i + k < p.count ? p[i + k] : nil }

    mutating func parse() throws(RegexSyntaxError) -> RegexNode {
        let node = try alternation()
        guard atEnd else { throw fail("unmatched ')'") }
        return node
    }

    private mutating func alternation() throws(RegexSyntaxError) -> RegexNode {
        var branches = [try concatenation()]
        while peek() == UInt8(ascii: "|") {
            i += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func concatenation() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(), c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
            items.append(try repetition(try atom()))
        }
        return items.isEmpty ? .empty : items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func number() -> Int? {
        var n = 0, digits = 0
        while let c = peek(), (48...57).contains(c), digits < 7 { n = n * 10 + Int(c - 48); i += 1; digits += 1 }
        return digits == 0 ? nil : n
    }

    private mutating func repetition(_ node: RegexNode) throws(RegexSyntaxError) -> RegexNode {
        var node = node
        while let c = peek() {
            let start = i
            var bounds: (Int, Int?)
            switch c {
            case UInt8(ascii: "*"): bounds = (0, nil); i += 1
            case UInt8(ascii: "+"): bounds = (1, nil); i += 1
            case UInt8(ascii: "?"): bounds = (0, 1); i += 1
            case UInt8(ascii: "{"):
                i += 1
                guard let low = number() else { i = start; return node }  // a literal '{'
                var high: Int? = low
                if peek() == UInt8(ascii: ",") { i += 1; high = number() }
                guard peek() == UInt8(ascii: "}") else { i = start; return node }
                i += 1
                guard low <= Self.maxRepeat, (high ?? 0) <= Self.maxRepeat else { throw fail("a repeat count over \(Self.maxRepeat)", at: start) }
                guard high.map({ $0 >= low }) ?? true else { throw fail("a repeat {\(low),\(high!)} whose maximum is below its minimum", at: start) }
                bounds = (low, high)
            default: return node
            }
            if case .empty = node { throw fail("nothing to repeat", at: start) }
            if case .begin = node { throw fail("nothing to repeat", at: start) }
            var greedy = true
            if peek() == UInt8(ascii: "?") { greedy = false; i += 1 } else if peek() == UInt8(ascii: "+") {
                throw fail("a possessive quantifier (not supported: patterns run without backtracking)")
            }
            node = .repetition(node, min: bounds.0, max: bounds.1, greedy: greedy)
        }
        return node
    }

    private mutating func atom() throws(RegexSyntaxError) -> RegexNode {
        let c = p[i]
        let start = i
        i += 1
        switch c {
        case UInt8(ascii: "."): return .any
        case UInt8(ascii: "^"): return .begin
        case UInt8(ascii: "$"): return .end
        case UInt8(ascii: "["): return .set(try byteClass())
        case UInt8(ascii: "\\"): return try escape(inClass: false)
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"): throw fail("nothing to repeat", at: start)
        case UInt8(ascii: "("):
            var capture: Int? = nil
            if peek() == UInt8(ascii: "?") {
                i += 1
                switch peek() {
                case UInt8(ascii: ":"): i += 1
                case UInt8(ascii: "="), UInt8(ascii: "!"): throw fail("a lookahead (not supported: patterns run without backtracking)", at: start)
                case UInt8(ascii: ">"): throw fail("an atomic group (not supported)", at: start)
                case UInt8(ascii: "<") where peek(1) == UInt8(ascii: "=") || peek(1) == UInt8(ascii: "!"):
                    throw fail("a lookbehind (not supported: patterns run without backtracking)", at: start)
                case UInt8(ascii: "<"), UInt8(ascii: "P"):
                    if peek() == UInt8(ascii: "P") { i += 1 }
                    guard peek() == UInt8(ascii: "<") else { throw fail("an unknown group kind", at: start) }
                    while let n = peek(), n != UInt8(ascii: ">") { i += 1 }
                    guard peek() == UInt8(ascii: ">") else { throw fail("an unclosed group name", at: start) }
                    i += 1
                    groups += 1
                    capture = groups
                default: throw fail("inline options or an unknown group kind (not supported)", at: start)
                }
            } else {
                groups += 1
                capture = groups
            }
            let inner = try alternation()
            guard peek() == UInt8(ascii: ")") else { throw fail("missing ')'", at: start) }
            i += 1
            return .group(inner, capture: capture)
        default: return .byte(c)
        }
    }

    private mutating func escape(inClass: Bool) throws(RegexSyntaxError) -> RegexNode {
        guard let c = peek() else { throw fail("a trailing backslash") }
        let start = i - 1
        i += 1
        switch c {
        case UInt8(ascii: "d"): return .set(.digits)
        case UInt8(ascii: "D"): return .set(ByteSet.digits.inverted)
        case UInt8(ascii: "w"): return .set(.word)
        case UInt8(ascii: "W"): return .set(ByteSet.word.inverted)
        case UInt8(ascii: "s"): return .set(.space)
        case UInt8(ascii: "S"): return .set(ByteSet.space.inverted)
        case UInt8(ascii: "b") where !inClass: return .boundary(true)
        case UInt8(ascii: "B") where !inClass: return .boundary(false)
        case UInt8(ascii: "n"): return .byte(10)
        case UInt8(ascii: "r"): return .byte(13)
        case UInt8(ascii: "t"): return .byte(9)
        case UInt8(ascii: "f"): return .byte(12)
        case UInt8(ascii: "v"): return .byte(11)
        case UInt8(ascii: "0"): return .byte(0)
        case UInt8(ascii: "x"):
            guard let h = peek(), let l = peek(1), let hi = hexValue(h), let lo = hexValue(l) else { throw fail("\\x needs two hex digits", at: start) }
            i += 2
            return .byte(hi << 4 | lo)
        case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "k"):
            throw fail("a backreference (not supported: patterns run without backtracking)", at: start)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
            throw fail("an unknown escape \\\(Character(Unicode.Scalar(c)))", at: start)
        default: return .byte(c)
        }
    }

    private func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    private mutating func byteClass() throws(RegexSyntaxError) -> ByteSet {
        let start = i - 1
        var set = ByteSet()
        let negated = peek() == UInt8(ascii: "^")
        if negated { i += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw fail("missing ']'", at: start) }
            if c == UInt8(ascii: "]") && !first { i += 1; break }
            first = false
            if c == UInt8(ascii: "[") && peek(1) == UInt8(ascii: ":") { throw fail("a POSIX class (write it as a range)") }
            guard c < 128 else { throw fail("a non-ASCII character in a class (not supported)") }
            var low: UInt8
            if c == UInt8(ascii: "\\") {
                i += 1
                switch try escape(inClass: true) {
                case .set(let s): set.formUnion(s); continue
                case .byte(let b): low = b
                default: throw fail("an escape that is not a character in a class")
                }
            } else {
                low = c
                i += 1
            }
            if peek() == UInt8(ascii: "-"), let next = peek(1), next != UInt8(ascii: "]") {
                i += 1
                var high = next
                if next == UInt8(ascii: "\\") {
                    i += 1
                    guard case .byte(let b) = try escape(inClass: true) else { throw fail("a class as the end of a range") }
                    high = b
                } else {
                    guard next < 128 else { throw fail("a non-ASCII character in a class (not supported)") }
                    i += 1
                }
                guard low <= high else { throw fail("a range whose end is below its start") }
                set.insert(low...high)
            } else {
                set.insert(low)
            }
        }
        return negated ? set.inverted : set
    }
}
