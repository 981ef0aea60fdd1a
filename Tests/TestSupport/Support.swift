import Foundation

// Helpers shared by the test targets: subprocesses, the Python interop bridge, seeded randomness.

/// The repository root, found from this file's path (Tests/TestSupport/Support.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Runs a program with `input` on stdin and returns its stdout; throws with its stderr on failure.
public func run(_ executable: URL, _ arguments: [String], input: Data = Data()) throws -> Data {
    let result = try runCommand(executable, arguments, input: input)
    guard result.status == 0 else {
        throw ProcessFailure(description: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
    }
    return Data(result.stdout.utf8)
}

/// Calls Tests/Interop/hdr_interop.py (the Python `hdrhistogram` package) with a JSON request.
public func python<Answer: Decodable>(_ mode: String, _ request: [String: Any], as: Answer.Type) throws -> Answer {
    let python = repositoryRoot.appendingPathComponent(".venv/bin/python")
    let script = repositoryRoot.appendingPathComponent("Tests/Interop/hdr_interop.py").path
    let body = try JSONSerialization.data(withJSONObject: request)
    let out = try run(python, [script, mode], input: body)
    return try JSONDecoder().decode(Answer.self, from: out)
}

public struct PythonStats: Decodable {
    public let total: Int64
    public let min: Int64
    public let max: Int64
    public let mean: Double
    public let stddev: Double
    public let values: [Int64]
}

/// A deterministic generator (xorshift64*), so a failing property test can be replayed by seed.
public struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    public mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
}

/// Latency-like values: log-uniform from 1 µs to about 10 s, plus a few outliers up to the limit.
public func latencyValues(count: Int, seed: UInt64) -> [Int64] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { i in
        if i % 997 == 0 { return Int64.random(in: 1...3_600_000_000, using: &rng) }
        return Int64(Foundation.exp(Double.random(in: 0...16, using: &rng)))
    }
}
