import Foundation
import StampedeModel
import StampedeWire

extension TestBook {
    /// A search's step has ended (every live driver sent the final of its part): judge it,
    /// announce it on /ws, and send the next step to the live drivers as the next part.
    /// - Returns: true when a next step was sent; false when the test is not a search or the
    ///   search is over (then the test finishes, its report carrying `search`).
    func advanceSearch(_ run: TestRun) -> Bool {
        // Each part is judged once (finals replayed after a restart complete it again).
        guard let search = run.search, search.steps.count < run.searchPart, run.error == nil, run.stoppedAtMs == nil else { return false }
        let step: SearchStep
        do {
            guard let judged = try run.searchStep(rate: run.searchRate) else { return false }
            step = judged
        } catch {
            run.failed("search step at \(Int(run.searchRate)) req/s could not be merged: \(error)")
            return false
        }
        let next = run.searchStepJudged(step)
        onEvent(.searchStep(testID: run.id, step: step, next: next))
        log.info("search step", metadata: ["test_id": "\(run.id)", "rate": "\(Int(step.rate))", "passed": "\(step.passed)",
                                           "achieved_rps": "\(Int(step.achieved_rps))", "next": "\(next.map { String(Int($0)) } ?? "-")"])
        guard let next, !run.live.isEmpty else { return false }
        var config = run.definition
        let part = run.nextPart
        let startAt = clock.wallMs() + Int64(startDelayMs)
        // {{seq}} stays unique across steps: each driver's numbers (its place in the step's
        // driver list) start above every number an earlier step could have used.
        let live = run.live
        let seqStart = (run.nextFreeSequence + live.count - 1) / live.count
        var spec: TestSpec
        if let searched = config.searchScenario, let k = config.scenarios.firstIndex(where: { $0.name == searched }) {
            // The searched scenario at the next rate, every other at its own load, for one step.
            config.scenarios[k].load.pacing = .rate(next)
            do { spec = try config.spec(drivers: live, matches: driverMatches) } catch {
                run.failed("search step at \(Int(next)) req/s: scenario \(error.scenario) has no live driver left")
                return false
            }
            spec.scenarios = spec.scenarios.map { $0.map { var one = $0; one.seq_start = seqStart; return one } }
        } else {
            config.load.pacing = .rate(next)
            spec = config.spec(driverCount: live.count)
        }
        spec.seq_start = seqStart
        do {
            try sendWork(run.id, spec: spec, to: live, startAtMs: startAt, part: part)
        } catch {
            run.failed("search step at \(Int(next)) req/s not sent: \(error)")
            return false
        }
        for (index, driver) in live.enumerated() {
            run.sent(Share(driver: driver, part: part), ShareWork(requests: nil, startAtMs: startAt,
                                                                  shard: index, shards: live.count, seqStart: seqStart))
        }
        run.searchStepSent(rate: next)
        save(run)
        return true
    }
}
