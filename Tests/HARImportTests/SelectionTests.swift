import Foundation
import HARImport
import StampedeModel
import Testing

/// What an import keeps, leaves out (always listed, with a reason), joins and paces.
@Suite struct SelectionTests {
    let site = "https://shop.test"

    @Test func browserHeadersTheJarAndCacheSendAreLeftOut() throws {
        var har = HAR()
        har.add("\(site)/", at: 0, status: 304, headers: [(":authority", "shop.test"), ("Host", "shop.test"), ("Cookie", "sid=1"), ("Connection", "keep-alive"),
                                             ("Content-Length", "0"), ("If-None-Match", "\"abc\""), ("If-Modified-Since", "x"),
                                             ("Accept-Encoding", "gzip, deflate, br, zstd"), ("Accept", "text/html"), ("X-Custom", "kept")])
        let r = try har.imported()
        let names = r.requests[0].headers.map(\.0)
        #expect(names == ["Accept-Encoding", "Accept", "X-Custom"])
        #expect(r.requests[0].headers[0].1 == "gzip, deflate")
        #expect(r.requests[0].expectStatus == [.range(2), .code(304)])  // no cache check is sent: the page comes back
    }

    @Test func staticOtherOriginsFailedAndCachedEntriesAreListedWithTheirReason() throws {
        var har = HAR()
        har.add("\(site)/", at: 0, type: "document")
        har.add("\(site)/app.css", at: 1, mime: "text/css", type: "stylesheet")
        har.add("\(site)/logo.png?v=3", at: 2, mime: "")
        har.add("https://fonts.example/f.woff2", at: 3, mime: "font/woff2")
        har.add("https://analytics.example/collect", at: 4)
        har.add("\(site)/gone", at: 5, status: 0)
        har.add("ws://shop.test/socket", at: 6)
        har.add("\(site)/cached", at: 7)
        har.entries[7]["_fromCache"] = "memory"
        let r = try har.imported()
        #expect(r.requests.map(\.url) == ["\(site)/"])
        let reasons = r.leftOut.map { "\($0.index): \($0.reason)" }
        #expect(reasons == ["1: static (stylesheet); --include-static keeps it", "2: static (.png file); --include-static keeps it",
                            "3: another origin (https://fonts.example); --origin https://fonts.example keeps it",
                            "4: another origin (https://analytics.example); --origin https://analytics.example keeps it",
                            "5: failed in the browser (status 0): no response to replay", "6: not a URL the engine can send (scheme must be http or https, not 'ws')",
                            "7: served from the browser's cache"])
        var options = ImportOptions()
        options.includeStatic = true
        options.origins = ["https://analytics.example:443"]
        #expect(try har.imported(options).requests.count == 4)
    }

    @Test func aRedirectTheBrowserFollowedIsOneStep() throws {
        var har = HAR()
        har.add("POST", "\(site)/login", at: 0, status: 302, post: ("application/x-www-form-urlencoded", "u=a"),
                responseHeaders: [("Location", "/account")])
        har.add("\(site)/account", at: 5, status: 301, responseHeaders: [("Location", "https://shop.test/account/")])
        har.add("\(site)/account/", at: 9, time: 20, body: "<p>hi</p>")
        har.add("\(site)/elsewhere", at: 600, status: 302, responseHeaders: [("Location", "/never-requested")])
        let r = try har.imported()
        #expect(r.requests.map(\.url) == ["\(site)/login", "\(site)/elsewhere"])
        #expect(r.followRedirects == 2)
        #expect(r.redirects == [2, 0])
        #expect(r.recordedStatuses == [200, 302])
        #expect(r.requests[0].thinkTime == .fixed(ms: 571))  // 600 - (9 + 20)
    }

    @Test func thinkTimesAreRecordedNoneOrARange() throws {
        var har = HAR()
        har.add("\(site)/a", at: 0, time: 100)
        har.add("\(site)/b", at: 1_600, time: 50)
        har.add("\(site)/c", at: 1_700)
        #expect(try har.imported().requests.map(\.thinkTime) == [.fixed(ms: 1_500), .fixed(ms: 50), nil])
        var options = ImportOptions()
        options.think = .none
        #expect(try har.imported(options).requests.allSatisfy { $0.thinkTime == nil })
        options.think = .range(minMs: 200, maxMs: 900)
        #expect(try har.imported(options).requests.map(\.thinkTime) == [.uniform(minMs: 200, maxMs: 900), .uniform(minMs: 200, maxMs: 900), nil])
    }

    @Test func badFilesAreRefusedWithWhereAndBadEntriesListedByIndex() throws {
        #expect(throws: HARError("not valid JSON (line 2, column 3)")) { try HARFile(bytes: Array("{\n  x".utf8)) }
        #expect(throws: HARError("not a HAR: no `log.entries` array")) { try HARFile(bytes: Array("{\"log\": {}}".utf8)) }
        #expect(throws: HARError("not a HAR: no `log` object")) { try HARFile(bytes: Array("{\"entries\": []}".utf8)) }
        var har = HAR()
        har.add("\(site)/ok", at: 0)
        har.entries.append(["request": ["method": "GET"]])
        har.entries.append(["request": ["url": "\(site)/x"]])
        har.entries.append(["request": ["method": "POST", "url": "\(site)/y", "postData": ["mimeType": "text/plain", "text": "eA==", "encoding": "gzip"]]])
        let r = try har.imported()
        #expect(r.requests.count == 1)
        #expect(r.leftOut.map { "\($0.index): \($0.reason)" } == [
            "1: cannot be imported: has no `request.url`", "2: cannot be imported: has no `request.method`",
            "3: cannot be imported: request body encoding 'gzip' is not supported (base64 of UTF-8 text is)"])
    }

    @Test func base64AndGzipBodiesAreSearched() throws {
        var har = HAR()
        har.add("\(site)/a", at: 0, mime: "application/json")
        // gzip of {"id": "token1234"}, as a recording that kept the encoded bytes holds it.
        let gz: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0xca, 0x4c, 0x51, 0xb2, 0x52, 0x50, 0x2a,
                           0xc9, 0xcf, 0x4e, 0xcd, 0x33, 0x34, 0x32, 0x36, 0x51, 0xaa, 0x05, 0x00, 0x79, 0xbb, 0xc8, 0x1e, 0x13, 0x00, 0x00, 0x00]
        har.entries[0]["response"] = ["status": 200, "headers": [["name": "Content-Encoding", "value": "gzip"]],
                                      "content": ["mimeType": "application/json", "text": Data(gz).base64EncodedString(), "encoding": "base64"]]
        har.add("GET", "\(site)/b?t=token1234", at: 10)
        let file = try HARFile(bytes: har.bytes)
        #expect(file.entries[0].responseText == "{\"id\": \"token1234\"}")
        let r = HARImporter.run(file, options: ImportOptions())
        #expect(r.requests[0].captures.map(\.source) == [.json(try JSONPath("id"))])
        #expect(r.requests[1].url == "\(site)/b?t={{var.t|url}}")
    }
}
