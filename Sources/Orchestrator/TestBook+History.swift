import StampedeModel

/// Named tests' runs over time (`GET /history/NAME`): indexed from the reports directory at
/// start-up (so it survives restarts) and as each test ends; small entries, whatever the number
/// of runs (an archived test's whole report leaves memory, its entry stays).
extension TestBook {
    /// Adds (or, for a report written again, replaces) a finished test's entry.
    func recordHistory(_ report: LoadReport) {
        guard let name = report.name, let run = HistoryRun(report) else { return }
        var runs = history[name, default: []]
        runs.removeAll { $0.test_id == run.test_id }
        // In time order; runs finishing in the same millisecond by test id.
        let at = runs.firstIndex { ($0.started_at, $0.test_id) > (run.started_at, run.test_id) } ?? runs.count
        runs.insert(run, at: at)
        history[name] = runs
    }
}
