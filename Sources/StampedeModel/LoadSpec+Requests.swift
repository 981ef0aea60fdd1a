import HTTP1

extension LoadSpec {
    public static let maxRequestEntries = 1_000

    /// Every request checked and its templates parsed: what the load generator encodes. The
    /// encoder's own checks run on a sample rendering, so nothing passes here that it would refuse.
    /// - Throws: `ConfigError` naming the entry and part (list form) or the short form's setting.
    public func compiled() throws(ConfigError) -> [CompiledRequest] {
        guard !requests.isEmpty else { throw ConfigError(.requestList, "needs at least one request") }
        guard requests.count <= Self.maxRequestEntries else {
            throw ConfigError(.requestList, "at most \(Self.maxRequestEntries) requests, got \(requests.count)")
        }
        let columns = data?.columns ?? []
        var out: [CompiledRequest] = []
        // Variables by name, in the order they are first captured, and those captured by the
        // requests before the one being compiled (a variable is used after it is captured).
        var slots: [String: Int] = [:]
        var captured: [String: Int] = [:]
        for (k, r) in requests.enumerated() {
            func failure(_ part: String, _ reason: String) -> ConfigError {
                if listForm { return ConfigError(.requestList, reason, entry: k, part: part) }
                switch part {
                case "url": return ConfigError(.target, reason)
                case "method": return ConfigError(.method, reason)
                case "headers": return ConfigError(.headers, reason)
                case "body": return ConfigError(.body, reason)
                case "think_ms": return ConfigError(.thinkTime, reason)
                default: return ConfigError(.requestList, reason, entry: k, part: part)
                }
            }
            if let name = r.name, name.isEmpty || name.count > 200 || name.contains(where: { $0.isNewline }) {
                throw failure("name", "must be 1-200 characters on one line")
            }
            guard r.weight.isFinite, r.weight > 0, r.weight <= 1e9 else { throw failure("weight", "must be a number > 0, got \(r.weight)") }
            guard !r.method.isEmpty, r.method.utf8.allSatisfy({ HTTPBytes.isToken($0) }) else {
                throw failure("method", "must be an HTTP method token such as GET or POST, got '\(r.method)'")
            }
            if let expect = r.expectBody, expect.isEmpty { throw failure("expect_body", "must not be empty") }
            if !r.captures.isEmpty && order != .sequence {
                throw failure("capture", "captured values go to the later requests of a session: needs order sequence (--order sequence)")
            }
            if r.thinkTime != nil && mode == .tsunami && !pacesSessions {
                throw failure("think_ms", "think time is for sessions of users: avalanche, or a tsunami that paces sessions (session_rate); a tsunami at a request rate paces every request itself")
            }

            // URL: the origin literal, templates only in the path and query.
            let url: Template
            do { url = try Template(parsing: r.url, columns: columns, variables: captured) } catch { throw failure("url", error.reason) }
            guard let schemeEnd = r.url.range(of: "://") else { throw failure("url", "expected http://host[:port]/path or https://...") }
            let rest = r.url[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            guard !rest[..<authorityEnd].contains("{{") else {
                throw failure("url", "templates may appear in the path and query only: the scheme, host and port are fixed per test")
            }
            let origin: TargetURL
            // The origin only: data values (in the path) are checked below, naming column and row.
            do { origin = try TargetURL(parsing: url.sample(row: nil)) } catch { throw failure("url", error.reason) }
            var pathText = String(rest[authorityEnd...])
            if let hash = pathText.firstIndex(of: "#") { pathText = String(pathText[..<hash]) }
            if pathText.isEmpty || pathText.hasPrefix("?") { pathText = "/" + pathText }
            let path: Template
            do { path = try Template(parsing: pathText, columns: columns, variables: captured) } catch { throw failure("url", error.reason) }
            try checkColumns(path.columns, part: "url", failure: failure) { value in
                value.utf8.allSatisfy { $0 > 32 && $0 < 127 }
            }

            // Headers: names as given, values may be templates; checked as the encoder will.
            var headers: [(String, Template)] = []
            var sampled: [(String, String)] = []
            for (name, value) in r.headers {
                let t: Template
                do { t = try Template(parsing: value, columns: columns, variables: captured) } catch { throw failure("headers", "\(name): \(error.reason)") }
                try checkColumns(t.columns, part: "headers", failure: failure) { value in
                    !value.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
                }
                headers.append((name, t))
                sampled.append((name, t.sample(row: data?.rows.first)))
            }
            do { _ = try HTTPRequestEncoder.encode(method: r.method, url: origin, headers: sampled) } catch {
                throw failure("headers", error.description)
            }

            // Body: a template when it is text with a field in it; bytes otherwise.
            var body = Template(literal: r.body)
            if r.body.contains(UInt8(ascii: "{")), let text = String(validating: r.body, as: UTF8.self), text.contains("{{") {
                do { body = try Template(parsing: text, columns: columns, variables: captured) } catch { throw failure("body", error.reason) }
            }
            if order != .sequence {
                for (part, t) in [("url", path), ("body", body)] + headers.map({ ("headers", $0.1) }) where t.usesSession {
                    throw failure(part, "{{session}} numbers the sessions of order sequence (each pass through the list): needs --order sequence")
                }
            }
            var captureSlots: [Int] = []
            for rule in r.captures {
                let slot = slots[rule.variable] ?? slots.count
                slots[rule.variable] = slot
                captureSlots.append(slot)
            }
            var expect: Template?
            if let text = r.expectBody {
                do { expect = try Template(parsing: text, columns: columns, variables: captured) } catch { throw failure("expect_body", error.reason) }
                if expect!.parts.contains(where: { if case .randInt = $0 { return true }; if case .uuid = $0 { return true }; return false }) {
                    throw failure("expect_body", "{{rand_int}} and {{uuid}} draw anew for the check, so they would never match the request's: use {{seq}}, {{row.COLUMN}} or {{var.NAME}}")
                }
                if order != .sequence && expect!.usesSession { throw failure("expect_body", "{{session}} needs --order sequence") }
            }
            out.append(CompiledRequest(spec: r, origin: origin, path: path, headers: headers, body: body, captureSlots: captureSlots,
                                       expect: expect))
            for (rule, slot) in zip(r.captures, captureSlots) { captured[rule.variable] = slot }
        }
        return out
    }

    /// Data values a template puts where they must keep the message well-formed.
    private func checkColumns(_ used: [Int], part: String, failure: (String, String) -> ConfigError,
                              valid: (String) -> Bool) throws(ConfigError) {
        guard let data else { return }
        for c in Set(used).sorted() {
            if let bad = data.rows.firstIndex(where: { !valid($0[c]) }) {
                let where_ = part == "url" ? "in a URL (percent-encode it: printable ASCII, no spaces)" : "in a header (no line breaks)"
                throw failure(part, "data column '\(data.columns[c])', row \(bad + 1) ('\(data.rows[bad][c].prefix(40))') cannot go \(where_)")
            }
        }
    }

    /// What the test aims at, in words: the URL of the short form; for a list, its origin and how
    /// many requests, or how many origins when there are several ("6 requests over 2 origins").
    public var label: String { label(compiled: try? compiled()) }

    /// The label from the list as already compiled (nil: as if it had one origin).
    public func label(compiled: [CompiledRequest]?) -> String {
        guard listForm else { return target.description }
        let origins = compiled?.reduce(into: [TargetURL]()) { found, r in
            if !found.contains(where: { $0.sameOrigin(r.origin) }) { found.append(r.origin) }
        } ?? [target]
        let requests = requests.count == 1 ? "1 request" : "\(requests.count) requests"
        return origins.count > 1 ? "\(requests) over \(origins.count) origins" : "\(target.origin) (\(requests))"
    }
}
