import Foundation
import Reactor
import StampedeModel
import StampedeWire

/// A test's end: its report built and its files written off the reactor thread.
extension TestBook {
    /// Ends a test whose drivers are done: its report is built and its files written on
    /// `offReactor` (a 1,000-name test's took ~250 ms: the reactor would not answer meanwhile) from
    /// a frozen copy of the run, and `concluded` takes the outcome back on `onReactor`.
    func finish(_ run: TestRun) {
        guard run.status == .running, !run.concluding else { return }
        announceIntervals(run)
        run.concluding = true
        let frozen = Handoff(value: run.frozenCopy()), nowMs = clock.wallMs(), reports = reports, onReactor = onReactor
        let back = Handoff(value: (book: self, run: run))
        offReactor {
            let copy = frozen.value
            let outcome = Handoff(value: Result { () throws -> (report: LoadReport, spectrum: [[Double]]) in
                let (report, latency) = try copy.end(nowMs: nowMs)
                try reports.write(copy, report: report)
                return (report, latency.percentileSpectrum(ticksPerHalfDistance: 5).map { [$0.percentile, Double($0.value)] })
            })
            let ended = Handoff(value: copy.ended)
            onReactor("the report of \(copy.id)") { back.value.book.concluded(back.value.run, ended.value, outcome.value) }
        }
    }

    /// A test's report is built and written (or could not be): the run takes it, users hear of it.
    fileprivate func concluded(_ run: TestRun, _ ended: TestRun.Ended, _ outcome: Result<(report: LoadReport, spectrum: [[Double]]), any Error>) {
        if run.adopt(ended), let amended = run.report {
            // A failed driver's final arrived while the report was built: written again with it.
            do { try reports.write(run, report: amended) } catch {
                log.error("report not amended", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
            }
        }
        switch outcome {
        case .success(let (report, spectrum)):
            recordHistory(report)
            let log = log, id = run.id
            reports.writePageInBackground(run) { error in
                log.error("report.html not written", metadata: ["test_id": "\(id)", "error": "\(error)"])
            }
            // A test with a failed driver may still hear its final and be amended (all its files
            // rewritten as before): it keeps what the rewrite needs.
            if run.failedDrivers.isEmpty { run.releaseMeasurements() }
            // glibc keeps freed memory in its arenas (the page writer's too): once the page is
            // written, a long-lived orchestrator gives it back.
            offReactor { returnFreedMemory() }
            let lags = run.startLags.values
            log.info("test ended", metadata: ["test_id": "\(run.id)", "status": "\(run.status.rawValue)", "responses": "\(report.responses)",
                                              "start_skew_ms": "\(lags.isEmpty ? "-" : String(format: "%.1f", lags.max()! - lags.min()!))"])
            onEvent(.final(testID: run.id, report: run.report ?? report, spectrum: spectrum))
        case .failure(let error):
            run.notReported()
            log.error("test could not be reported", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
            onEvent(.test(run.summary))
        }
        save(run)
        onFinished?(run)
        archiveOldTests()
    }
}
