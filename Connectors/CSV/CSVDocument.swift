import Foundation
import RetentionCore

/// An open CSV file positioned after its header: its encoding, column layout, and data rows.
///
/// Opening decides the encoding (a whole-file pass for `auto`), skips blank lines before the
/// header and reads the header. `preamble` keeps every byte before the first data row (byte order
/// mark, blank lines, header) so that a rewrite can copy them unchanged.
final class CSVDocument {
    let reader: CSVRowReader
    let encoding: CSVTextEncoding
    let layout: CSVLayout
    let delimiter: UInt8
    let preamble: [UInt8]

    /// Opens the configured file. `encoding` skips detection (a rewrite reuses the first pass's result).
    init(_ configuration: CSVConnectorConfiguration, encoding known: CSVTextEncoding? = nil) throws(CSVConnectorError) {
        guard let delimiter = configuration.delimiterByte else { throw .badDelimiter() }
        let path = configuration.path.path
        let encoding: CSVTextEncoding
        if let known {
            encoding = known
        } else {
            switch configuration.encoding {
            case .utf8: encoding = .utf8
            case .cp949: encoding = .cp949
            default: encoding = try CSVRowReader.detectEncoding(path: path)
            }
        }
        let reader = try CSVRowReader(path: path, delimiter: delimiter, skipByteOrderMark: encoding == .utf8)
        var preamble: [UInt8] = []
        var header: [String]?
        var first = true
        while header == nil {
            guard let row = try reader.next() else { throw .noHeader(path) }
            if first {
                preamble = reader.byteOrderMarkBytes
                first = false
            }
            reader.withBytes { bytes in preamble.append(contentsOf: bytes[row.start..<row.end]) }
            if row.isBlank { continue }
            if row.unterminatedQuote { throw .malformedHeader(path) }
            header = reader.withBytes { bytes in
                row.fields.map { field in
                    Self.value(of: bytes, row: row, field: field, encoding: encoding)
                        .trimmingCharacters(in: .whitespaces)
                }
            }
        }
        self.reader = reader
        self.encoding = encoding
        self.delimiter = delimiter
        self.preamble = preamble
        self.layout = try CSVLayout(header: header ?? [], configuration: configuration)
    }

    /// The canonical column names of the header alone, without the whole-file encoding pass of
    /// `encoding: auto` (this runs when a command starts): a header that is not valid UTF-8 is read
    /// as CP949.
    static func canonicalColumns(_ configuration: CSVConnectorConfiguration) throws(CSVConnectorError) -> Set<String> {
        let guess: CSVTextEncoding = configuration.encoding == .cp949 ? .cp949 : .utf8
        var columns = Set(try CSVDocument(configuration, encoding: guess).layout.indexByCanonical.keys)
        if guess == .utf8, configuration.encoding != .utf8, columns.contains(where: { $0.contains("\u{FFFD}") }) {
            columns = Set(try CSVDocument(configuration, encoding: .cp949).layout.indexByCanonical.keys)
        }
        return columns
    }

    /// The next data row (blank lines included: callers skip or copy them), or nil at the end.
    /// The next data row. A quoted field that never closes swallows every later row, so such a file
    /// is refused as a whole (naming the line where the field opens) rather than read as one defect.
    func nextRow() throws(CSVConnectorError) -> CSVRowSpan? {
        let row = try reader.next()
        if let row, row.unterminatedQuote { throw .unterminatedQuote(reader.path, line: row.line) }
        return row
    }

    /// The trimmed id of a row, or nil for a blank row or one whose id column cannot be read.
    func id(of row: CSVRowSpan) -> String? {
        guard !row.isBlank, layout.idIndex < readableFieldCount(row) else { return nil }
        return reader.withBytes { bytes in
            Self.trimmed(Self.value(of: bytes, row: row, field: row.fields[layout.idIndex], encoding: encoding))
        }
    }

    /// The record of a data row; nil for a blank line. A row with the wrong field count becomes a
    /// record with a `defect` (no field values, the id if readable).
    /// With `names`, only those columns (and the id's) are decoded.
    func record(of row: CSVRowSpan, names: Set<String>? = nil) -> SourceRecord? {
        if row.isBlank { return nil }
        if let defect = defect(of: row) {
            return SourceRecord(id: id(of: row) ?? "", fields: [:], line: row.line, defect: defect)
        }
        var fields = [String: String](minimumCapacity: names.map { $0.count + 1 } ?? layout.columnCount)
        reader.withBytes { bytes in
            for (index, name) in layout.canonicalNames.enumerated() {
                guard let name, index == layout.idIndex || names?.contains(name) ?? true else { continue }
                fields[name] = Self.value(of: bytes, row: row, field: row.fields[index], encoding: encoding)
            }
        }
        let id = layout.canonicalNames[layout.idIndex].flatMap { fields[$0] }.map(Self.trimmed) ?? ""
        return SourceRecord(id: id, fields: fields, line: row.line)
    }

    /// The values of the named columns (canonical names) of a well-formed row; unknown names are left out.
    func values(of row: CSVRowSpan, names: Set<String>) -> [String: String] {
        var values = [String: String](minimumCapacity: names.count)
        reader.withBytes { bytes in
            for name in names {
                guard let index = layout.indexByCanonical[name], index < row.fields.count else { continue }
                values[name] = Self.value(of: bytes, row: row, field: row.fields[index], encoding: encoding)
            }
        }
        return values
    }

    /// The structural defect of a non-blank row (a field count other than the header's), nil when none.
    func defect(of row: CSVRowSpan) -> String? {
        row.fields.count == layout.columnCount ? nil : "expected \(layout.columnCount) fields, found \(row.fields.count)"
    }

    /// Whether `record(of:)` would give this non-blank row a `defect`, without decoding its fields.
    func isDefective(_ row: CSVRowSpan) -> Bool {
        row.unterminatedQuote || row.fields.count != layout.columnCount
    }

    /// Fields whose text is complete: all of them, but the last of a row cut off by the end of the file.
    private func readableFieldCount(_ row: CSVRowSpan) -> Int {
        row.unterminatedQuote ? row.fields.count - 1 : row.fields.count
    }

    /// The decoded text of one raw field: quotes removed and `""` unescaped.
    static func value(
        of bytes: UnsafeBufferPointer<UInt8>, row: CSVRowSpan, field: Range<Int>, encoding: CSVTextEncoding
    ) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[(row.start + field.lowerBound)..<(row.start + field.upperBound)])
        guard let first = raw.first, first == CSVRowScanner.quote else { return encoding.decode(raw) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(raw.count)
        var index = 1
        var quoted = true
        while index < raw.count {
            let byte = raw[index]
            index += 1
            if quoted && byte == CSVRowScanner.quote {
                if index < raw.count && raw[index] == CSVRowScanner.quote {
                    index += 1
                } else {
                    quoted = false
                    continue
                }
            }
            unescaped.append(byte)
        }
        return unescaped.withUnsafeBufferPointer { encoding.decode($0) }
    }

    /// `text` without leading and trailing white space (Unicode's, not only ASCII's).
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return text }
        if mayBeWhitespace(first) || mayBeWhitespace(last) {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return text
    }

    /// A cheap test for the common ASCII case; Unicode properties only for other scalars.
    private static func mayBeWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace
    }
}
