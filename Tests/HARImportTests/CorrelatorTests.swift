import Foundation
import HARImport
import StampedeModel
import Testing

/// Correlation: each value a request sends that an earlier response gave becomes a capture there
/// and `{{var.NAME}}` here, read as the engine reads it.
@Suite struct CorrelatorTests {
    let site = "http://shop.test:8000"

    @Test func aHiddenFormTokenBecomesARegexCaptureAndAVariable() throws {
        var har = HAR()
        har.add("\(site)/login", at: 0, body: "<html><form>\n<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"Tok3nAbCdEf99\">\n</form>")
        har.add("POST", "\(site)/login", at: 500, post: ("application/x-www-form-urlencoded", "csrfmiddlewaretoken=Tok3nAbCdEf99&user=ann"))
        let r = try har.imported()
        #expect(r.requests.count == 2)
        let capture = try #require(r.requests[0].captures.first)
        #expect(capture.variable == "csrfmiddlewaretoken")
        #expect(capture.source == .regex("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"([^\"]+)"))
        #expect(String(decoding: r.requests[1].body, as: UTF8.self) == "csrfmiddlewaretoken={{var.csrfmiddlewaretoken|url}}&user=ann")
        #expect(r.correlations.map(\.variable) == ["csrfmiddlewaretoken"])
        #expect(r.correlations[0].uses == ["step 2 form field csrfmiddlewaretoken"])
    }

    @Test func theSamePrefixTwiceGetsALongerPatternThatFindsTheRightOne() throws {
        let page = "<p>a</p><input value=\"OLDVALUE1234\">\n<div id=\"second\">\n<input value=\"NEWVALUE5678\">"
        var har = HAR()
        har.add("\(site)/form", at: 0, body: page)
        har.add("GET", "\(site)/next?token=NEWVALUE5678", at: 100)
        let r = try har.imported()
        guard case .regex(let pattern)? = r.requests[0].captures.first?.source else { Issue.record("no regex capture"); return }
        #expect(pattern.contains("second"))  // reached back past the first input's identical surroundings
        #expect(r.requests[1].url == "\(site)/next?token={{var.token|url}}")
    }

    @Test func jsonValuesAreFoundByPathAndSentBackInHeadersAndPaths() throws {
        var har = HAR()
        har.add("POST", "\(site)/api/token", at: 0, post: ("application/json", "{\"user\":\"ann\"}"), mime: "application/json",
                body: "{\"data\": {\"items\": [{\"id\": \"ord-7f3a9c\"}], \"access_token\": \"tok-abc123def456\"}}")
        har.add("GET", "\(site)/api/orders/ord-7f3a9c", at: 50, headers: [("Authorization", "Bearer tok-abc123def456")])
        let r = try har.imported()
        let captures = r.requests[0].captures.map { "\($0.variable)=\($0.source)" }.sorted()
        #expect(captures == ["access_token=json(data.access_token)", "id=json(data.items[0].id)"])
        #expect(r.requests[1].url == "\(site)/api/orders/{{var.id|url}}")
        #expect(r.requests[1].headers.first { $0.0 == "Authorization" }?.1 == "Bearer {{var.access_token}}")
        #expect(r.requests[1].name == "GET /api/orders/{id}")
    }

    @Test func aResponseHeaderIsAHeaderCaptureAndACookieOnlyValueACookieCapture() throws {
        var har = HAR()
        har.add("\(site)/start", at: 0, responseHeaders: [("X-Request-Token", "rq-55aa66bb"), ("Set-Cookie", "csrftoken=ck9988776655; Path=/")])
        har.add("POST", "\(site)/act", at: 10, headers: [("X-Token", "rq-55aa66bb"), ("X-CSRFToken", "ck9988776655"),
                                                        ("Cookie", "csrftoken=ck9988776655")],
                post: ("application/json", "{\"n\": 1}"))
        let r = try har.imported()
        let captures = Dictionary(uniqueKeysWithValues: r.requests[0].captures.map { ($0.variable, $0.source) })
        #expect(captures["X_Request_Token"] == .header("x-request-token"))
        #expect(captures["csrftoken"] == .cookie("csrftoken"))
        let headers = Dictionary(uniqueKeysWithValues: r.requests[1].headers.map { ($0.0, $0.1) })
        #expect(headers["X-Token"] == "{{var.X_Request_Token}}")
        #expect(headers["X-CSRFToken"] == "{{var.csrftoken}}")
        #expect(headers["Cookie"] == nil)  // the jar sends the cookie itself
    }

    @Test func repeatedNamesAreNumberedAndAValueIsCapturedOnceWhereItFirstAppeared() throws {
        var har = HAR()
        har.add("\(site)/a", at: 0, body: "<input name=\"csrf\" value=\"first-token-1\">")
        har.add("POST", "\(site)/b", at: 10, post: ("application/x-www-form-urlencoded", "csrf=first-token-1"),
                body: "<input name=\"csrf\" value=\"second-token-2\"> again first-token-1")
        har.add("POST", "\(site)/c", at: 20, post: ("application/x-www-form-urlencoded", "csrf=second-token-2&again=first-token-1"))
        let r = try har.imported()
        #expect(r.correlations.map(\.variable) == ["csrf", "csrf_2"])
        #expect(r.correlations.map(\.step) == [0, 1])
        #expect(r.correlations[0].uses.count == 2)
        #expect(String(decoding: r.requests[2].body, as: UTF8.self) == "csrf={{var.csrf_2|url}}&again={{var.csrf|url}}")
    }

    @Test func shortValuesTypedURLsAndUnfoundValuesStayAsRecorded() throws {
        var har = HAR()
        har.add("\(site)/search?q=shoes2026", at: 0, body: "<p>results for shoes2026, page 12</p>", type: "document")
        har.add("GET", "\(site)/more?q=shoes2026&page=12&nonce=n0nce7e5t99", at: 10)
        let r = try har.imported()
        #expect(r.correlations.isEmpty)  // 12 is too short, shoes2026 was typed
        #expect(r.requests[1].url == "\(site)/more?q=shoes2026&page=12&nonce=n0nce7e5t99")
        #expect(r.unresolved.map(\.field) == ["nonce"])
        var options = ImportOptions()
        options.templates = ["nonce": "uuid"]
        let templated = try har.imported(options)
        #expect(templated.requests[1].url == "\(site)/more?q=shoes2026&page=12&nonce={{uuid}}")
        #expect(templated.unresolved.isEmpty)
    }

    @Test func dataFieldsBecomeRowsEverywhereTheirValueIsSent() throws {
        var har = HAR()
        har.add("POST", "\(site)/login", at: 0, post: ("application/x-www-form-urlencoded", "username=ann.lee&password=s%26cret"),
                body: "<p>Hello ann.lee</p>")
        har.add("POST", "\(site)/profile", at: 10, post: ("application/json", "{\"username\": \"ann.lee\", \"theme\": \"dark\"}"))
        var options = ImportOptions()
        options.dataFields = ["username", "password"]
        let r = try har.imported(options)
        #expect(r.dataColumns == ["username", "password"])
        #expect(r.dataRow == ["ann.lee", "s&cret"])
        #expect(String(decoding: r.requests[0].body, as: UTF8.self) == "username={{row.username|url}}&password={{row.password|url}}")
        #expect(String(decoding: r.requests[1].body, as: UTF8.self) == "{\"username\": \"{{row.username|json}}\", \"theme\": \"dark\"}")
        #expect(r.correlations.isEmpty)
    }
}
