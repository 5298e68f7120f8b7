import Foundation

/// A small RFC 4180 reader for the CSV a bulk job answers with: a header row, then one row a record.
/// Quoted fields may hold commas, doubled quotes and line breaks; LF and CRLF both end a row; a
/// UTF-8 byte-order mark is skipped. An empty body has no header and no rows.
struct CSVRows: Sendable {
    var header: [String]
    var rows: [[String]]

    init(_ data: Data) {
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\r" where pending == "\n": continue
            case "\n", "\r":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        header = rows.first ?? []
        self.rows = Array(rows.dropFirst())
    }

    /// The index of a column by its exact header name.
    func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// A row's value in a column; nil when the row is short or the column missing.
    static func value(_ row: [String], _ column: Int?) -> String? {
        guard let column, column < row.count else { return nil }
        return row[column]
    }
}
