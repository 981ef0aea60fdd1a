import Foundation

/// The orchestrator's REST API as tests use it, over whatever reaches it (loopback, or curl run
/// inside a test host's namespace): what both `Cluster` and `HostCluster` offer.
public protocol ClusterAPI {
    /// Calls the REST API; returns status and body.
    func call(_ method: String, _ path: String, body: String?, headers: [String]) throws -> (Int, String)
    /// Where the orchestrator writes its reports.
    var reportsDirectory: URL { get }
}

/// A finished test's `latency.hlog`, read with Python's hdrhistogram: requests per second, total.
public struct LatencyLog: Decodable {
    public let intervals: [Int64]
    public let total: Int64
}

extension ClusterAPI {
    public func api(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) throws -> (Int, String) {
        try call(method, path, body: body, headers: headers)
    }

    /// GET /drivers, by id.
    public func driverList() throws -> [String: [String: Any]] {
        let (_, body) = try api("GET", "/drivers")
        let list = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]]) ?? []
        return Dictionary(uniqueKeysWithValues: list.compactMap { d in (d["id"] as? String).map { ($0, d) } })
    }

    public func idleDrivers() throws -> Int {
        try driverList().values.filter { $0["state"] as? String == "idle" }.count
    }

    public func json(_ method: String, _ path: String, body: String? = nil) throws -> (Int, [String: Any]) {
        let (status, text) = try api(method, path, body: body)
        return (status, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:])
    }

    /// Creates a test from a TestConfig body (`test_id` set to `id`) and triggers it; returns the
    /// trigger's HTTP status.
    public func startTest(_ id: String, _ config: String) throws -> Int {
        let (created, answer) = try json("POST", "/tests", body: "{\"test_id\": \"\(id)\", " + config.dropFirst())
        guard created == 201 else { throw ProcessFailure(description: "POST /tests: \(created) \(answer)") }
        return try json("POST", "/trigger", body: "{\"test_id\": \"\(id)\"}").0
    }

    /// Waits for a test to end; returns its status and report.
    public func finishedTest(_ id: String, seconds: Double = 90) throws -> (status: String, report: [String: Any], detail: [String: Any]) {
        let detail = try waitForTest(id, seconds: seconds)
        return (detail["status"] as? String ?? "", detail["report"] as? [String: Any] ?? [:], detail)
    }

    public func latencyLog(_ id: String) throws -> LatencyLog {
        let path = reportsDirectory.appendingPathComponent("\(id)/latency.hlog").path
        return try python("readlog", ["path": path, "percentiles": [50.0]], as: LatencyLog.self)
    }

    /// Waits until a running test's live report shows it `seconds` into its run with at least
    /// `requests` requests reported (so a fault lands mid-test, whatever the start-up took).
    public func waitForProgress(_ id: String, seconds: Double, requests: Int = 1, timeout: Double = 30) throws {
        try waitUntil(seconds: timeout) {
            let (_, detail) = try self.json("GET", "/tests/\(id)")
            let report = detail["report"] as? [String: Any] ?? [:]
            return detail["status"] as? String == "running" && (report["duration_s"] as? Double ?? 0) >= seconds
                && (report["requests"] as? Int ?? 0) >= requests
        }
    }

    /// Polls GET /tests/{id} until its status is done or failed (bounded).
    public func waitForTest(_ id: String, seconds: Double = 90) throws -> [String: Any] {
        var last: [String: Any] = [:]
        try waitUntil(seconds: seconds) {
            last = try self.json("GET", "/tests/\(id)").1
            return ["done", "failed"].contains(last["status"] as? String ?? "")
        }
        return last
    }

}
