import Foundation
import HTTP1
import HTTPServer
import StampedeModel
import StampedeWire
import Reactor
import WebSocket

/// The REST API (docs/rest-api.md), answered on the reactor thread. Errors are
/// `{"error": "...", "field": "..."}` with a 4xx/5xx status.
extension Orchestrator: HTTPServerHandler {
    public func handle(_ request: HTTPRequest, now: UInt64) -> HTTPServerReply {
        let origin = request.header("origin")
        let cors = origin.flatMap { options.allowedOrigins.contains($0) ? $0 : nil }
        var reply = route(request)
        if case .respond(var response) = reply, let cors {
            response.headers += [("Access-Control-Allow-Origin", cors), ("Vary", "Origin")]
            reply = .respond(response)
        }
        return reply
    }

    private func route(_ request: HTTPRequest) -> HTTPServerReply {
        let path = request.path
        let segments = path.split(separator: "/").map(String.init)
        if request.method == "OPTIONS" {
            return .respond(HTTPResponse(status: 204, headers: [
                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type"), ("Access-Control-Max-Age", "600")]))
        }
        if path == "/" || path == "/assets/chart.js" {
            // The page and its chart library are public: they hold no data (the page asks the API,
            // with the token from its own ?token= parameter).
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed("GET") }
            return path == "/" ? .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8"),
                                                                            ("Cache-Control", "no-store")],
                                                       body: Array(DashboardPage.html.utf8)))
                               : chartLibrary()
        }
        if path == "/ping" {
            return request.method == "GET" ? json(200, ["status": "ok"]) : methodNotAllowed("GET")
        }
        if let denied = checkToken(request) { return denied }
        switch segments {
        case ["tests"]:
            switch request.method {
            case "POST": return createTest(request)
            case "GET": return json(200, testOrder.compactMap { tests[$0].map(testSummary) })
            default: return methodNotAllowed("GET, POST")
            }
        case let s where s.count == 2 && s[0] == "tests":
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            guard let run = tests[s[1]] else { return json(404, ["error": "no test with id '\(s[1])'", "field": "test_id"]) }
            return json(200, testDetail(run))
        case ["trigger"]:
            guard request.method == "POST" else { return methodNotAllowed("POST") }
            return triggerTest(request)
        case ["drivers"]:
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return json(200, registry.json(now: monotonicNanoseconds()))
        case ["metrics"]:
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                         body: Array(prometheusText().utf8)))
        case ["ws"]:
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return upgrade(request)
        default:
            return json(404, ["error": "no such endpoint: \(request.method) \(path)", "field": "path"])
        }
    }

    /// With `--token`, every endpoint but /ping needs `Authorization: Bearer <token>` (or, for /ws,
    /// `?token=<token>`, since browsers cannot set headers on WebSockets).
    private func checkToken(_ request: HTTPRequest) -> HTTPServerReply? {
        guard let token = options.token else { return nil }
        if let header = request.header("authorization"), constantTimeEquals(header, "Bearer \(token)") { return nil }
        if request.path == "/ws", let given = request.query["token"], constantTimeEquals(given, token) { return nil }
        return .respond(HTTPResponse(status: 401, headers: [("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer")],
                                     body: Array(jsonText(["error": "missing or wrong bearer token", "field": "Authorization"]).utf8)))
    }

    private func createTest(_ request: HTTPRequest) -> HTTPServerReply {
        guard !shuttingDown else { return json(503, ["error": "shutting down"]) }
        do {
            return json(201, ["test_id": try createTest(json: request.body)])
        } catch {
            return json(error.status, ["error": error.description, "field": error.field])
        }
    }

    private func triggerTest(_ request: HTTPRequest) -> HTTPServerReply {
        guard !shuttingDown else { return json(503, ["error": "shutting down"]) }
        guard let body = JSONValue.parse(request.body), case .object(let object) = body else {
            return json(400, ["error": "body must be a JSON object {\"test_id\": \"...\"}", "field": "body"])
        }
        let id: String?
        do { id = try FieldReader(object: object).string("test_id") } catch {
            return json(400, ["error": error.description, "field": error.field])
        }
        guard let id else { return json(400, ["error": "test_id is required", "field": "test_id"]) }
        let (status, answer) = triggerTest(id: id)
        return json(status, answer)
    }

    private func upgrade(_ request: HTTPRequest) -> HTTPServerReply {
        // Refuse cross-site pages (WebSockets are not covered by CORS): same host, or an allowed origin.
        if let origin = request.header("origin"), !options.allowedOrigins.contains(origin),
           !["http://", "https://"].contains(where: { origin == $0 + (request.header("host") ?? "") }) {
            return json(403, ["error": "origin \(origin) is not allowed (see --allowed-origin)", "field": "Origin"])
        }
        do {
            let response = try WebSocketHandshake.accept(request)
            return .upgrade(response) { [unowned self] fd, output, input in
                self.hub.adopt(fd: fd, pendingOutput: output, receivedInput: input)
            }
        } catch {
            return json(error.status, ["error": error.reason, "field": "headers"])
        }
    }

    /// Chart.js from Debian's libjs-chart.js, read once.
    private func chartLibrary() -> HTTPServerReply {
        if chartJS == nil {
            chartJS = ["/usr/share/javascript/chart.js/chart.umd.js", "/usr/share/javascript/chart.js/chart.min.js"]
                .lazy.compactMap { FileManager.default.contents(atPath: $0) }.first.map { [UInt8]($0) } ?? []
        }
        guard let chartJS, !chartJS.isEmpty else {
            return json(404, ["error": "Chart.js is not installed (apt-get install libjs-chart.js); the dashboard works without charts"])
        }
        return .respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/javascript"), ("Cache-Control", "max-age=3600")],
                                     body: chartJS))
    }

    func testDetail(_ run: TestRun) -> [String: Any] {
        var detail = testSummary(run)
        if case .object = run.definition.original { detail["config"] = run.definition.original.foundationObject }
        if run.report == nil && run.status == .running, let live = try? run.buildReport().report {
            detail["report"] = jsonObject(live)
            detail["live"] = true
        }
        if !run.failedDrivers.isEmpty { detail["failed_drivers"] = run.failedDrivers.sorted() }
        return detail
    }

    private func json(_ status: Int, _ object: Any) -> HTTPServerReply {
        .respond(HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(jsonText(object).utf8)))
    }

    private func methodNotAllowed(_ allow: String) -> HTTPServerReply {
        .respond(HTTPResponse(status: 405, headers: [("Content-Type", "application/json"), ("Allow", allow)],
                              body: Array(jsonText(["error": "method not allowed (allowed: \(allow))", "field": "method"]).utf8)))
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

extension JSONValue {
    /// As a JSONSerialization object.
    var foundationObject: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Int(n) as Any : n
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationObject)
        case .object(let o): return o.mapValues(\.foundationObject)
        }
    }
}
