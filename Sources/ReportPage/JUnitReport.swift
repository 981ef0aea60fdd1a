import StampedeModel

/// A test's thresholds as JUnit XML, the file CI systems already read (Jenkins' JUnit plugin,
/// GitLab, GitHub actions, `junitparser`): one test suite per test (and one per scenario of a test
/// with scenarios, holding that scenario's thresholds), one test case per threshold
/// with the measured value and the limit, a failed threshold a `<failure>` with a one-line
/// message; a test that could not complete adds a case with an `<error>`. The Ant/Jenkins
/// schema's elements and attributes only.
public enum JUnitReport {
    public static func render(_ report: LoadReport) -> String {
        let suiteName = "stampede.\(report.test_id)"
        let scenarios = (report.scenarios ?? [:]).sorted { $0.key < $1.key }
        // A scenario's thresholds go in its own suite (the test's list names them SCENARIO/NAME).
        let own = report.thresholds.results.filter { r in !scenarios.contains { r.name.hasPrefix($0.key + "/") } }
        var (cases, failures) = thresholdCases(own, suite: suiteName)
        var errors = 0
        if let search = report.search {
            // A capacity search: each step is a case (its SLOs held or not), and the search
            // fails when no rate held them.
            for step in search.steps {
                let unit = "req/s"
                var testcase = "    <testcase classname=\"\(xml(suiteName)).search\" name=\"\(xml("\(number(step.rate)) \(unit) holds the SLOs"))\" time=\"0\">\n"
                testcase += "      <system-out>\(xml("achieved \(number(step.achieved_rps)) \(unit), p99 \(number(step.p99_ms)) ms, error rate \(number(step.error_rate))"))</system-out>\n"
                if !step.passed {
                    failures += 1
                    let message = "at \(number(step.rate)) \(unit): " + (step.failed.isEmpty ? (step.note ?? "the rate was not reached") : "broke \(step.failed.joined(separator: ", "))")
                    testcase += "      <failure type=\"search step\" message=\"\(xml(message))\">\(xml(message))</failure>\n"
                }
                cases.append(testcase + "    </testcase>\n")
            }
            var found = "    <testcase classname=\"\(xml(suiteName)).search\" name=\"a rate holds every SLO\" time=\"0\">\n"
            if let max = search.max_rate {
                found += "      <system-out>max rate \(number(max))</system-out>\n"
            } else {
                failures += 1
                let message = "no tested rate held the SLOs" + (search.note.map { ": \($0)" } ?? "")
                found += "      <failure type=\"search\" message=\"\(xml(message))\">\(xml(message))</failure>\n"
            }
            cases.append(found + "    </testcase>\n")
        }
        if let aborted = report.aborted {
            failures += 1
            cases.append("    <testcase classname=\"\(xml(suiteName))\" name=\"not aborted\" time=\"\(number(aborted.at_s))\">\n"
                         + "      <failure type=\"aborted\" message=\"\(xml(aborted.sentence))\">\(xml(aborted.sentence))</failure>\n    </testcase>\n")
        }
        if let error = report.error {
            errors += 1
            cases.append("    <testcase classname=\"\(xml(suiteName))\" name=\"test completes\" time=\"\(number(report.duration_s))\">\n"
                         + "      <error type=\"test\" message=\"\(xml(error))\">\(xml(error))</error>\n    </testcase>\n")
        }
        let properties = [("target", report.target), ("mode", report.mode), ("requests", "\(report.requests)"),
                          ("responses", "\(report.responses)"), ("rps", number(report.rps)),
                          ("partial", "\(report.partial)"), ("interrupted", "\(report.interrupted ?? false)")]
        var suites = [suite(suiteName, cases: cases, failures: failures, errors: errors, properties: properties, of: report)]
        var totals = (tests: cases.count, failures: failures)
        for (name, part) in scenarios {
            let scenarioSuite = "\(suiteName).\(name)"
            let (cases, failures) = thresholdCases(part.thresholds.results, suite: scenarioSuite)
            let properties = [("scenario", name), ("mode", part.mode), ("requests", "\(part.requests)"), ("responses", "\(part.responses)"),
                              ("rps", number(part.rps)), ("start_after_s", number(part.start_after_s ?? 0))]
            suites.append(suite(scenarioSuite, cases: cases, failures: failures, errors: 0, properties: properties, of: part))
            totals = (totals.tests + cases.count, totals.failures + failures)
        }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"stampede\" tests=\"\(totals.tests)\" failures=\"\(totals.failures)\" errors=\"\(errors)\" time=\"\(number(report.duration_s))\">\n"
        out += suites.joined()
        out += "</testsuites>\n"
        return out
    }

    /// A test case per threshold, a failed one with its `<failure>`; and how many failed.
    static func thresholdCases(_ results: [ThresholdReport.Result], suite suiteName: String) -> ([String], Int) {
        var cases: [String] = []
        var failures = 0
        for r in results {
            let comparison = r.name.hasSuffix("min_rps") ? ">=" : "<="
            var testcase = "    <testcase classname=\"\(xml(suiteName))\" name=\"\(xml("\(r.name) \(comparison) \(number(r.limit))"))\" time=\"0\">\n"
            testcase += "      <system-out>\(xml("\(r.name): measured \(number(r.actual)), limit \(number(r.limit))"))</system-out>\n"
            if !r.passed {
                failures += 1
                let message = "\(r.name) was \(number(r.actual)), limit \(comparison) \(number(r.limit))"
                testcase += "      <failure type=\"threshold\" message=\"\(xml(message))\">\(xml(message))</failure>\n"
            }
            cases.append(testcase + "    </testcase>\n")
        }
        return (cases, failures)
    }

    static func suite(_ name: String, cases: [String], failures: Int, errors: Int, properties: [(String, String)], of report: LoadReport) -> String {
        var out = "  <testsuite name=\"\(xml(name))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\""
            + " time=\"\(number(report.duration_s))\" timestamp=\"\(xml(String(report.started_at.prefix(19))))\">\n"
        out += "    <properties>\n"
        for (name, value) in properties { out += "      <property name=\"\(name)\" value=\"\(xml(value))\"/>\n" }
        out += "    </properties>\n"
        return out + cases.joined() + "  </testsuite>\n"
    }

    /// A number as a person reads it: integers without a fraction, others to 3 decimals.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        if v == v.rounded() && abs(v) < 1e15 { return "\(Int64(v))" }
        return String((v * 1000).rounded() / 1000)
    }

    /// Text and attribute values escaped; characters XML 1.0 cannot hold are replaced.
    static func xml(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                let allowed = (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v) || (0x10000...0x10FFFF).contains(v)
                out.unicodeScalars.append(allowed ? scalar : "\u{FFFD}")
            }
        }
        return out
    }
}
