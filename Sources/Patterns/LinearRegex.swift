/// A regular expression that runs in time linear in its input (a Pike VM: every thread of the
/// automaton advances one byte at a time, at most one per program position), so no pattern and
/// no response can make a capture run away, as `(a+)+$` does in a backtracking engine against
/// "aaaaaaaaaaaaaaaaaaaaaaaaaab". Leftmost-first matching with greedy and lazy quantifiers, as
/// Perl and Swift's `Regex` choose the match.
///
/// Syntax: literals; `.` (any byte but a newline); classes `[a-z_]`, `[^"]`; `\d \w \s` and their
/// negations; `\b \B`; `^ $` (input start and end); groups `( )`, `(?: )`, `(?<name> )`;
/// alternation `|`; `* + ? {n} {n,} {n,m}` (m at most 1,000), each lazy with a `?` after. Refused
/// with the reason: backreferences, lookaround, atomic groups, possessive quantifiers, inline
/// options, POSIX classes, non-ASCII characters in a class. Matching is over UTF-8 bytes.
public struct LinearRegex: Sendable {
    enum Op: Sendable {
        case byte(UInt8)
        case set(Int)
        case any
        /// Try `first` before `second` (their order is the quantifier's greed).
        case split(Int, Int)
        case jump(Int)
        case save(Int)
        case begin, end
        case boundary(Bool)
        case match
    }

    let ops: [Op]
    let sets: [ByteSet]
    /// Groups, the whole match (0) included.
    public let groupCount: Int
    /// Programs larger than this (after expanding counted repeats) are refused.
    public static let maxProgram = 20_000

    /// - Throws: `RegexSyntaxError` naming what is not supported or malformed, and where.
    public init(_ pattern: String) throws(RegexSyntaxError) {
        var parser = RegexParser(pattern)
        let tree = try parser.parse()
        var compiler = Compiler()
        compiler.emit(.save(0))
        try compiler.compile(tree)
        compiler.emit(.save(1))
        compiler.emit(.match)
        ops = compiler.ops
        sets = compiler.sets
        groupCount = parser.groups + 1
    }

    private struct Compiler {
        var ops: [Op] = []
        var sets: [ByteSet] = []

        mutating func emit(_ op: Op) { ops.append(op) }

        mutating func compile(_ node: RegexNode) throws(RegexSyntaxError) {
            guard ops.count <= LinearRegex.maxProgram else {
                throw RegexSyntaxError(reason: "a pattern larger than \(LinearRegex.maxProgram) steps once its repeats are expanded", offset: 0)
            }
            switch node {
            case .empty: break
            case .byte(let b): emit(.byte(b))
            case .set(let s):
                if let k = sets.firstIndex(of: s) { emit(.set(k)) } else { sets.append(s); emit(.set(sets.count - 1)) }
            case .any: emit(.any)
            case .begin: emit(.begin)
            case .end: emit(.end)
            case .boundary(let b): emit(.boundary(b))
            case .concat(let items): for item in items { try compile(item) }
            case .alternation(let branches):
                var jumps: [Int] = []
                for (k, branch) in branches.enumerated() {
                    if k < branches.count - 1 {
                        let split = ops.count
                        emit(.split(split + 1, -1))
                        try compile(branch)
                        jumps.append(ops.count)
                        emit(.jump(-1))
                        ops[split] = .split(split + 1, ops.count)
                    } else {
                        try compile(branch)
                    }
                }
                for j in jumps { ops[j] = .jump(ops.count) }
            case .group(let inner, let capture):
                if let capture { emit(.save(2 * capture)) }
                try compile(inner)
                if let capture { emit(.save(2 * capture + 1)) }
            case .repetition(let inner, let min, let max, let greedy):
                for _ in 0..<min { try compile(inner) }
                if let max {
                    var splits: [Int] = []
                    for _ in min..<max {
                        splits.append(ops.count)
                        emit(.split(-1, -1))
                        try compile(inner)
                    }
                    for s in splits { ops[s] = greedy ? .split(s + 1, ops.count) : .split(ops.count, s + 1) }
                } else {
                    let loop = ops.count
                    emit(.split(-1, -1))
                    try compile(inner)
                    emit(.jump(loop))
                    ops[loop] = greedy ? .split(loop + 1, ops.count) : .split(ops.count, loop + 1)
                }
            }
        }
    }

    /// The first match's groups (byte ranges; nil for a group that took no part), or nil.
    public func firstMatch(in input: UnsafeRawBufferPointer) -> [Range<Int>?]? {
        var vm = PikeVM(self, input: input)
        return vm.run()
    }

    /// `firstMatch` over a string's UTF-8, as substrings.
    public func firstMatch(in text: String) -> [Substring?]? {
        var text = text
        return text.withUTF8 { utf8 -> [Substring?]? in
            guard let groups = firstMatch(in: UnsafeRawBufferPointer(utf8)) else { return nil }
            return groups.map { range in range.map { Substring(decoding: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[$0]), as: UTF8.self) } }
        }
    }
}

/// One search: thread lists as sparse sets of program positions, each thread's captures in a
/// flat array (positions × slots).
private struct PikeVM {
    let re: LinearRegex
    let input: UnsafeRawBufferPointer
    let slots: Int
    var current: ThreadList
    var next: ThreadList
    /// Positions visited while adding threads at this input position.
    var visited: [Int]
    var generation = 0
    var scratch: [Int]
    var stack: [(pc: Int, slot: Int, value: Int)] = []

    struct ThreadList {
        var pcs: [Int] = []
        var caps: [Int]
        init(size: Int, slots: Int) { caps = Array(repeating: -1, count: size * slots); pcs.reserveCapacity(size) }

        mutating func push(_ pc: Int, _ captures: [Int]) {
            let base = pcs.count * captures.count
            pcs.append(pc)
            for s in captures.indices { caps[base + s] = captures[s] }
        }
    }

    init(_ re: LinearRegex, input: UnsafeRawBufferPointer) {
        self.re = re
        self.input = input
        slots = 2 * re.groupCount
        current = ThreadList(size: re.ops.count, slots: slots)
        next = ThreadList(size: re.ops.count, slots: slots)
        visited = Array(repeating: -1, count: re.ops.count)
        scratch = Array(repeating: -1, count: slots)
    }

    private func isWord(_ at: Int) -> Bool { at >= 0 && at < input.count && ByteSet.word.contains(input[at]) }

    /// Follows jumps, splits, saves and assertions from `pc` at input position `sp`, in priority
    /// order, adding the threads that wait on a byte (or match) to `list`.
    private mutating func add(toNext: Bool, pc start: Int, sp: Int) {
        stack.append((start, -1, 0))
        while let (pc, slot, value) = stack.popLast() {
            if slot >= 0 { scratch[slot] = value; continue }  // a save undone on the way back
            guard visited[pc] != generation else { continue }
            visited[pc] = generation
            switch re.ops[pc] {
            case .jump(let to): stack.append((to, -1, 0))
            case .split(let first, let second):
                stack.append((second, -1, 0))
                stack.append((first, -1, 0))
            case .save(let k):
                stack.append((0, k, scratch[k]))
                scratch[k] = sp
                stack.append((pc + 1, -1, 0))
            case .begin: if sp == 0 { stack.append((pc + 1, -1, 0)) }
            case .end: if sp == input.count { stack.append((pc + 1, -1, 0)) }
            case .boundary(let wanted): if (isWord(sp - 1) != isWord(sp)) == wanted { stack.append((pc + 1, -1, 0)) }
            case .byte, .set, .any, .match:
                if toNext { next.push(pc, scratch) } else { current.push(pc, scratch) }
            }
        }
    }

    mutating func run() -> [Range<Int>?]? {
        var matched: [Int]?
        var sp = 0
        // One generation per input position: the start thread joins the threads the last step
        // added at this position, so no position is added twice.
        generation += 1
        while true {
            if matched == nil {
                // A new thread starting here, behind every older (leftmost) one.
                for s in 0..<slots { scratch[s] = -1 }
                add(toNext: false, pc: 0, sp: sp)
            }
            // No thread left: done once something matched; else the search moves on.
            if current.pcs.isEmpty && matched != nil { break }
            generation += 1
            let byte: UInt8? = sp < input.count ? input[sp] : nil
            var k = 0
            while k < current.pcs.count {
                let pc = current.pcs[k]
                let advances: Bool
                switch re.ops[pc] {
                case .byte(let b): advances = byte == b
                case .set(let s): advances = byte.map { re.sets[s].contains($0) } ?? false
                case .any: advances = byte.map { $0 != 10 } ?? false
                case .match:
                    matched = Array(current.caps[k * slots..<(k + 1) * slots])
                    k = current.pcs.count  // lower-priority threads lose to this match
                    continue
                default: advances = false
                }
                if advances {
                    for s in 0..<slots { scratch[s] = current.caps[k * slots + s] }
                    add(toNext: true, pc: pc + 1, sp: sp + 1)
                }
                k += 1
            }
            swap(&current, &next)
            next.pcs.removeAll(keepingCapacity: true)
            if sp >= input.count { break }
            sp += 1
        }
        // Threads left at the end may still hold a match (checked in the last step above).
        guard let caps = matched else { return nil }
        return (0..<re.groupCount).map { g in caps[2 * g] >= 0 && caps[2 * g + 1] >= 0 ? caps[2 * g]..<caps[2 * g + 1] : nil }
    }
}
