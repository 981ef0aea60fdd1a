/// RFC 6265 §5.1.1's cookie-date algorithm: the tolerant parse browsers use for `Expires`
/// (`Wed, 09 Jun 2021 10:18:14 GMT`, `Wednesday, 09-Jun-21 10:18:14 GMT`, `Wed Jun  9 10:18:14 2021`).
/// Returns seconds since the Unix epoch (UTC), or nil when the date is not one (the attribute is
/// then ignored, as the RFC says).
public enum CookieDate {
    public static func parse(_ text: Substring) -> Int64? {
        var time: (Int, Int, Int)?
        var day: Int?
        var month: Int?
        var year: Int?
        for token in text.split(whereSeparator: isDelimiter) {
            if time == nil, let t = parseTime(token) { time = t; continue }
            if day == nil, let d = leadingDigits(token, min: 1, max: 2) { day = d; continue }
            if month == nil, let m = parseMonth(token) { month = m; continue }
            if year == nil, let y = leadingDigits(token, min: 2, max: 4) { year = y; continue }
        }
        guard let (hour, minute, second) = time, let day, let month, var year else { return nil }
        if (70...99).contains(year) { year += 1900 } else if (0...69).contains(year) { year += 2000 }
        guard (1...31).contains(day), year >= 1601, hour <= 23, minute <= 59, second <= 59 else { return nil }
        guard day <= daysIn(month: month, year: year) else { return nil }
        return daysFromEpoch(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func isDelimiter(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return a == 0x09 || (0x20...0x2F).contains(a) || (0x3B...0x40).contains(a) || (0x5B...0x60).contains(a) || (0x7B...0x7E).contains(a)
    }

    /// 1*maxDigit digits, then anything that is not a digit.
    private static func leadingDigits(_ token: Substring, min: Int, max: Int) -> Int? {
        let digits = token.prefix(while: { $0.isASCII && $0.isNumber })
        guard (min...max).contains(digits.count), token.dropFirst(digits.count).first.map({ !($0.isASCII && $0.isNumber) }) ?? true else { return nil }
        return Int(digits)
    }

    private static func parseTime(_ token: Substring) -> (Int, Int, Int)? {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let h = leadingDigits(parts[0], min: 1, max: 2), let m = leadingDigits(parts[1], min: 1, max: 2),
              let s = leadingDigits(parts[2], min: 1, max: 2), parts[0].count <= 2, parts[1].count <= 2 else { return nil }
        return (h, m, s)
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    private static func parseMonth(_ token: Substring) -> Int? {
        guard token.count >= 3 else { return nil }
        return months.firstIndex(of: token.prefix(3).lowercased()).map { $0 + 1 }
    }

    private static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the date (proleptic Gregorian; negative before 1970).
    static func daysFromEpoch(year: Int, month: Int, day: Int) -> Int64 {
        // Howard Hinnant's days_from_civil.
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
