import Foundation
import Testing
import TestSupport
@testable import Histogram

@Suite struct ConcurrencyTests {
    static let threads = 4
    static let perThread = 250_000

    /// Each thread records values v in 1...1000 with a thread-specific stride, so every counter's
    /// expected value is known exactly.
    static func expected() -> HDRHistogram {
        var h = HDRHistogram()
        for t in 0..<threads { for i in 0..<perThread { h.record(Int64((i * (t + 1)) % 1000 + 1)) } }
        return h
    }

    @Test func fourThreadsLoseNothing() {
        let h = AtomicHDRHistogram()
        DispatchQueue.concurrentPerform(iterations: Self.threads) { t in
            for i in 0..<Self.perThread { h.record(Int64((i * (t + 1)) % 1000 + 1)) }
        }
        #expect(h.snapshot() == Self.expected())
    }

    @Test func intervalRecorderNeitherLosesNorDoublesValues() throws {
        let recorder = IntervalRecorder()
        let done = DispatchSemaphore(value: 0)
        let writers = DispatchGroup()
        for t in 0..<Self.threads {
            DispatchQueue.global().async(group: writers) {
                for i in 0..<Self.perThread { recorder.record(Int64((i * (t + 1)) % 1000 + 1)) }
            }
        }
        writers.notify(queue: .global()) { done.signal() }

        var total = HDRHistogram()
        var intervals = 0
        while done.wait(timeout: .now() + .milliseconds(2)) == .timedOut {
            try total.add(recorder.intervalHistogram())
            intervals += 1
        }
        try total.add(recorder.intervalHistogram())
        #expect(intervals > 1, "the reader should have swapped while writers were running")
        #expect(total == Self.expected())
        #expect(recorder.intervalHistogram().totalCount == 0)
    }
}
