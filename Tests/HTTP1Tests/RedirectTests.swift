import HTTP1
import Testing

/// Redirects as pure functions: the status, the method after it, and where a Location leads.
@Suite struct RedirectTests {
    @Test func whichStatusesRedirect() {
        #expect([301, 302, 303, 307, 308].allSatisfy { Redirect.isRedirect(status: $0) })
        #expect(![200, 300, 304, 305, 306, 309, 404].contains { Redirect.isRedirect(status: $0) })
    }

    @Test func theMethodAfterARedirectIsTheBrowsers() {
        func next(_ status: Int, _ method: HTTPMethod) -> String {
            let r = Redirect.nextRequest(status: status, method: method)
            return "\(r.method) \(r.keepsBody ? "body" : "-")"
        }
        // 303: GET without the body, whatever the method, but HEAD stays HEAD.
        #expect(next(303, .post) == "GET -")
        #expect(next(303, .put) == "GET -")
        #expect(next(303, .head) == "HEAD body")
        // 301 and 302: a POST becomes GET; others keep their method.
        #expect(next(301, .post) == "GET -")
        #expect(next(302, .post) == "GET -")
        #expect(next(302, .put) == "PUT body")
        #expect(next(302, .get) == "GET body")
        // 307 and 308 repeat the method and the body.
        #expect(next(307, .post) == "POST body")
        #expect(next(308, .other("PROPFIND")) == "PROPFIND body")
    }

    @Test func methodsAreTypedAndKnowIfTheyMayBeResent() {
        #expect(HTTPMethod("GET") == .get && HTTPMethod("PATCH") == .patch)
        #expect(HTTPMethod("get") == .other("get"))  // methods are case-sensitive (RFC 9110 9.1)
        let resendable = [HTTPMethod.get, .head, .options, .trace, .put, .delete].filter { $0.isIdempotent }
        let notResendable = [HTTPMethod.post, .patch, .connect, .other("PURGE")].filter { $0.isIdempotent }
        #expect(resendable.count == 6 && notResendable.isEmpty)
        #expect(HTTPMethod("PURGE").description == "PURGE")
    }

    @Test func whereALocationLeads() throws {
        func target(_ location: String, from request: String = "/a/b/login?next=1", scheme: TargetURL.Scheme = .http) -> String? {
            switch Redirect.target(of: location, requestTarget: request, scheme: scheme) {
            case .sameOrigin(let path)?: return path
            case .absolute(let url)?: return url.description
            case nil: return nil
            }
        }
        #expect(target("/home") == "/home")
        #expect(target("account") == "/a/b/account")
        #expect(target("../up") == "/a/b/../up")
        #expect(target("?page=2") == "/a/b/login?page=2")
        #expect(target("done", from: "/") == "/done")
        #expect(target("/x#section") == "/x")
        #expect(target("http://127.0.0.1:8080/next") == "http://127.0.0.1:8080/next")
        #expect(target("//127.0.0.1:8443/tls", scheme: .https) == "https://127.0.0.1:8443/tls")
        #expect(target("") == nil)
        #expect(target("#only") == nil)
        #expect(target("/with space") == nil)
        #expect(target("/caf\u{e9}") == nil)
        #expect(target("http://") == nil)
    }
}
