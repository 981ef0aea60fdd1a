import Foundation
import Testing
import TestSupport

/// Connections that end in ways a user did not cause: a server timing out an idle keep-alive
/// connection just as the next request leaves, and https:// pointed at a plain-HTTP port.
@Suite(.serialized) struct ConnectionFailureTests {
    /// nginx closes a keep-alive connection after 1 s idle; each connection sends once a second,
    /// so some requests leave on a socket nginx is closing (POST loses 4 to 7 in 1000 here). A GET
    /// is resent once on a fresh connection: no error, and nginx answers each request exactly once.
    @Test func idempotentRequestsSurviveAStaleKeepAliveClose() throws {
        let nginx = try Nginx(httpSettings: "keepalive_timeout 1s;")
        defer { nginx.stop() }
        let (run, report) = try bench(["http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "--delay-ms", "1000",
                                       "--connections", "200", "--duration", "10", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try #require(report, "\(run.stderr)")
        let e = r.errors
        #expect(e.connect + e.tls + e.read + e.write + e.parse + e.timeout == 0, "errors \(e), retried \(r.retried_stale ?? -1)")
        #expect(r.requests == 2000 && r.responses == r.requests, "requests \(r.requests), responses \(r.responses)")
        #expect(r.retried_stale != nil)
        #expect(try nginx.accessLogLines(expecting: r.requests) == r.requests)
    }

    /// The same race made certain: the server answers each connection's first request and closes
    /// it on the second. Every GET after the first on a connection is resent once and answered;
    /// a POST is not resent (it may not be idempotent) and fails as a read error.
    @Test func onlyIdempotentMethodsAreResent() throws {
        let port = freePort()
        let server = try ServerProcess(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                       [repositoryRoot.appendingPathComponent("Tests/Interop/bad_target.py").path,
                                        "close-when-reused", String(port)], port: port)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(port)/"
        let (get, getReport) = try bench([url, "--requests", "20", "--connections", "2", "--json"], timeout: 60)
        #expect(get.status == 0, "\(get.stderr)")
        let g = try #require(getReport, "\(get.stderr)")
        #expect(g.responses == 20 && g.errors.read == 0, "responses \(g.responses), errors \(g.errors)")
        #expect(g.retried_stale == 18, "retried \(g.retried_stale ?? -1)")

        let (post, postReport) = try bench([url, "--requests", "20", "--connections", "2", "-m", "POST", "--body", "x", "--json"], timeout: 60)
        let p = try #require(postReport, "\(post.stderr)")
        #expect(p.retried_stale == 0)
        #expect(p.errors.read > 0 && p.responses + p.errors.read == 20, "responses \(p.responses), errors \(p.errors)")
    }

    /// https:// against nginx's plain port: nginx answers the ClientHello with an HTTP 400, which
    /// OpenSSL reports as "wrong version number".
    @Test func httpsAgainstPlainNginxNamesTheProblemAndStops() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let started = Date()
        let (run, report) = try bench(["https://127.0.0.1:\(nginx.port)/", "--connections", "50", "--duration", "20", "--json"])
        #expect(Date().timeIntervalSince(started) < 5, "the run ends once every handshake failed")
        #expect(run.status == 1)
        #expect(run.stderr.contains("wrong version number") && run.stderr.contains("plain HTTP"), "\(run.stderr)")
        let r = try #require(report, "\(run.stdout)")
        #expect(r.errors.tls >= 50 && r.errors.connect == 0, "errors \(r.errors)")
        #expect(r.requests == 0)
    }

    /// https:// against `stampede target`, which waits for a request head and never answers the
    /// ClientHello: one handshake timeout (not three rounds of them), named as a TLS problem.
    @Test func httpsAgainstASilentPlainServerTimesOutOnce() throws {
        let port = freePort()
        let target = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(port)"], port: port)
        defer { target.stop() }
        let started = Date()
        let (run, report) = try bench(["https://127.0.0.1:\(port)/", "--connections", "50", "--duration", "20",
                                       "--timeout-ms", "1000", "--json"])
        #expect(Date().timeIntervalSince(started) < 5, "one 1 s timeout round, then the run ends")
        #expect(run.status == 1)
        #expect(run.stderr.contains("TLS handshake with 127.0.0.1:\(port) timed out after 1000 ms"), "\(run.stderr)")
        let r = try #require(report, "\(run.stdout)")
        #expect(r.errors.tls == 50 && r.errors.connect == 0 && r.errors.timeout == 0, "errors \(r.errors)")
    }
}
