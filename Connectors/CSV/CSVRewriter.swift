import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The second pass of a write-back: streams the file into a temporary file next to it, applying a
/// plan's edits, then replaces the original atomically.
///
/// Every byte not edited is copied as it was (byte order mark, quoting, line endings, blank lines,
/// malformed rows). A deleted row goes with its line ending. An edited row keeps the raw bytes of
/// every other field and its line ending; new values are encoded in the file's encoding and quoted
/// only when they hold the delimiter, `"`, CR or LF. If the file changed since `original` was taken
/// (or an edited id no longer occurs exactly as planned), nothing is replaced.
struct CSVRewriter {
    struct Summary {
        var deletedRows = 0
        var changedRows = 0
        /// Set when the folder could not be fsynced after the rename (the file was replaced).
        var folderSyncFailure: String?
    }

    let configuration: CSVConnectorConfiguration
    let encoding: CSVTextEncoding
    let plan: CSVWritePlan
    let original: CSVFileSystem.Identity

    func run() throws(CSVConnectorError) -> Summary {
        let path = configuration.path.path
        let document = try CSVDocument(configuration, encoding: encoding)
        let (temporary, descriptor) = try CSVFileSystem.createTemporary(near: path, mode: original.mode)
        var closed = false
        defer {
            if !closed { close(descriptor) }
            unlink(temporary)
        }
        var output = Output(descriptor: descriptor, path: path)
        var summary = Summary()
        var seen: [String: Int] = [:]
        try output.append(document.preamble)
        while let row = try document.nextRow() {
            guard let id = document.id(of: row), let edit = plan.edits[id] else {
                try document.reader.withBytes { bytes throws(CSVConnectorError) in
                    try output.append(UnsafeBufferPointer(rebasing: bytes[row.start..<row.end]))
                }
                continue
            }
            seen[id, default: 0] += 1
            guard !row.unterminatedQuote, row.fields.count == document.layout.columnCount else {
                throw .changedDuringWrite(path)
            }
            switch edit {
            case .delete:
                summary.deletedRows += 1
            case .set(let values):
                try output.append(rewritten(row, values: values, document: document))
                summary.changedRows += 1
            }
        }
        guard seen == plan.expectedCounts else { throw .changedDuringWrite(path) }
        try output.flush()
        try CSVFileSystem.sync(descriptor, path: path)
        close(descriptor)
        closed = true
        guard try CSVFileSystem.identity(of: path) == original else { throw .changedDuringWrite(path) }
        try CSVFileSystem.moveTemporary(temporary, over: path)
        summary.folderSyncFailure = CSVFileSystem.syncFolder(of: path)
        return summary
    }

    /// The row with `values` (by column index) in place of those fields.
    private func rewritten(_ row: CSVRowSpan, values: [Int: String], document: CSVDocument) -> [UInt8] {
        document.reader.withBytes { bytes in
            var result: [UInt8] = []
            result.reserveCapacity(row.end - row.start + 64)
            for (index, field) in row.fields.enumerated() {
                if index > 0 { result.append(document.delimiter) }
                if let value = values[index] {
                    result += Self.encodeField(value, encoding: encoding, delimiter: document.delimiter)
                } else {
                    result += bytes[(row.start + field.lowerBound)..<(row.start + field.upperBound)]
                }
            }
            result += bytes[(row.start + row.terminatorStart)..<row.end]
            return result
        }
    }

    /// A value as field bytes: encoded, and quoted only when it holds the delimiter, `"`, CR or LF.
    /// The plan has already checked that the encoding can represent it.
    static func encodeField(_ value: String, encoding: CSVTextEncoding, delimiter: UInt8) -> [UInt8] {
        let encoded = encoding.encode(value) ?? []
        let needsQuotes = encoded.contains { byte in
            byte == delimiter || byte == CSVRowScanner.quote || byte == CSVRowScanner.lineFeed
                || byte == CSVRowScanner.carriageReturn
        }
        guard needsQuotes else { return encoded }
        var quoted: [UInt8] = [CSVRowScanner.quote]
        for byte in encoded {
            quoted.append(byte)
            if byte == CSVRowScanner.quote { quoted.append(byte) }
        }
        quoted.append(CSVRowScanner.quote)
        return quoted
    }

    /// Buffered writes to the temporary file.
    private struct Output {
        let descriptor: Int32
        let path: String
        var buffer: [UInt8] = []

        init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
            buffer.reserveCapacity(CSVRowReader.chunkSize)
        }

        mutating func append(_ bytes: some Collection<UInt8>) throws(CSVConnectorError) {
            buffer.append(contentsOf: bytes)
            if buffer.count >= CSVRowReader.chunkSize { try flush() }
        }

        mutating func flush() throws(CSVConnectorError) {
            let descriptor = self.descriptor
            let path = self.path
            try buffer.withUnsafeBufferPointer { bytes throws(CSVConnectorError) in
                try CSVFileSystem.writeAll(bytes, to: descriptor, path: path)
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }
}
