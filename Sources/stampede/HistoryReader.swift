import ArgumentParser
import Foundation
import StampedeModel

/// A named test's runs read from a reports directory (each test's `report.json`), for
/// `compare --history`: the latest ones, oldest first.
enum HistoryReader {
    static func runs(named name: String, in directory: String, last: Int, excluding: String) throws -> [HistoryRun] {
        if let problem = HistoryRun.problem(withName: name) { throw ValidationError("--history: \(problem)") }
        guard last >= 1 else { throw ValidationError("--last: at least 1 run, got \(last)") }
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        guard let entries = try? FileManager.default.contentsOfDirectory(at: base, includingPropertiesForKeys: nil) else {
            throw ValidationError("--reports-dir: cannot read '\(directory)'")
        }
        var runs: [HistoryRun] = []
        for entry in entries {
            guard let data = FileManager.default.contents(atPath: entry.appendingPathComponent("report.json").path),
                  let report = try? JSONDecoder().decode(LoadReport.self, from: data),
                  report.name == name, report.test_id != excluding, let run = HistoryRun(report) else { continue }
            runs.append(run)
        }
        guard !runs.isEmpty else { throw ValidationError("--history: no finished run named '\(name)' in \(directory)") }
        runs.sort { ($0.started_at, $0.test_id) < ($1.started_at, $1.test_id) }
        return Array(runs.suffix(last))
    }
}
