import StampedeModel

/// Which request a connection sends next, its bytes, and how its outcome is counted (in total
/// and, for a list of requests, under its name).
extension Worker {
    /// Picks the connection's next request, and makes the socket to its origin the active one
    /// (parking the other; a test with one origin never switches).
    @inline(__always)
    func chooseRequest(_ i: Int) {
        let index: Int
        if workload.order == .sequence {
            index = conns[i].journey
            // A new pass through the list is a new session: its own cookies only.
            if index == 0 && workload.cookies == .session { conns[i].jar.removeAll() }
            conns[i].journey = index + 1 == workload.programs.count ? 0 : index + 1
        } else {
            index = workload.picker.pick(&random)
        }
        conns[i].next = index
        let origin = workload.programs[index].origin
        if origin != conns[i].origin { switchOrigin(i, to: origin) }
    }

    /// Makes the chosen request's bytes ready in `outgoing`: the encoded message, or the
    /// connection's buffer with the templates rendered. Returns whether the request is
    /// idempotent (read here, where the program is at hand: one look-up per request).
    @inline(__always)
    func prepareRequest(_ i: Int) -> Bool {
        conns[i].current = conns[i].next ?? conns[i].current
        conns[i].next = nil
        let program = workload.programs[conns[i].current]
        if let fixed = program.fixed {
            conns[i].outgoing = fixed
        } else {
            let values = RenderValues(sequence: program.needsSequence ? workload.nextSequence() : 0,
                                      connection: connectionOffset + i, driver: workload.driver, rows: workload.rows,
                                      variables: conns[i].variables)
            program.render(into: &conns[i].render, scratch: &scratch, values: values, random: &random)
            conns[i].outgoing = conns[i].render.bytes
        }
        if !conns[i].jar.cookies.isEmpty { addCookies(i) }
        conns[i].sessionStep = program.isSessionStep
        resetParser(i, for: program)
        if workload.tracksNames { nameInterval[program.nameIndex].counters.requests += 1 }
        return program.idempotent
    }

    /// Ready to read the response to the connection's current request (`program`).
    @inline(__always)
    func resetParser(_ i: Int, for program: RequestProgram) {
        conns[i].parser.reset(bodiless: program.bodiless, bodyScanner: program.expectBody, recorder: conns[i].recorder,
                              bodyLimit: program.capturesBody ? workload.captureBytes : 0)
    }

    /// Counts a whole response: its status, its checks and its latency.
    @inline(__always)
    func recordResponse(_ i: Int, status: Int, latencyUs: Int64) {
        let program = workload.programs[conns[i].current]
        var check = !conns[i].parser.bodyMatched
        if !program.expectStatus.isEmpty && !program.expectStatus.contains(where: { $0.matches(status) }) { check = true }
        // Given expect_status, the checks say which statuses are errors; otherwise 4xx and 5xx are.
        let judgeByClass = program.expectStatus.isEmpty
        Self.count(status: status, check: check, judgeByClass: judgeByClass, into: &intervalCounters)
        if workload.tracksNames {
            let n = program.nameIndex
            Self.count(status: status, check: check, judgeByClass: judgeByClass, into: &nameInterval[n].counters)
            nameInterval[n].latency.record(latencyUs)
        }
    }

    @inline(__always)
    private static func count(status: Int, check: Bool, judgeByClass: Bool, into c: inout LoadCounters) {
        c.responses += 1
        c.statusCodes.record(status)
        if check { c.errors.check += 1 }
        if judgeByClass {
            if status >= 500 { c.errors.status_5xx += 1 } else if status >= 400 { c.errors.status_4xx += 1 }
        }
    }

    /// Counts a failure of the request in flight under its name (the total counts it in `fail`).
    func recordFailureByName(_ i: Int, _ kind: Failure) {
        guard workload.tracksNames else { return }
        kind.count(into: &nameInterval[workload.programs[conns[i].current].nameIndex].counters.errors)
    }

    /// Per-name figures of the second just ended, folded into the totals.
    func takeNameInterval() -> [NamedFigures] {
        guard workload.tracksNames else { return [] }
        let sample = nameInterval
        for k in nameInterval.indices {
            do { try nameTotals[k].add(nameInterval[k]) } catch { noteFirstError("per-name histogram: \(error)") }
            nameInterval[k].counters = LoadCounters()
            nameInterval[k].latency.reset()
        }
        return sample
    }
}
