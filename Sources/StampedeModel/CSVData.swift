import HTTP1

/// A test's data file: a header row naming the columns, then rows that `{{row.COLUMN}}` reads.
/// RFC 4180 quoting ("a, b" and "" for a quote inside quotes); LF or CRLF line ends.
public struct CSVData: Sendable, Equatable {
    /// The file as given: it travels to drivers unchanged.
    public let text: String
    public let columns: [String]
    public let rows: [[String]]

    public static let maxRows = 10_000_000
    /// Columns a header may name: a data file is rows of a few fields, not a table to search.
    public static let maxColumns = 1_000

    /// - Throws: `TemplateError` with the line of a malformed row.
    public init(parsing text: String) throws(TemplateError) {
        self.text = text
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false, wasQuoted = false
        var line = 1, recordLine = 1
        let bytes = Array(text.utf8)
        var i = 0
        func endField() { fields.append(String(decoding: field, as: UTF8.self)); field = []; wasQuoted = false }
        while i < bytes.count {
            let b = bytes[i]
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") { field.append(b); i += 1 } else { quoted = false }
                } else {
                    if b == 10 { line += 1 }
                    field.append(b)
                }
            } else if b == UInt8(ascii: "\"") {
                guard field.isEmpty && !wasQuoted else { throw TemplateError("line \(line): a quote inside an unquoted field (quote the whole field, \"\" for a quote)") }
                quoted = true
                wasQuoted = true
            } else if b == UInt8(ascii: ",") {
                endField()
            } else if b == 10 || b == 13 {
                if b == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1 }
                endField()
                if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
                fields = []
                line += 1
                recordLine = line
            } else {
                guard !wasQuoted else { throw TemplateError("line \(line): text after a closing quote") }
                field.append(b)
            }
            i += 1
        }
        guard !quoted else { throw TemplateError("line \(recordLine): unclosed quote") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            endField()
            records.append((recordLine, fields))
        }
        guard let header = records.first else { throw TemplateError("empty: the first line must name the columns") }
        guard records.count > 1 else { throw TemplateError("no rows after the header line") }
        guard records.count - 1 <= Self.maxRows else { throw TemplateError("more than \(Self.maxRows) rows") }
        let names = header.fields.map { $0.trimmingSpaces() }
        if let empty = names.firstIndex(where: \.isEmpty) { throw TemplateError("line 1: column \(empty + 1) has no name") }
        guard names.count <= Self.maxColumns else {
            throw TemplateError("line 1: \(names.count) columns, more than \(Self.maxColumns)")
        }
        var seen = Set<String>()
        if let dup = names.first(where: { !seen.insert($0).inserted }) {
            throw TemplateError("line 1: column '\(dup)' is named twice")
        }
        for r in records.dropFirst() where r.fields.count != names.count {
            throw TemplateError("line \(r.line): \(r.fields.count) field(s), the header names \(names.count)")
        }
        columns = names
        rows = records.dropFirst().map(\.fields)
    }
}
