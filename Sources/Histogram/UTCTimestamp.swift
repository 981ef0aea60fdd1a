import Foundation

/// UTC times as RFC 3339 text (ISO 8601's internet profile), written by hand: Foundation's
/// `ISO8601DateFormatter` loads ICU's calendar and time-zone data for one string, about 6.8 MiB
/// of resident memory (a whole 50-connection `bench` run holds 25 MiB).
public enum UTCTimestamp {
    /// "2026-12-04T17:52:59Z"; with `milliseconds`, "2026-12-04T17:52:59.123Z" (to the nearest
    /// millisecond). Dates before 1970 are not expected and print as 1970.
    public static func rfc3339(_ date: Date, milliseconds: Bool = false) -> String {
        let totalMs = Swift.max(0, Int64((date.timeIntervalSince1970 * 1000).rounded()))
        var seconds = time_t(totalMs / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = digits(Int(parts.tm_year) + 1900, 4) + "-" + digits(Int(parts.tm_mon) + 1, 2) + "-" + digits(Int(parts.tm_mday), 2)
        text += "T" + digits(Int(parts.tm_hour), 2) + ":" + digits(Int(parts.tm_min), 2) + ":" + digits(Int(parts.tm_sec), 2)
        if milliseconds { text += "." + digits(Int(totalMs % 1000), 3) }
        return text + "Z"
    }

    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
