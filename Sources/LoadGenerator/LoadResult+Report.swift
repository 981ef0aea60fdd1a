import StampedeModel

extension LoadReport {
    /// The report of a local run (`stampede bench`).
    public init(testID: String, result: LoadResult, drivers: [String] = ["local"], thresholds: [Threshold] = []) {
        let c = result.counters
        let config = result.config
        self.init(testID: testID, mode: config.mode, target: config.listForm ? config.target.origin : config.target.description,
                  startedAt: result.startedAt, duration: result.duration, drivers: drivers, counters: c,
                  latency: result.latency, serviceTime: result.serviceTime, thresholds: thresholds)
        connections = result.config.connections
        sockets = result.sockets
        threads = result.config.threads
        interrupted = result.interrupted ? true : nil
        first_error = result.firstError
        first_check_failure = result.firstCheckFailure
        // https anywhere in the test (a list may mix origins).
        let tls = result.config.target.isTLS || result.config.requests.contains { $0.url.lowercased().hasPrefix("https:") }
        tls_handshakes = tls ? c.tlsHandshakes : nil
        tls_resumed = tls ? c.tlsResumed : nil
        setByName(result.byName)
        setTimings(result.figures.timings)
        if config.schedulesRequests { setIntended(c, perSecond: result.unsentPerSecond) }
        if let sessions = result.sessions {
            setSessions(c.sessions, histograms: sessions, byName: result.byName, onlyStep: result.config.requests[0].displayName)
        }
        seed = result.seed
        if result.scenarios.count > 1 {
            let reports = Dictionary(uniqueKeysWithValues: result.scenarios.map { s in
                (s.name, LoadReport(scenario: s.scenario, testID: testID, figures: s.figures,
                                    startedAt: result.startedAt.addingTimeInterval(s.scenario.startAfterS), duration: s.duration,
                                    drivers: drivers, unsentPerSecond: s.unsentPerSecond))
            })
            connections = result.scenarios.map(\.scenario.load.connections).reduce(0, +)
            if let sessions = result.sessions, sessions.duration.totalCount > 0 || c.sessions.started > 0, self.sessions == nil {
                setSessions(c.sessions, histograms: sessions, byName: result.byName, onlyStep: result.config.requests[0].displayName)
            }
            setScenarios(reports)
        }
        if let phase = result.connectPhase {
            setConnectPhase(connectTime: phase.connectTime, seconds: phase.seconds, errors: phase.failed, lateSeconds: phase.lateSeconds)
        }
    }
}
