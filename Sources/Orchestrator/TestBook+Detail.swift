import Foundation
import StampedeModel
import StampedeWire

/// `GET /tests/{id}`, made off the reactor thread: a 1,000-name test's answer is about 1 MB, and
/// building it from a running test took ~100-190 ms on the reactor (a health check polling /ping
/// waited as long), encoding a finished one ~40 ms, reading an archived one back more. One answer
/// is made at a time per test; every request for it meanwhile gets that one.
extension TestBook {
    /// Calls `answer` on the reactor thread with the test's detail, encoded (nil: no such test).
    /// While the test runs: with the figures so far, made again once a second at most, or sooner
    /// when something it is made from changed; while the final report is built, the last one stands.
    func detailJSON(id: String, answer: @escaping ([UInt8]?) -> Void) {
        guard let run = tests[id] else {
            guard archived[id] != nil else { return answer(nil) }
            let (reports, log) = (reports, Handoff(value: log))
            return make(id, answer) {
                let run = reports.loadTest(id: id) { path, why in
                    log.value.warning("archived test unreadable", metadata: ["path": "\(path)", "error": "\(why)"])
                }
                return run.map { Array(encodeJSON(Self.detail($0, report: nil)).utf8) }
            }
        }
        guard run.report == nil && run.status == .running else {
            let detail = Handoff(value: Self.detail(run, report: nil))
            return make(id, answer) { Array(encodeJSON(detail.value).utf8) }
        }
        let now = clock.wallMs(), revision = run.liveRevision
        if let cached = run.liveDetail, run.concluding || (cached.revision == revision && now - cached.builtAtMs < 1_000) {
            return answer(cached.body)
        }
        // From a frozen copy, as a finished test's report is: the reactor's run goes on meanwhile.
        let frozen = Handoff(value: run.frozenCopy())
        make(id, answer, made: { [weak run] body in
            guard let run, let body, run.report == nil, run.status == .running else { return }
            run.liveDetail = LiveDetailCache(revision: revision, builtAtMs: now, body: body)
        }) {
            let copy = frozen.value
            return Array(encodeJSON(Self.detail(copy, report: try? copy.buildReport(nowMs: now).report)).utf8)
        }
    }

    /// Makes test `id`'s answer with `making` on `answerOffReactor` unless it is being made
    /// already; back on the reactor, `made` keeps it and everyone waiting gets it.
    private func make(_ id: String, _ answer: @escaping ([UInt8]?) -> Void, made: @escaping ([UInt8]?) -> Void = { _ in },
                      making: @escaping @Sendable () -> [UInt8]?) {
        detailWaiters[id, default: []].append(answer)
        guard detailWaiters[id]?.count == 1 else { return }
        let back = Handoff(value: (book: self, made: made)), onReactor = onReactor
        answerOffReactor {
            let body = Handoff(value: making())
            onReactor("GET /tests/\(id), made") {
                let (book, made) = back.value
                made(body.value)
                for waiter in book.detailWaiters.removeValue(forKey: id) ?? [] { waiter(body.value) }
            }
        }
    }

    /// `live`: the running test's report so far (nil: a finished test's own, or none yet).
    static func detail(_ run: TestRun, report live: LoadReport?) -> TestDetail {
        var summary = run.summary
        if let live { summary.report = live }
        return TestDetail(summary: summary, config: run.definition.original, live: live == nil ? nil : true,
                          failedDrivers: run.failedDrivers.isEmpty ? nil : run.failedDrivers.sorted())
    }
}
