import Foundation
import StampedeModel
import StampedeWire

extension TestBook {
    /// A count-based test still sends its full count when a driver dies: the requests the failed
    /// driver had not reported sending are split over the surviving drivers of the test, each of
    /// which runs its part after its own share (a new `part` of the same test on the bus). The
    /// report lists every hand-over under `redistributed`. What the failed driver sent in its last,
    /// unreported second cannot be known: the target may see up to that many requests more.
    func redistribute(_ run: TestRun, from failed: String) {
        guard run.definition.requestsPerDriver != nil else { return }  // duration-based: nothing to make up
        // Scenarios: a failed driver's part of each is reported as failed (partial), not handed over.
        guard !run.definition.hasScenarios else { return }
        guard run.stoppedAtMs == nil else { return }  // stopped: nobody is to send the rest
        let survivors = run.live
        for (share, unsent) in run.unsent(by: failed) where unsent > 0 {
            guard !survivors.isEmpty else {
                log.error("unsent requests cannot be handed over: no driver of the test is left",
                          metadata: ["test_id": "\(run.id)", "driver_id": "\(failed)", "requests": "\(unsent)"])
                continue
            }
            var given: [String: Int] = [:]
            // {{seq}} and data rows go on where the failed share stopped: its place among the
            // drivers (its shard: a part handed over before keeps the first owner's), from the
            // count it reported, each survivor after the one before.
            guard let work = run.shares[share] else { continue }
            var seqStart = work.seqStart + (work.requests ?? unsent) - unsent
            for (i, survivor) in survivors.enumerated() {
                let requests = unsent / survivors.count + (i < unsent % survivors.count ? 1 : 0)
                guard requests > 0 else { continue }
                let place = (index: work.shard, count: work.shards, start: seqStart)
                if send(run, part: run.nextPart, requests: requests, to: survivor, place: place) { given[survivor] = requests }
                seqStart += requests
            }
            run.handedOver(Redistribution(from: failed, requests: given.values.reduce(0, +), to: given))
            log.warning("unsent requests handed over", metadata: [
                "test_id": "\(run.id)", "driver_id": "\(failed)", "part": "\(share.part)", "requests": "\(unsent)",
                "to": "\(given.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))"])
        }
    }

    /// Sends one extra part of a test to one driver; false (logged) when it could not be queued.
    private func send(_ run: TestRun, part: Int, requests: Int, to driver: String,
                      place: (index: Int, count: Int, start: Int)) -> Bool {
        var spec = run.definition.spec(driverCount: run.assigned.count)
        spec.requests = requests
        spec.shard = place.index
        spec.shards = place.count
        spec.seq_start = place.start
        spec.connections = min(spec.connections, requests)
        let startAt = clock.wallMs()
        do {
            try sendWork(run.id, spec: spec, to: [driver], startAtMs: startAt, part: part)
        } catch {
            log.error("part not sent", metadata: ["test_id": "\(run.id)", "part": "\(part)", "driver_id": "\(driver)", "error": "\(error)"])
            return false
        }
        run.sent(Share(driver: driver, part: part), ShareWork(requests: requests, startAtMs: startAt, shard: place.index, shards: place.count,
                                                              seqStart: place.start))
        return true
    }
}
