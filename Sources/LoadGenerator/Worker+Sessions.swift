import HTTP1
import Sessions
import StampedeModel

extension SplitMix64: RandomNumberGenerator {}

/// Sessions (`order: sequence`): values captured from a response for the session's later
/// requests, a capture that finds nothing failing the session, and think time between requests.
extension Worker {
    /// Runs the captures of the request whose response just ended. Returns false when the session
    /// failed: a value was not found (and had no default) or cannot go where it is used; the
    /// failure is counted (`errors.capture`) and the next request starts a new session.
    func runCaptures(_ i: Int, status: Int) -> Bool {
        let program = workload.programs[conns[i].current]
        guard !program.captures.isEmpty, let runner = captureRunners[conns[i].current], let recorder = conns[i].recorder else {
            return true
        }
        var headers: [(name: String, value: String)] = []
        for (k, value) in recorder.values {
            headers.append((workload.recordedHeaders[k], String(decoding: value, as: UTF8.self)))
        }
        var body = recorder.body
        if let coding = headers.first(where: { $0.name == "content-encoding" })?.value.lowercased(),
           coding == "gzip" || coding == "deflate", let decoded = Gunzip.decode(body, limit: workload.captureBytes) {
            body = decoded
        }
        var found: [String: String] = [:]
        let host = endpoints[conns[i].origin].serverName
        let missing = body.withUnsafeBytes { bytes in
            runner.run(ResponseView(headers: headers, body: bytes), jar: conns[i].jar, host: host, into: &found)
        }
        if let missing {
            return failSession(i, "capture '\(missing)' of \(workload.names[program.nameIndex]): not found in the response (status \(status))")
        }
        for (rule, slot) in zip(program.captures, program.captureSlots) {
            let value = Array((found[rule.variable] ?? "").utf8)
            if workload.variableInURL[slot] && value.contains(where: { $0 <= 32 || $0 >= 127 }) {
                return failSession(i, "capture '\(rule.variable)' of \(workload.names[program.nameIndex]): the value cannot go in a URL as it is (write {{var.\(rule.variable)|url}})")
            }
            if workload.variableInHeader[slot] && value.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
                return failSession(i, "capture '\(rule.variable)' of \(workload.names[program.nameIndex]): the value has a line break and cannot go in a header")
            }
            conns[i].variables[slot] = value
        }
        return true
    }

    /// The session ends here: its later requests are not sent, and the next request begins a new
    /// session (with a fresh jar under `cookies: session`).
    private func failSession(_ i: Int, _ why: @autoclosure () -> String) -> Bool {
        intervalCounters.errors.capture += 1
        if workload.tracksNames { nameInterval[workload.programs[conns[i].current].nameIndex].counters.errors.capture += 1 }
        noteFirstError(why())
        conns[i].journey = 0
        conns[i].thinkUntil = 0
        return false
    }

    /// After a response whose session goes on: the think time before its next request.
    func startThinking(_ i: Int, now: UInt64) {
        guard let think = workload.programs[conns[i].current].thinkTime else { return }
        conns[i].thinkUntil = now + think.sampleNs(&random)
    }
}
