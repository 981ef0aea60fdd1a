import Foundation
import HTTP1
import HTTPServer
import Reactor
import StampedeModel
import StampedeWire
import WebSocket

/// The REST API (docs/rest-api.md), answered on the reactor thread: maps requests to the test
/// book and the registry, and their results and typed errors to statuses. Errors are
/// `{"error": "...", "field": "..."}` with a 4xx/5xx status.
extension Orchestrator: HTTPServerHandler {
    struct ErrorBody: Encodable {
        let error: String
        let field: String?
    }

    public func handle(_ request: HTTPRequest, now: UInt64) -> HTTPServerReply {
        let origin = request.header("origin")
        let cors = origin.flatMap { options.allowedOrigins.contains($0) ? $0 : nil }
        var reply = timed("\(request.method) \(request.path)") { route(request) }  // the path alone: a query may carry a token
        guard let cors else { return reply }
        func allowed(_ response: HTTPResponse) -> HTTPResponse {
            var response = response
            response.headers += [("Access-Control-Allow-Origin", cors), ("Vary", "Origin")]
            return response
        }
        switch reply {
        case .respond(let response): reply = .respond(allowed(response))
        case .later(let start): reply = .later { reply in start { reply(allowed($0)) } }
        default: break
        }
        return reply
    }

    private func route(_ request: HTTPRequest) -> HTTPServerReply {
        let path = request.path
        let segments = path.split(separator: "/").map(String.init)
        if request.method == "OPTIONS" {
            return .respond(HTTPResponse(status: 204, headers: [
                ("Access-Control-Allow-Methods", "GET, POST, PATCH, OPTIONS"),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type"), ("Access-Control-Max-Age", "600")]))
        }
        if let page = publicPage(request) { return page }
        if path == "/ping" {
            return request.method == "GET" ? json(200, ["status": "ok"]) : methodNotAllowed("GET")
        }
        if let denied = checkToken(request) { return denied }
        switch segments {
        case ["tests"]:
            switch request.method {
            case "POST":
                do { return json(201, ["test_id": try createTest(json: request.body)]) } catch { return failure(error) }
            case "GET": return json(200, book.summaries)
            default: return methodNotAllowed("GET, POST")
            }
        case let s where s.count == 2 && s[0] == "tests":
            if request.method == "PATCH" {
                struct Changed: Encodable { let test_id: String; let changes: [ChangeRecord] }
                do { return json(202, Changed(test_id: s[1], changes: try book.change(id: s[1], body: request.body))) } catch { return failure(error) }
            }
            guard request.method == "GET" else { return methodNotAllowed("GET, PATCH") }
            let id = s[1]
            guard book.knows(id) else { return failure(.notFound(testID: id)) }
            // Made off the reactor (a 1,000-name test's is ~1 MB), answered when ready.
            return .later { [unowned self] reply in
                book.detailJSON(id: id) { [unowned self] body in
                    if let body { return reply(HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)) }
                    if case .respond(let missing) = failure(.notFound(testID: id)) { reply(missing) }  // unreadable since
                }
            }
        case let s where s.count == 3 && s[0] == "tests" && (s[2] == "pause" || s[2] == "resume"):
            guard request.method == "POST" else { return methodNotAllowed("POST") }
            struct Changed: Encodable { let test_id: String; let status: String; let changes: [ChangeRecord] }
            do {
                let changes = try book.pause(id: s[1], paused: s[2] == "pause")
                return json(202, Changed(test_id: s[1], status: s[2] == "pause" ? "paused" : "running", changes: changes))
            } catch { return failure(error) }
        case let s where s.count == 3 && s[0] == "tests" && s[2] == "report.html":
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            guard let run = book[s[1]] else { return failure(.notFound(testID: s[1])) }
            let file = book.reports.directory.appendingPathComponent(run.id).appendingPathComponent("report.html")
            // Asked for in the moment between the test's end and its page on disk: wait for it.
            if run.status != .running && !FileManager.default.fileExists(atPath: file.path) { book.reports.pages.waitUntilWritten() }
            guard let page = FileManager.default.contents(atPath: file.path) else {
                return error(404, "test \(run.id) has no report.html yet (status \(run.status.rawValue)): it is written when the test ends", field: "test_id")
            }
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: [UInt8](page)))
        case let s where s.count == 3 && s[0] == "tests" && s[2] == "junit.xml":
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            guard let run = book[s[1]] else { return failure(.notFound(testID: s[1])) }
            let file = book.reports.directory.appendingPathComponent(run.id).appendingPathComponent("junit.xml")
            guard let xml = FileManager.default.contents(atPath: file.path) else {
                return error(404, "test \(run.id) has no junit.xml yet (status \(run.status.rawValue)): it is written when the test ends", field: "test_id")
            }
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/xml; charset=utf-8")], body: [UInt8](xml)))
        case let s where s.count == 3 && s[0] == "tests" && s[2] == "stop":
            guard request.method == "POST" else { return methodNotAllowed("POST") }
            struct Stopping: Encodable { let test_id: String; let status = "stopping" }
            do { return json(202, Stopping(test_id: try book.stop(id: s[1]).id)) } catch { return failure(error) }
        case ["history"]:
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return json(200, book.history.mapValues(\.count))
        case let s where s.count == 2 && s[0] == "history":
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            if let problem = HistoryRun.problem(withName: s[1]) { return error(400, problem, field: "name") }
            guard let runs = book.history[s[1]] else {
                return error(404, "no finished test is named '\(s[1])' (a TestConfig's name field names a test's family)", field: "name")
            }
            struct History: Encodable { let name: String; let runs: [HistoryRun] }
            return json(200, History(name: s[1], runs: runs))
        case ["trigger"]:
            guard request.method == "POST" else { return methodNotAllowed("POST") }
            return trigger(request)
        case ["drivers"]:
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return json(200, registry.infos(now: clock.monotonicNs()))
        case ["metrics"]:
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                         body: Array(prometheusText().utf8)))
        case ["ws"]:
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return upgrade(request)
        default:
            return error(404, "no such endpoint: \(request.method) \(path)", field: "path")
        }
    }

    /// The dashboard, its chart library and its icon: public, they hold no data (the page asks the
    /// API, with the token from its own ?token= parameter).
    private func publicPage(_ request: HTTPRequest) -> HTTPServerReply? {
        let segments = request.path.split(separator: "/")
        if segments.count == 3 && segments[0] == "history" && segments[2] == "page" {
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed("GET") }
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
                                         body: Array(HistoryPage.html.utf8)))
        }
        guard ["/", "/assets/chart.js", "/favicon.ico"].contains(request.path) else { return nil }
        guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed("GET") }
        switch request.path {
        case "/":
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
                                         body: Array(DashboardPage.html.utf8)))
        case "/favicon.ico":
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "image/svg+xml"), ("Cache-Control", "max-age=86400")],
                                         body: Array(DashboardPage.icon.utf8)))
        default:
            return chartLibrary()
        }
    }

    /// With `--token`, every endpoint but /ping needs `Authorization: Bearer <token>` (or, for /ws,
    /// `?token=<token>`, since browsers cannot set headers on WebSockets).
    private func checkToken(_ request: HTTPRequest) -> HTTPServerReply? {
        guard let token = options.token else { return nil }
        if let header = request.header("authorization"), constantTimeEquals(header, "Bearer \(token)") { return nil }
        // Browsers cannot set headers on WebSockets or on links: /ws and the pages a link opens
        // (GET /tests/...) also take ?token=.
        // A test's own pages only: "/tests/" is the list, which takes the header like any other.
        let testPage = request.method == "GET" && request.path.hasPrefix("/tests/") && request.path.split(separator: "/").count >= 2
        if request.path == "/ws" || testPage,
           let given = request.query["token"], constantTimeEquals(given, token) { return nil }
        return .respond(HTTPResponse(status: 401, headers: [("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer")],
                                     body: Array(encodeJSON(ErrorBody(error: "missing or wrong bearer token", field: "Authorization")).utf8)))
    }

    private func trigger(_ request: HTTPRequest) -> HTTPServerReply {
        guard let body = JSONValue.parse(request.body), case .object(let object) = body else {
            return error(400, "body must be a JSON object {\"test_id\": \"...\"}", field: "body")
        }
        let id: String?
        do { id = try FieldReader(object: object).string("test_id") } catch { return self.error(400, error.description, field: error.field) }
        guard let id else { return error(400, "test_id is required", field: "test_id") }
        struct Triggered: Encodable { let test_id: String; let status = "running"; let drivers: [String]; let start_at_ms: Int64 }
        do {
            let (drivers, startAt) = try triggerTest(id: id)
            return json(202, Triggered(test_id: id, drivers: drivers, start_at_ms: startAt))
        } catch { return failure(error) }
    }

    /// A test book refusal as a status and an error body naming the field.
    private func failure(_ e: TestBookError) -> HTTPServerReply {
        switch e {
        case .invalid(let f): return error(f.status, f.description, field: f.field)
        case .targetNotAllowed: return error(400, e.description, field: "target")
        case .exists: return error(409, e.description, field: "test_id")
        case .notFound: return error(404, e.description, field: "test_id")
        case .alreadyTriggered, .notRunning: return error(409, e.description, field: "test_id")
        case .notEnoughDrivers, .driversRefused: return error(503, e.description, field: "drivers")
        case .noMatchingDrivers: return error(503, e.description, field: "driver_selector")
        case .noScenarioDrivers(let scenario, _): return error(503, e.description, field: "scenarios.\(scenario).driver_selector")
        case .notSent, .shuttingDown: return error(503, e.description, field: nil)
        }
    }

    private func upgrade(_ request: HTTPRequest) -> HTTPServerReply {
        // Refuse cross-site pages (WebSockets are not covered by CORS): same host, or an allowed origin.
        if let origin = request.header("origin"), !options.allowedOrigins.contains(origin),
           !["http://", "https://"].contains(where: { origin == $0 + (request.header("host") ?? "") }) {
            return error(403, "origin \(origin) is not allowed (see --allowed-origin)", field: "Origin")
        }
        do {
            let response = try WebSocketHandshake.accept(request)
            return .upgrade(response) { [unowned self] fd, output, input in
                self.hub.adopt(fd: fd, pendingOutput: output, receivedInput: input)
            }
        } catch {
            return self.error(error.status, error.reason, field: "headers")
        }
    }

    /// Chart.js from Debian's libjs-chart.js, read once.
    private func chartLibrary() -> HTTPServerReply {
        if chartJS == nil {
            chartJS = ["/usr/share/javascript/chart.js/chart.umd.js", "/usr/share/javascript/chart.js/chart.min.js"]
                .lazy.compactMap { FileManager.default.contents(atPath: $0) }.first.map { [UInt8]($0) } ?? []
        }
        guard let chartJS, !chartJS.isEmpty else {
            return error(404, "Chart.js is not installed (apt-get install libjs-chart.js); the dashboard works without charts", field: nil)
        }
        return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/javascript"), ("Cache-Control", "max-age=3600")],
                                     body: chartJS))
    }

    private func json<T: Encodable>(_ status: Int, _ value: T) -> HTTPServerReply {
        .respond(HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(encodeJSON(value).utf8)))
    }

    private func error(_ status: Int, _ message: String, field: String?) -> HTTPServerReply {
        json(status, ErrorBody(error: message, field: field))
    }

    private func methodNotAllowed(_ allow: String) -> HTTPServerReply {
        .respond(HTTPResponse(status: 405, headers: [("Content-Type", "application/json"), ("Allow", allow)],
                              body: Array(encodeJSON(ErrorBody(error: "method not allowed (allowed: \(allow))", field: "method")).utf8)))
    }
}

/// Compares secrets without an early exit on the first difference.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in x.indices { diff |= x[i] ^ y[i] }
    return diff == 0
}
