import Foundation
import StampedeModel

extension ReportPage {
    /// Renders `<dir>/report.html` from the files beside it: `report.json`, `latency.hlog`,
    /// `test.json` (the config) and `drivers/*.json`. The orchestrator and `stampede report DIR`
    /// both come here, so a re-render of the same files gives the same bytes.
    /// - Throws: `ReportPageError` naming the file that is missing or unreadable.
    public static func render(directory: URL) throws -> String {
        let reportURL = directory.appendingPathComponent("report.json")
        guard let reportData = FileManager.default.contents(atPath: reportURL.path) else {
            throw ReportPageError(file: reportURL.path, reason: "missing (is this a test's reports directory?)")
        }
        let report: LoadReport
        do { report = try JSONDecoder().decode(LoadReport.self, from: reportData) } catch {
            throw ReportPageError(file: reportURL.path, reason: "not a Stampede report: \(error)")
        }
        let hlog = FileManager.default.contents(atPath: directory.appendingPathComponent("latency.hlog").path)
            .map { String(decoding: $0, as: UTF8.self) }
        var config: String?
        if let state = FileManager.default.contents(atPath: directory.appendingPathComponent("test.json").path),
           let object = try? JSONSerialization.jsonObject(with: state) as? [String: Any], let text = object["config"] as? String,
           let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
           let pretty = try? JSONSerialization.data(withJSONObject: parsed, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
            config = String(decoding: pretty, as: UTF8.self)
        }
        var drivers: [DriverRow] = []
        let driverDir = directory.appendingPathComponent("drivers")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: driverDir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for file in files {
            guard let data = FileManager.default.contents(atPath: driverDir.appendingPathComponent(file).path),
                  let f = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ReportPageError(file: driverDir.appendingPathComponent(file).path, reason: "not a driver's final message")
            }
            let id = (f["driver_id"] as? String ?? file) + ((f["part"] as? Int).map { $0 > 1 ? " (part \($0))" : "" } ?? "")
            drivers.append(DriverRow(id: id, requests: f["requests"] as? Int ?? 0, responses: f["responses"] as? Int ?? 0,
                                     startLagMs: f["start_lag_ms"] as? Double, failed: false, firstError: f["first_error"] as? String))
        }
        for failed in report.failed_drivers where !drivers.contains(where: { $0.id == failed }) {
            drivers.append(DriverRow(id: failed, requests: 0, responses: 0, startLagMs: nil, failed: true, firstError: "went silent"))
        }
        return try render(ReportInputs(report: report, configJSON: config, hlog: hlog, drivers: drivers))
    }
}

public struct ReportPageError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}
