/// Finds a byte string in a stream fed in pieces of any size (Knuth-Morris-Pratt), keeping only
/// the length of the current partial match: the response parser runs it over body bytes as it
/// skips them, so checking a body for a substring never buffers the body.
public struct SubstringScanner: Sendable {
    private var needle: [UInt8]
    /// failure[k]: the length of the longest proper prefix of needle[0...k] that is also its suffix.
    private var failure: [Int]
    private var matched = 0
    public private(set) var found = false

    /// - Parameter needle: non-empty.
    public init(_ needle: [UInt8]) {
        precondition(!needle.isEmpty, "an empty needle matches everything")
        self.needle = []
        failure = []
        needle.withUnsafeBytes { reset(needle: $0) }
    }

    /// Looks for another needle from now on (a rendered `expect_body`), reusing the storage.
    public mutating func reset(needle bytes: UnsafeRawBufferPointer) {
        needle.removeAll(keepingCapacity: true)
        needle.append(contentsOf: bytes)
        // An empty rendering would match everything: it matches nothing instead (the check fails).
        if needle.isEmpty { needle.append(0) }
        failure.removeAll(keepingCapacity: true)
        failure.append(contentsOf: repeatElement(0, count: needle.count))
        var k = 0
        for i in 1..<Swift.max(1, needle.count) {
            while k > 0 && needle[i] != needle[k] { k = failure[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            failure[i] = k
        }
        reset()
    }

    public mutating func reset() {
        matched = 0
        found = false
    }

    public mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        guard !found else { return }
        needle.withUnsafeBufferPointer { needle in
            failure.withUnsafeBufferPointer { failure in
                var m = matched
                for b in bytes {
                    while m > 0 && needle[m] != b { m = failure[m - 1] }
                    if needle[m] == b {
                        m += 1
                        if m == needle.count { found = true; break }
                    }
                }
                matched = m
            }
        }
    }
}
