import Messaging
import StampedeModel
import StampedeWire

/// Prometheus text exposition (format 0.0.4) of the orchestrator's state.
extension Orchestrator {
    func prometheusText() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func label(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        family("stampede_drivers", "gauge", "Registered drivers by state.")
        for state in [DriverState.idle, .busy, .failed] {
            out += "stampede_drivers{state=\"\(state.rawValue)\"} \(registry.count(state))\n"
        }
        family("stampede_tests", "gauge", "Tests by status.")
        for status in [TestRun.Status.created, .running, .done, .failed] {
            out += "stampede_tests{status=\"\(status.rawValue)\"} \(book.all.filter { $0.status == status }.count)\n"
        }
        var totals = LoadCounters()
        var reports: [(String, LoadReport)] = []
        for run in book.all {
            guard let report = run.report ?? (run.status == .running ? try? run.buildReport(nowMs: clock.wallMs()).report : nil)
            else { continue }
            totals = totals + LoadCounters(requests: report.requests, responses: report.responses, errors: report.errors)
            reports.append((run.id, report))
        }
        family("stampede_requests_total", "counter", "Requests sent by drivers, all tests.")
        out += "stampede_requests_total \(totals.requests)\n"
        family("stampede_responses_total", "counter", "Complete responses of any status, all tests.")
        out += "stampede_responses_total \(totals.responses)\n"
        family("stampede_errors_total", "counter", "Failed requests and error statuses by kind, all tests.")
        let e = totals.errors
        for (kind, n) in [("connect", e.connect), ("tls", e.tls), ("timeout", e.timeout), ("read", e.read), ("write", e.write), ("parse", e.parse),
                          ("status_4xx", e.status_4xx), ("status_5xx", e.status_5xx)] {
            out += "stampede_errors_total{kind=\"\(kind)\"} \(n)\n"
        }
        family("stampede_test_latency_seconds", "summary",
               "Latency per test (and per scenario of a test with scenarios, labelled scenario), from the merged HDR histogram.")
        for (id, whole) in reports {
            let parts = [(nil, whole)] + (whole.scenarios ?? [:]).sorted { $0.key < $1.key }.map { (Optional($0.key), $0.value) }
            for (scenario, r) in parts {
                let labels = "test_id=\"\(label(id))\"" + (scenario.map { ",scenario=\"\(label($0))\"" } ?? "")
                let l = r.latency_us
                for (q, v) in [("0.5", l.p50), ("0.9", l.p90), ("0.99", l.p99), ("0.999", l.p999), ("1", l.max)] {
                    out += "stampede_test_latency_seconds{\(labels),quantile=\"\(q)\"} \(Double(v) / 1e6)\n"
                }
                out += "stampede_test_latency_seconds_sum{\(labels)} \(l.mean * Double(r.responses) / 1e6)\n"
                out += "stampede_test_latency_seconds_count{\(labels)} \(r.responses)\n"
            }
        }
        family("stampede_test_phase_seconds", "summary",
               "Where requests' time went per test (and per request name, labelled name): phase connect (TCP, new connections), tls (handshake), waiting (last byte sent to first byte back), receiving (first byte to the end).")
        for (id, whole) in reports {
            let parts = [(nil, whole.phases(connects: whole.connects ?? 0, handshakes: whole.tls_handshakes ?? 0, responses: whole.responses))]
                + (whole.by_name ?? [:]).sorted { $0.key < $1.key }.map { name, n in
                    (Optional(name), n.phases(connects: n.connects ?? 0, handshakes: n.tls_handshakes ?? 0, responses: n.responses))
                }
            for (name, phases) in parts {
                for (phase, summary, count) in phases {
                    guard let l = summary else { continue }
                    let labels = "test_id=\"\(label(id))\",phase=\"\(phase)\"" + (name.map { ",name=\"\(label($0))\"" } ?? "")
                    for (q, v) in [("0.5", l.p50), ("0.9", l.p90), ("0.99", l.p99), ("1", l.max)] {
                        out += "stampede_test_phase_seconds{\(labels),quantile=\"\(q)\"} \(Double(v) / 1e6)\n"
                    }
                    out += "stampede_test_phase_seconds_sum{\(labels)} \(l.mean * Double(count) / 1e6)\n"
                    out += "stampede_test_phase_seconds_count{\(labels)} \(count)\n"
                }
            }
        }
        family("stampede_scenario_requests_total", "counter", "Requests sent per scenario of a test with scenarios.")
        for (id, whole) in reports {
            for (scenario, r) in (whole.scenarios ?? [:]).sorted(by: { $0.key < $1.key }) {
                out += "stampede_scenario_requests_total{test_id=\"\(label(id))\",scenario=\"\(label(scenario))\"} \(r.requests)\n"
            }
        }
        family("stampede_merge_seconds_total", "counter", "CPU time spent decoding and merging drivers' interval histograms.")
        out += "stampede_merge_seconds_total \(book.mergeCPUSeconds)\n"
        family("stampede_merged_histograms_total", "counter", "Histograms merged from drivers' intervals (latency, timings, per name, per scenario, sessions).")
        out += "stampede_merged_histograms_total \(book.mergedHistograms)\n"
        family("stampede_websocket_clients", "gauge", "Connected WebSocket clients.")
        out += "stampede_websocket_clients \(hub.clientCount)\n"
        family("stampede_websocket_dropped_total", "counter", "WebSocket clients dropped for being slow or silent.")
        out += "stampede_websocket_dropped_total \(hub.dropped)\n"
        return out
    }
}
