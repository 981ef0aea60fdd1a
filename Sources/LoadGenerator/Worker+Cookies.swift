import Glibc
import HTTP1
import Reactor
import Sessions

/// Cookies (`cookies`: session or keep): a connection slot's jar takes every response's
/// Set-Cookie (a redirect's too) and its cookies go back in one `Cookie` header. A request that
/// finds the jar empty is sent as encoded, so a target that sets no cookies costs nothing more.
extension Worker {
    /// The request target (path and query) of the connection's prepared request, where its
    /// bytes were made to hold it (`Connection.target`).
    func requestTarget(_ i: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: conns[i].outgoing[conns[i].target]), as: UTF8.self)
    }

    /// Puts the jar's cookies for this request into it: one `Cookie` line after the request
    /// line, or appended to a `Cookie` header the request already has (one header, as RFC 6265
    /// asks). The line is kept while the jar does not change, so a session's requests after
    /// its login cost a copy, not a look-up.
    func addCookies(_ i: Int, hasCookieHeader: Bool) {
        let origin = conns[i].origin
        // The wall clock only where a cookie expires (its Expires is a date).
        let now = conns[i].jar.earliestExpiry == .max ? 0 : wallClockMilliseconds() / 1000
        if hasCookieHeader {
            // The endpoint's fields, not a copy of it (a copy retains each of its references).
            let value = conns[i].jar.header(host: endpoints[origin].cookieHost, path: requestTarget(i),
                                            secure: endpoints[origin].isTLS, now: now)
            if let value { mergeCookies(i, value: value) }
            return
        }
        let reusable = conns[i].jar.pathIndependent && conns[i].cookieLineVersion == conns[i].jar.version
            && conns[i].cookieLineOrigin == origin && now < conns[i].jar.earliestExpiry
        if !reusable {
            // Rewritten in place: the line's storage is reused from session to session (taken
            // out of the connection while the jar writes to it).
            var line = ByteStore()
            swap(&line, &conns[i].cookieLine)
            line.removeAll()
            line.append(UnsafeRawBufferPointer(start: Self.cookieName.utf8Start, count: Self.cookieName.utf8CodeUnitCount))
            if conns[i].jar.appendHeader(to: &line, host: endpoints[origin].cookieHost, path: requestTarget(i),
                                         secure: endpoints[origin].isTLS, now: now) {
                line.append(13)
                line.append(10)
            } else {
                line.removeAll()
            }
            swap(&line, &conns[i].cookieLine)
            conns[i].cookieLineVersion = conns[i].jar.version
            conns[i].cookieLineOrigin = origin
        }
        guard !conns[i].cookieLine.isEmpty else { return }
        let request = conns[i].outgoing
        guard let base = request.baseAddress, let lf = memchr(base, 10, request.count) else { return }
        let lineEnd = base.distance(to: UnsafeRawPointer(lf))
        // One reservation, three copies: the request line, the Cookie line, the rest.
        conns[i].cookieLine.withUnsafeBytes { line in
            buffers.scratch.removeAll()
            buffers.scratch.reserve(request.count + line.count)
            buffers.scratch.appendReserved(UnsafeRawBufferPointer(rebasing: request[...lineEnd]))
            buffers.scratch.appendReserved(line)
            buffers.scratch.appendReserved(UnsafeRawBufferPointer(rebasing: request[(lineEnd + 1)...]))
        }
        // The connection's buffer may be the one the request was rendered into: swap, not copy.
        swap(&buffers.scratch, &conns[i].render)
        conns[i].outgoing = conns[i].render.bytes
    }

    static let cookieName: StaticString = "Cookie: "

    /// The request has its own Cookie header: the jar's cookies go at its end.
    private func mergeCookies(_ i: Int, value: String) {
        let request = conns[i].outgoing
        guard let headEnd = Self.headEnd(request) else { return }
        let (at, insert) = Self.cookieInsertion(request, headEnd: headEnd, value: value)
        buffers.scratch.removeAll()
        buffers.scratch.append(UnsafeRawBufferPointer(rebasing: request[..<at]))
        buffers.scratch.append(insert)
        buffers.scratch.append(UnsafeRawBufferPointer(rebasing: request[at...]))
        swap(&buffers.scratch, &conns[i].render)
        conns[i].outgoing = conns[i].render.bytes
    }

    /// After a whole response: the Set-Cookie values it carried go into the jar.
    func storeCookies(_ i: Int) {
        guard workload.cookies != .off, conns[i].parser.recorded, let recorderRef = conns[i].recorderRef else { return }
        // The recorder unretained, the host borrowed from its endpoint, the wall clock read
        // only for a cookie that expires: each cost a login a retain and a release or more.
        recorderRef._withUnsafeGuaranteedRef { recorder in
            guard recorder.valueCount > 0 else { return }
            let origin = conns[i].origin
            let droppedBefore = conns[i].jar.dropped
            // Set-Cookie is the first recorded header whenever cookies are kept.
            for k in 0..<recorder.valueCount where recorder.name(at: k) == 0 {
                recorder.withValue(at: k) {
                    conns[i].jar.store(setCookie: $0, host: endpoints[origin].cookieHost, path: requestTarget(i), now: wallClockMilliseconds() / 1000)
                }
            }
            figures.second.counters.cookiesDropped += conns[i].jar.dropped - droppedBefore
        }
    }

    /// The index of the blank line's CRLF that ends the request head ("\r\n\r\n" starts at it - 2).
    static func headEnd(_ request: UnsafeRawBufferPointer) -> Int? {
        guard request.count >= 4 else { return nil }
        for k in 0...(request.count - 4)
        where request[k] == 13 && request[k + 1] == 10 && request[k + 2] == 13 && request[k + 3] == 10 {
            return k + 2
        }
        return nil
    }

    /// Where the cookies go and the bytes to insert there: at the end of an existing Cookie
    /// header's line, or a new header line before the blank line.
    static func cookieInsertion(_ request: UnsafeRawBufferPointer, headEnd: Int, value: String) -> (Int, [UInt8]) {
        let name: [UInt8] = Array("cookie:".utf8)
        var line = 0
        while line < headEnd {
            var end = line
            while end < headEnd && request[end] != 13 { end += 1 }
            if end - line > name.count && (0..<name.count).allSatisfy({ HTTPBytes.lower(request[line + $0]) == name[$0] }) {
                return (end, Array("; \(value)".utf8))
            }
            line = end + 2
        }
        return (headEnd, Array("Cookie: \(value)\r\n".utf8))
    }
}
