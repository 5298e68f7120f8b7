/// One row found by `CSVRowScanner`: where its bytes are in the scanner's buffer and where its fields are.
///
/// Offsets are valid only until the scanner is next given bytes or compacted.
struct CSVRowSpan {
    /// Offset of the row's first byte in the scanner's buffer.
    var start: Int
    /// Offset just past the row's last byte, its line ending included.
    var end: Int
    /// Raw field ranges relative to `start`: quotes included, delimiters and the line ending excluded.
    var fields: [Range<Int>]
    /// The 1-based physical line on which the row starts.
    var line: Int
    /// The file ended inside a quoted field: the row runs to the end of the file.
    var unterminatedQuote: Bool

    /// A line with nothing on it (only a line ending): skipped by readers, copied by the rewriter.
    var isBlank: Bool { fields.count == 1 && fields[0].isEmpty && !unterminatedQuote }

    /// Where the line ending (CR LF, LF, or nothing at the end of the file) starts, relative to `start`.
    var terminatorStart: Int { fields.last?.upperBound ?? 0 }
}

/// A byte-level RFC 4180 state machine that splits buffered bytes into rows and fields without
/// decoding text.
///
/// - Quoted fields may hold the delimiter, `""` and line breaks; a quote after a closed quoted field
///   reopens it (`""`), any other byte is taken literally (lenient, like most CSV readers).
/// - A row ends at LF outside quotes; a CR just before that LF belongs to the line ending. A bare CR
///   is data. Every LF, inside quotes or not, advances the physical line count.
/// - Bytes are split before decoding, which is safe for UTF-8 and CP949: no byte of a multi-byte
///   character in either encoding equals the delimiter (ASCII), `"`, CR or LF.
struct CSVRowScanner {
    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    static let quote = UInt8(ascii: "\"")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")

    let delimiter: UInt8
    /// Unconsumed bytes: the current (incomplete) row starts at `rowStart`.
    private(set) var buffer: [UInt8] = []
    private var rowStart = 0
    private var position = 0
    private var fieldStart = 0
    private var state = State.fieldStart
    private var fields: [Range<Int>] = []
    private var line = 1
    private var rowLine = 1

    init(delimiter: UInt8) {
        self.delimiter = delimiter
    }

    /// Adds bytes, first dropping every byte before the current row (invalidating earlier spans).
    mutating func append(_ bytes: some Collection<UInt8>) {
        if rowStart > 0 {
            buffer.removeSubrange(0..<rowStart)
            position -= rowStart
            fieldStart -= rowStart
            rowStart = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Drops `count` leading bytes that belong to no row (a byte order mark). Call before scanning.
    mutating func skipPrefix(_ count: Int) {
        rowStart = count
        position = count
        fieldStart = count
    }

    /// The next complete row, or nil when the buffered bytes end inside a row. With `isFinal`
    /// (no more bytes will come), the rest of the buffer is returned as a last row.
    mutating func nextRow(isFinal: Bool) -> CSVRowSpan? {
        let count = buffer.count
        var position = self.position
        var state = self.state
        var fieldStart = self.fieldStart
        var line = self.line
        let rowStart = self.rowStart
        let delimiter = self.delimiter
        var fields: [Range<Int>] = []
        swap(&fields, &self.fields)
        var rowEnd = -1
        buffer.withUnsafeBufferPointer { bytes in
            while position < count {
                if state == .quoted {
                    // Inside quotes only a quote matters; line feeds are counted.
                    while position < count {
                        let byte = bytes[position]
                        if byte == Self.quote { break }
                        if byte == Self.lineFeed { line += 1 }
                        position += 1
                    }
                    guard position < count else { return }
                    state = .quoteInQuoted
                    position += 1
                    continue
                }
                let byte = bytes[position]
                position += 1
                if byte == delimiter {
                    fields.append((fieldStart - rowStart)..<(position - 1 - rowStart))
                    fieldStart = position
                    state = .fieldStart
                } else if byte == Self.lineFeed {
                    var end = position - 1
                    if end > fieldStart && bytes[end - 1] == Self.carriageReturn { end -= 1 }
                    fields.append((fieldStart - rowStart)..<(end - rowStart))
                    rowEnd = position
                    line += 1
                    return
                } else if byte == Self.quote {
                    state = state == .unquoted ? .unquoted : .quoted
                } else {
                    state = .unquoted
                    // Skip plain bytes up to the next byte that can change the state.
                    while position < count {
                        let next = bytes[position]
                        if next == delimiter || next == Self.lineFeed || next == Self.quote { break }
                        position += 1
                    }
                }
            }
        }
        if rowEnd < 0 {
            guard isFinal, rowStart < count else {
                self.position = position
                self.state = state
                self.fieldStart = fieldStart
                self.line = line
                swap(&fields, &self.fields)
                return nil
            }
            var end = count
            if state != .quoted && end > fieldStart && buffer[end - 1] == Self.carriageReturn { end -= 1 }
            fields.append((fieldStart - rowStart)..<(end - rowStart))
            rowEnd = count
        }
        let span = CSVRowSpan(
            start: rowStart, end: rowEnd, fields: fields, line: rowLine,
            unterminatedQuote: rowEnd == count && state == .quoted
        )
        self.rowStart = rowEnd
        self.position = rowEnd
        self.fieldStart = rowEnd
        self.state = .fieldStart
        self.line = line
        self.rowLine = line
        fields.removeAll(keepingCapacity: true)
        self.fields = fields
        return span
    }
}
