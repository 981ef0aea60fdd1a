import Foundation
import HTTP1

/// What a response does to its request under `follow_redirects`.
enum RedirectOutcome {
    /// Not a redirect to follow: the response is the request's own.
    case none
    /// The next hop is rendered and goes next on this connection.
    case follow
    /// Still a redirect after the last hop allowed (`errors.redirects`).
    case overLimit
}

/// `follow_redirects`: a 301, 302, 303, 307 or 308 with a Location is followed on the same
/// connection slot, as a browser does (the rules are `Redirect`'s pure functions, in HTTP1): 303
/// (and 301/302 after a POST) become GET without the body; 307 and 308 repeat the method and body. Each hop is a request of its own, counted
/// under `NAME redirect`; the request's checks and captures apply to the last response.
extension Worker {
    func redirectOutcome(_ i: Int, status: Int) -> RedirectOutcome {
        guard Redirect.isRedirect(status: status), let recorder = conns[i].recorder,
              let k = workload.recordedHeaders.firstIndex(of: "location"),
              let location = recorder.firstValue(of: k) else { return .none }
        guard conns[i].hops < workload.followRedirects else {
            noteFirstError("\(workload.names[currentNameIndex(i)]): still redirected (\(status)) after \(workload.followRedirects) hop(s) (--follow-redirects)")
            return .overLimit
        }
        let text = String(decoding: location, as: UTF8.self).trimmingCharacters(in: [" ", "\t"])
        // Where it leads: a path of this origin, or one of the test's origins (elsewhere: not followed).
        var place: (origin: Int, target: String)?
        switch Redirect.target(of: text, requestTarget: requestTarget(i), scheme: workload.origins[conns[i].origin].scheme) {
        case .sameOrigin(let pathAndQuery)?: place = (conns[i].origin, pathAndQuery)
        case .absolute(let url)?: place = workload.origins.firstIndex(where: { $0.sameOrigin(url) }).map { ($0, url.pathAndQuery) }
        case nil: place = nil
        }
        guard let (origin, target) = place else {
            noteFirstError("\(workload.names[currentNameIndex(i)]): redirect to '\(text.prefix(200))', not a path or an origin of this test; counted in errors.redirects")
            return .overLimit
        }
        // The method of the request in flight: a hop's own, or its program's.
        let method = conns[i].hops > 0 ? conns[i].hopMethod : workload.programs[conns[i].current].method
        let next = Redirect.nextRequest(status: status, method: method)
        buffers.scratch.removeAll()
        Self.renderHop(from: conns[i].outgoing, method: next.method.description, target: target,
                       host: workload.origins[origin].hostHeader, keepBody: next.keepsBody, into: &buffers.scratch)
        // The request's bytes may live in the connection's buffer: swap, not copy.
        swap(&buffers.scratch, &conns[i].render)
        let targetStart = next.method.description.utf8.count + 1
        conns[i].hopTarget = targetStart..<(targetStart + target.utf8.count)
        conns[i].hopMethod = next.method
        conns[i].hopPending = true
        conns[i].next = conns[i].current
        if origin != conns[i].origin { switchOrigin(i, to: origin) }
        return .follow
    }

    /// The next hop: the request line and Host replaced, the headers kept but Cookie (the jar
    /// adds the cookies for the new target) and, when the method becomes GET, the body and the
    /// headers that describe it.
    static func renderHop(from request: UnsafeRawBufferPointer, method: String, target: String, host: String,
                          keepBody: Bool, into out: inout RenderBuffer) {
        guard let headEnd = headEnd(request) else { return }
        out.append(Array("\(method) \(target) HTTP/1.1\r\n".utf8))
        var dropped: [[UInt8]] = [Array("host:".utf8), Array("cookie:".utf8)]
        if !keepBody { dropped += [Array("content-length:".utf8), Array("content-type:".utf8), Array("transfer-encoding:".utf8)] }
        var line = (request.firstIndex(of: 10) ?? headEnd) + 1
        out.append(Array("Host: \(host)\r\n".utf8))
        while line < headEnd {
            var end = line
            while end < headEnd && request[end] != 13 { end += 1 }
            let isDropped = dropped.contains { name in
                end - line >= name.count && (0..<name.count).allSatisfy { HTTPBytes.lower(request[line + $0]) == name[$0] }
            }
            if !isDropped { out.append(UnsafeRawBufferPointer(rebasing: request[line..<(end + 2)])) }
            line = end + 2
        }
        out.append(byte: 13); out.append(byte: 10)
        if keepBody && headEnd + 2 < request.count { out.append(UnsafeRawBufferPointer(rebasing: request[(headEnd + 2)...])) }
    }
}
