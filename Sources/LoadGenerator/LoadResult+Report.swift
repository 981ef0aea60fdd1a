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
        threads = result.config.threads
        interrupted = result.interrupted ? true : nil
        tls_handshakes = result.config.target.isTLS ? c.tlsHandshakes : nil
        tls_resumed = result.config.target.isTLS ? c.tlsResumed : nil
        setByName(result.byName)
        seed = result.seed
    }
}
