import Foundation
import HARImport
import LoadGenerator
import StampedeModel

/// What `stampede import har` did, on standard error: every correlation, what was left out and
/// why, what looks generated but no response gave, and how to run it.
enum ImportSummary {
    static func print(_ r: ImportResult, file: String, options: ImportOptions) {
        var out = "\(file): \(r.requests.count) step(s) from \(r.entryCount) entries (origin \(r.origin)); \(r.leftOut.count) left out\n"
        for (k, request) in r.requests.enumerated() {
            out += "  step \(k + 1): \(request.displayName) (recorded \(r.recordedStatuses[k])\(r.redirects[k] > 0 ? ", after \(r.redirects[k]) redirect(s)" : ""))\n"
        }
        if r.correlations.isEmpty {
            out += "correlated: none (no value a request sends came from an earlier response)\n"
        } else {
            out += "correlated (\(r.correlations.count)):\n"
            for c in r.correlations {
                out += "  \(c.variable) '\(short(c.value))' from \(c.source)\n"
                for use in c.uses { out += "      sent by \(use)\n" }
            }
        }
        if !r.unresolved.isEmpty {
            out += "not found in any earlier response (sent as recorded; --template FIELD=uuid or rand_int:LO:HI renders one):\n"
            for u in r.unresolved { out += "  \(u.field) '\(short(u.value))' sent by \(u.use)\n" }
        }
        for t in r.templated { out += "templated: \(t.field) as \(t.template) in \(t.use)\n" }
        if !r.dataColumns.isEmpty {
            out += "data: {{row.\(r.dataColumns.joined(separator: "}}, {{row."))}}: a data file's header line is \(r.dataColumns.joined(separator: ","))"
            out += " (recorded row: \(r.dataRow.map(short).joined(separator: ",")))\n"
        }
        let missing = options.dataFields.filter { !r.dataColumns.contains($0) }
        if !missing.isEmpty { out += "data: --data-fields \(missing.joined(separator: ",")) not sent by any kept request\n" }
        if !r.leftOut.isEmpty {
            out += "left out (\(r.leftOut.count)):\n"
            for l in r.leftOut { out += "  entries[\(l.index)] \(l.what.prefix(100)): \(l.reason)\n" }
        }
        for u in r.unsearched { out += "not searched: entries[\(u.index)] \(u.what.prefix(100)): \(u.reason)\n" }
        if let bytes = r.captureBytes { out += "note: a capture reads \(bytes) bytes into a body: run with --capture-bytes \(bytes)\n" }
        var run = "run: stampede bench --targets JOURNEY.json --order sequence"
        if r.followRedirects > 0 { run += " --follow-redirects \(r.followRedirects)" }
        if let bytes = r.captureBytes { run += " --capture-bytes \(bytes)" }
        if !r.dataColumns.isEmpty { run += " --data USERS.csv" }
        out += run + " -c 5 --sessions 50\n"
        FileHandle.standardError.write(Data(out.utf8))
    }

    static func short(_ value: String) -> String {
        value.count > 12 ? String(value.prefix(12)) + "…" : value
    }
}

/// `--verify`: the journey replayed once, one session on one connection, step by step against
/// the recording.
enum ImportVerify {
    static func run(_ imported: LoadSpec, result: ImportResult) throws -> Bool {
        var spec = imported
        spec.requests = spec.requests.map { var r = $0; r.thinkTime = nil; return r }
        spec.connections = 1
        spec.threads = 1
        spec.stop = .sessions(1)
        spec.mode = .avalanche
        spec.pacing = nil
        let run: LoadRun
        do { run = try LoadRun(config: spec) } catch {
            printError("verify: cannot start: \(error)")
            return false
        }
        let outcome = try run.run { _ in }
        let report = LoadReport(testID: "verify", result: outcome)
        var out = "verify: one session against \(result.origin)\n"
        var matched = 0
        for (k, request) in result.requests.enumerated() {
            let name = request.displayName
            let recorded = result.recordedStatuses[k]
            var line = "  \(k + 1). \(name): recorded \(recorded)"
            guard let figures = report.by_name?[name], figures.responses > 0 else {
                // No response: only transport errors (and redirects past the last hop) can be counted.
                let kinds = (report.by_name?[name]?.errors.byKind ?? []).filter { $0.count > 0 }.map(\.kind)
                out += line + ", replayed: " + (kinds.isEmpty ? "not sent (an earlier step failed)" : "no response (\(kinds.joined(separator: ", ")))") + "\n"
                continue
            }
            // A followed redirect's later hops count under "NAME redirect": the step's answer is the chain's last.
            let hops = report.by_name?["\(name) redirect"]
            let codes = (hops ?? figures).status_codes.byCode.keys.compactMap(Int.init).sorted()
            let replayed = codes.first { !(300..<400).contains($0) } ?? codes.first ?? 0
            let statusOK = replayed == recorded || recorded == 304 && (200..<300).contains(replayed)
            line += ", replayed \(replayed)\(statusOK ? "" : " (differs)")"
            var capturesOK = true
            if !request.captures.isEmpty {
                capturesOK = figures.errors.capture + (hops?.errors.capture ?? 0) == 0
                let names = request.captures.map(\.variable).joined(separator: ", ")
                line += capturesOK ? "; captured \(names)" : "; capture not found (\(names))"
            }
            if statusOK && capturesOK { matched += 1 }
            out += line + "\n"
        }
        let completed = report.sessions?.completed ?? 0
        let ok = matched == result.requests.count && completed == 1
        out += "verify: \(matched) of \(result.requests.count) steps match; the session \(completed == 1 ? "completed" : "did not complete")"
        if let first = report.first_error, !ok { out += " (first error: \(first))" }
        FileHandle.standardError.write(Data((out + "\n").utf8))
        return ok
    }
}
