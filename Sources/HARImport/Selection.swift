import Foundation
import HTTP1

/// How `stampede import har` treats a recording (its flags).
public struct ImportOptions: Sendable {
    /// `--include-static`: keep style sheets, scripts, images, fonts and media.
    public var includeStatic = false
    /// `--origin`: other origins kept beside the recording's first page's.
    public var origins: [String] = []
    /// `--data-fields`: form or JSON fields that become `{{row.FIELD}}`.
    public var dataFields: [String] = []
    /// `--think`.
    public var think: ThinkChoice = .recorded
    /// `--template FIELD=uuid|rand_int:LO:HI`: a field's value rendered by a template instead.
    public var templates: [String: String] = [:]
    public init() {}
}

/// `--think recorded|none|MIN-MAX`.
public enum ThinkChoice: Sendable, Equatable {
    /// The recorded gap between a step's response and the next step's start.
    case recorded
    case none
    case range(minMs: Double, maxMs: Double)
}

/// An entry the import leaves out, and why (always listed, never dropped silently).
public struct LeftOut: Sendable, Equatable {
    public var index: Int
    public var what: String
    public var reason: String
}

/// One step of the journey: a request and the redirects the browser followed from it.
struct Step {
    var entries: [HAREntry]
    var first: HAREntry { entries[0] }
    /// The response the step's checks and captures read: the redirect chain's last.
    var last: HAREntry { entries[entries.count - 1] }
    var hops: Int { entries.count - 1 }
}

/// The entries a load test replays, grouped into steps; the rest with their reasons.
struct Selection {
    var steps: [Step] = []
    var leftOut: [LeftOut] = []
    /// The recording's first page's origin.
    var origin = ""

    static let staticTypes: Set<String> = ["stylesheet", "script", "image", "font", "media", "manifest", "texttrack"]
    static let staticMIMEPrefixes = ["text/css", "application/javascript", "text/javascript", "application/x-javascript", "image/", "font/",
                                     "audio/", "video/", "application/font", "application/x-font", "application/vnd.ms-fontobject"]
    static let staticExtensions: Set<String> = ["css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "bmp",
                                                "woff", "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "ogg", "wav"]

    init(_ file: HARFile, options: ImportOptions) {
        leftOut = file.unreadable.map { LeftOut(index: $0.index, what: "entry", reason: "cannot be imported: \($0.reason)") }
        let first = file.entries.first { $0.resourceType == "document" } ?? file.entries.first
        origin = first.flatMap { RecordedURL($0.url)?.origin } ?? ""
        let allowed = Set([origin] + options.origins.map { RecordedURL.normalizedOrigin($0) })
        var kept: [HAREntry] = []
        for e in file.entries {
            let what = "\(e.method) \(e.url)"
            let url: RecordedURL
            do { url = RecordedURL(try TargetURL(parsing: e.url)) } catch {
                leftOut.append(LeftOut(index: e.index, what: what, reason: "not a URL the engine can send (\(error.reason))")); continue
            }
            if e.fromCache { leftOut.append(LeftOut(index: e.index, what: what, reason: "served from the browser's cache")); continue }
            if e.status <= 0 {
                leftOut.append(LeftOut(index: e.index, what: what, reason: "failed in the browser (status \(e.status)): no response to replay")); continue
            }
            if !allowed.contains(url.origin) {
                leftOut.append(LeftOut(index: e.index, what: what, reason: "another origin (\(url.origin)); --origin \(url.origin) keeps it")); continue
            }
            if !options.includeStatic, let kind = Self.staticKind(e, url: url) {
                leftOut.append(LeftOut(index: e.index, what: what, reason: "static (\(kind)); --include-static keeps it")); continue
            }
            kept.append(e)
        }
        steps = Self.followRedirects(kept)
    }

    /// What makes an entry a static resource, or nil.
    static func staticKind(_ e: HAREntry, url: RecordedURL) -> String? {
        if let t = e.resourceType, staticTypes.contains(t) { return t }
        let mime = e.mimeType.lowercased()
        if let p = staticMIMEPrefixes.first(where: { mime.hasPrefix($0) }) { return mime.isEmpty ? p : mime.split(separator: ";")[0].description }
        let last = url.path.split(separator: "/").last ?? ""
        if let dot = last.lastIndex(of: "."), staticExtensions.contains(last[last.index(after: dot)...].lowercased()) {
            return ".\(last[last.index(after: dot)...].lowercased()) file"
        }
        return nil
    }

    /// A 3xx whose `Location` the browser requested next joins that request into one step.
    static func followRedirects(_ entries: [HAREntry]) -> [Step] {
        var steps: [Step] = []
        var k = 0
        while k < entries.count {
            var chain = [entries[k]]
            k += 1
            while let last = chain.last, [301, 302, 303, 307, 308].contains(last.status), k < entries.count,
                  let location = last.responseHeader("Location"), let target = RecordedURL.resolve(location, against: last.url),
                  RecordedURL.withoutFragment(entries[k].url) == RecordedURL.withoutFragment(target) {
                chain.append(entries[k])
                k += 1
            }
            steps.append(Step(entries: chain))
        }
        return steps
    }
}

/// A recorded URL's parts, as the import edits them: origin (lower case, no default port), path
/// and query, raw (percent-encoded). Parsed as the engine parses a target (`TargetURL`), so a URL
/// kept is one the engine can send.
struct RecordedURL {
    var origin: String
    var path: String
    var query: String?

    init(_ url: TargetURL) {
        origin = url.origin.lowercased()
        let pathAndQuery = url.pathAndQuery
        if let q = pathAndQuery.firstIndex(of: "?") {
            path = String(pathAndQuery[..<q])
            query = String(pathAndQuery[pathAndQuery.index(after: q)...])
        } else {
            path = pathAndQuery
        }
    }

    init?(_ text: String) {
        guard let url = try? TargetURL(parsing: text) else { return nil }
        self.init(url)
    }

    /// `scheme://host[:port]` as `origin` has it (what `--origin` gives is compared so).
    static func normalizedOrigin(_ text: String) -> String {
        (try? TargetURL(parsing: text)).map { RecordedURL($0).origin } ?? text.lowercased()
    }

    static func withoutFragment(_ text: String) -> String {
        text.firstIndex(of: "#").map { String(text[..<$0]) } ?? text
    }

    /// A `Location` made absolute against the URL it answered.
    static func resolve(_ location: String, against base: String) -> String? {
        if location.contains("://") { return location }
        guard let b = RecordedURL(base) else { return nil }
        if location.hasPrefix("//") { return String(b.origin.prefix { $0 != ":" }) + ":" + location }
        if location.hasPrefix("/") { return b.origin + location }
        if location.hasPrefix("?") { return b.origin + b.path + location }
        let directory = b.path.lastIndex(of: "/").map { b.path[...$0] } ?? "/"
        return b.origin + directory + location
    }
}
