import Foundation
import Logging
import Messaging
import StampedeWire
import Synchronization

/// A `metrics` message read and decoded off the reactor thread: an interval with its histograms
/// decoded too (or why they could not be), and the CPU seconds that took.
struct IncomingMetrics: Sendable {
    let message: BusMessage
    let decoded: Result<DecodedInterval, any Error>?
    let decodeCPUSeconds: Double

    /// `message` read: an interval's histograms decoded, timed on `clock`'s thread CPU.
    init(_ message: BusMessage, clock: OrchestratorClock) {
        self.message = message
        guard case .interval(let m) = message else {
            decoded = nil
            decodeCPUSeconds = 0
            return
        }
        let start = clock.threadCPUSeconds()
        decoded = Result { try DecodedInterval(m) }
        decodeCPUSeconds = clock.threadCPUSeconds() - start
    }
}

/// Reads the `metrics` topic on its own thread: every message's JSON, and an interval's
/// histograms, are decoded there (a driver's second of 1,000 names took ~25 ms to parse and
/// ~100 ms to decode on the reactor thread, which answered nothing meanwhile), then handed to
/// `deliver` in the order read. At most `maxWaiting` batches wait to be merged: beyond that the
/// thread waits and the broker keeps the rest.
///
/// `@unchecked Sendable`: the subscription is polled by the intake's thread alone, from `start`
/// until `stop` returns (its owner closes it after that).
final class MetricsIntake: @unchecked Sendable {
    private let subscription: BusSubscription
    private let clock: OrchestratorClock
    private let deliver: @Sendable (_ batch: [IncomingMetrics], _ merged: @escaping @Sendable () -> Void) -> Void
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let room: DispatchSemaphore
    private let log = Logger(label: "stampede.orchestrator")

    /// `deliver` gets each batch and calls `merged` once it is merged (on its own thread).
    init(subscription: BusSubscription, clock: OrchestratorClock, maxWaiting: Int = 16,
         deliver: @escaping @Sendable (_ batch: [IncomingMetrics], _ merged: @escaping @Sendable () -> Void) -> Void) {
        self.subscription = subscription
        self.clock = clock
        self.deliver = deliver
        room = DispatchSemaphore(value: maxWaiting)
    }

    func start() {
        let thread = Thread { [self] in
            while !stopping.load(ordering: .relaxed) { readOnce() }
            stopped.signal()
        }
        thread.name = "stampede.metrics"
        thread.start()
    }

    /// Stops reading (what was handed over is merged as usual); returns once the thread is done.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        room.signal()  // a thread waiting for room sees the stop
        stopped.wait()
    }

    private func readOnce() {
        let messages: [BusMessage]
        do { messages = try subscription.pollMessages(timeoutMs: 100) } catch {
            if case .closed = error { stopping.store(true, ordering: .relaxed); return }
            log.error("bus poll failed", metadata: ["topic": "metrics", "error": "\(error)"])
            Thread.sleep(forTimeInterval: 0.1)
            return
        }
        guard !messages.isEmpty else { return }
        let batch = messages.map { IncomingMetrics($0, clock: clock) }
        room.wait()
        guard !stopping.load(ordering: .relaxed) else { return }
        deliver(batch) { [room] in room.signal() }
    }
}
