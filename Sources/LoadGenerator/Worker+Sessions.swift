import HTTP1
import Sessions
import StampedeModel

extension SplitMix64: RandomNumberGenerator {}

/// Why a session ended early, counted under the step (request name) where it happened.
enum SessionFailure {
    case capture, check, status4xx, status5xx, redirects
    case transport(Failure)

    func count(into e: inout ErrorCounts) {
        switch self {
        case .capture: e.capture += 1
        case .check: e.check += 1
        case .status4xx: e.status_4xx += 1
        case .status5xx: e.status_5xx += 1
        case .redirects: e.redirects += 1
        case .transport(let kind): kind.count(into: &e)
        }
    }
}

/// Sessions (`order: sequence`): each pass through the list is one user's visit. It starts with
/// its first request, carries values captured from a response into later requests, thinks
/// between requests, and ends completed (its last response), failed (at the step that broke it)
/// or interrupted (the run ended during it). Its duration counts from its arrival.
extension Worker {
    /// The first request of a pass is about to be rendered: a new session, with its own number
    /// (and data row). Its arrival is the first request's intended send (the open model sets it
    /// when the session is given a free connection).
    func beginSession(_ i: Int, now: UInt64) {
        figures.second.counters.sessions.started += 1
        schedule.startSession()
        conns[i].inSession = true
        conns[i].sessionThinkNs = 0
        conns[i].sessionNumber = workload.nextSession()
        if !schedule.pacesSessions { conns[i].sessionArrival = schedule.isTsunami ? conns[i].nextSend : now }
    }

    /// A response in a test with sessions or redirects: the next hop, a failed step, the
    /// captures and think time of one that went well.
    func sessionResponse(_ i: Int, status: Int, latencyUs: Int64, now: UInt64) {
        let redirect = workload.followRedirects > 0 ? redirectOutcome(i, status: status) : .none
        let failure = recordResponse(i, status: status, latencyUs: latencyUs, redirect: redirect)
        recordTimings(i, latencyUs: latencyUs, now: now)
        if case .follow = redirect {
            conns[i].hops += 1
            return
        }
        // Failures count under the name of the response that had them (`NAME redirect` after hops).
        if let failure {
            failSession(i, failure)
        } else if !conns[i].sessionStep || runCaptures(i, status: status) {
            stepSucceeded(i, now: now)
        }
        conns[i].hops = 0
    }

    /// The step's last response arrived and nothing failed: the session goes on (think time
    /// first) or, after its last step, is complete. Without sessions (`order: random`), only the
    /// think time applies.
    func stepSucceeded(_ i: Int, now: UInt64) {
        if conns[i].inSession && conns[i].journey == 0 {
            let durationNs = now &- conns[i].sessionArrival
            endSession(i)
            let durationUs = Int64((durationNs + 500) / 1000)
            figures.second.sessions?.duration.record(durationUs)
            figures.second.sessions?.active.record(Int64((durationNs &- Swift.min(durationNs, conns[i].sessionThinkNs) + 500) / 1000))
            figures.second.counters.sessions.completed += 1
            // The last step's think time: the user rests before the next session (closed
            // model; in the open model the next session is another user's).
            if !schedule.pacesSessions, let think = facts[conns[i].current].thinkTime { conns[i].thinkUntil = now + think.sampleNs(&random) }
            return
        }
        if let think = facts[conns[i].current].thinkTime {
            let pause = think.sampleNs(&random)
            conns[i].thinkUntil = now + pause
            if conns[i].inSession { conns[i].sessionThinkNs += pause }
        }
    }

    /// The session ends here: its later requests are not sent, and the connection's next
    /// request begins a new session (with a fresh jar under `cookies: session`).
    func failSession(_ i: Int, _ failure: SessionFailure) {
        guard conns[i].inSession else { return }
        endSession(i)
        failure.count(into: &figures.second.counters.sessions.failures)
        if workload.tracksNames { failure.count(into: &figures.second.byName[position: currentNameIndex(i)].counters.sessions.failures) }
    }

    private func endSession(_ i: Int) {
        conns[i].inSession = false
        conns[i].journey = 0
        conns[i].thinkUntil = 0
        conns[i].next = nil
        // Between sessions a connection holds no arrival (a counted closed loop asks the
        // schedule whether another may start).
        conns[i].sessionArrival = 0
    }

    /// The run ends with sessions under way: each is counted as interrupted, never dropped.
    func interruptSessions() {
        for i in conns.indices where conns[i].inSession {
            conns[i].inSession = false
            figures.second.counters.sessions.interrupted += 1
        }
    }

    /// Runs the captures of the request whose response just ended, straight into the session's
    /// variable slots. Returns false when the session failed: a value was not found (and had no
    /// default) or cannot go where it is used; the failure is counted (`errors.capture`, and the
    /// session's failure at this step).
    func runCaptures(_ i: Int, status: Int) -> Bool {
        let program = workload.programs[conns[i].current]
        guard !program.captures.isEmpty, let runner = captureRunners[conns[i].current], let recorderRef = conns[i].recorderRef else {
            return true
        }
        var unfit: Int?
        // The recorder unretained (the connection keeps it), its body read in place; decoded
        // first when it came gzip- or deflate-encoded.
        let missing = recorderRef._withUnsafeGuaranteedRef { recorder in
            defer { if program.capturesBody { recorder.releaseBody() } }
            if program.capturesBody && isContentEncoded(recorder), let decoded = Gunzip.decode(recorder.body, limit: workload.captureBytes) {
                return decoded.withUnsafeBytes { run(i, program, runner, ResponseView(headers: recorder, body: $0), unfit: &unfit) }
            }
            return recorder.bodyBytes.withUnsafeBytes { run(i, program, runner, ResponseView(headers: recorder, body: $0), unfit: &unfit) }
        }
        if let missing {
            return captureFailed(i, "capture '\(missing)' of \(workload.names[program.nameIndex]): not found in the response (status \(status))")
        }
        if let k = unfit {
            let v = program.captures[k].variable
            let inURL = workload.variableInURL[program.captureSlots[k]]
            return captureFailed(i, "capture '\(v)' of \(workload.names[program.nameIndex]): " + (inURL
                ? "the value cannot go in a URL as it is (write {{var.\(v)|url}})" : "the value has a line break and cannot go in a header"))
        }
        return true
    }

    /// The response came gzip- or deflate-encoded (its kept Content-Encoding says so): captures
    /// and `expect_body` read its body decoded.
    func isContentEncoded(_ recorder: HeaderRecorder) -> Bool {
        guard workload.contentEncodingIndex >= 0,
              let coding = recorder.firstValue(of: workload.contentEncodingIndex) else { return false }
        let name = String(decoding: coding, as: UTF8.self).lowercased()
        return name == "gzip" || name == "deflate"
    }

    /// The captures into the session's slots; `unfit`: the first rule whose value cannot go
    /// where it is used unfiltered.
    private func run(_ i: Int, _ program: RequestProgram, _ runner: CaptureRunner, _ view: ResponseView, unfit: inout Int?) -> String? {
        var firstUnfit: Int?
        // The jar is read only for a cookie capture (passing it copied it per run).
        let missing = runner.run(view, cookie: { conns[i].jar.value(named: $0, host: endpoints[conns[i].origin].cookieHost) }) { k, bytes in
            let slot = program.captureSlots[k]
            if workload.variableInURL[slot] && bytes.contains(where: { $0 <= 32 || $0 >= 127 }) { firstUnfit = firstUnfit ?? k }
            if workload.variableInHeader[slot] && bytes.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) { firstUnfit = firstUnfit ?? k }
            // The slot's storage is reused from session to session.
            conns[i].variables[slot].set(bytes)
        }
        unfit = firstUnfit
        return missing
    }

    private func captureFailed(_ i: Int, _ why: @autoclosure () -> String) -> Bool {
        figures.second.counters.errors.capture += 1
        if workload.tracksNames { figures.second.byName[position: currentNameIndex(i)].counters.errors.capture += 1 }
        noteFirstError(why())
        failSession(i, .capture)
        return false
    }

    /// The name the request in flight counts under: its own, or `NAME redirect` for a hop.
    @inline(__always)
    func currentNameIndex(_ i: Int) -> Int {
        let n = facts[conns[i].current].nameIndex
        return conns[i].hops > 0 ? workload.redirectNames[n] : n
    }
}
