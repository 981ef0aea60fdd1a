import Foundation
import StampedeModel
import StampedeWire

extension TestBook {
    /// A search's step has ended (every live driver sent the final of its part): judge it,
    /// announce it on /ws, and send the next step to the live drivers as the next part.
    /// - Returns: true when a next step was sent; false when the test is not a search or the
    ///   search is over (then the test finishes, its report carrying `search`).
    func advanceSearch(_ run: TestRun) -> Bool {
        guard run.search != nil, run.error == nil else { return false }
        let step: SearchStep
        do {
            guard let judged = try run.searchStep(rate: run.searchRate) else { return false }
            step = judged
        } catch {
            run.error = "search step at \(Int(run.searchRate)) req/s could not be merged: \(error)"
            return false
        }
        let next = run.search!.record(step)
        onEvent(.searchStep(testID: run.id, step: step, next: next))
        log.info("search step", metadata: ["test_id": "\(run.id)", "rate": "\(Int(step.rate))", "passed": "\(step.passed)",
                                           "achieved_rps": "\(Int(step.achieved_rps))", "next": "\(next.map { String(Int($0)) } ?? "-")"])
        guard let next, !run.live.isEmpty else { return false }
        var config = run.definition
        config.load.pacing = .rate(next)
        let part = run.nextPart
        let startAt = clock.wallMs() + Int64(startDelayMs)
        do {
            try sendWork(run.id, spec: config.spec(driverCount: run.live.count), to: run.live, startAtMs: startAt, part: part)
        } catch {
            run.error = "search step at \(Int(next)) req/s not sent: \(error)"
            return false
        }
        for driver in run.live {
            run.shares[Share(driver: driver, part: part)] = ShareWork(requests: nil, startAtMs: startAt,
                                                                      shard: run.assigned.firstIndex(of: driver) ?? 0, seqStart: 0)
        }
        run.searchPart = part
        run.searchRate = next
        save(run)
        return true
    }
}
