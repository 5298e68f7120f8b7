// The CSV reader: a fuzzed file read as a CSV connector reads it (UTF-8, CP949 or auto-detected, one of
// four delimiters), plus two oracles that need no file: the row scanner gives the same rows however the
// bytes are split into chunks, and the UTF-8 validator agrees with the standard library.
import Foundation
import FuzzSupport
import RetentionCore
@testable import CSVConnector

private let scratch = ScratchFolder("csv")

@_cdecl("FuzzCSVReader_main")
public func fuzzCSVReaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzCSVReader)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSVReader(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let options = input.byte()
    let encoding = [CSVEncoding.auto, .utf8, .cp949][Int(options & 0x7F) % 3]
    // With the high bit: the `email` field is read from a column named 이메일, which the header must have.
    let columns = options & 0x80 != 0 ? ["email": "이메일"] : [:]
    let delimiter = input.pick([",", ";", "\t", "|"] as [Character])
    let split = Int(input.byte())
    let bytes = input.rest()

    readAsConnector(bytes, encoding: encoding, delimiter: delimiter, columns: columns)
    checkChunking(bytes, delimiter: delimiter.asciiValue!, split: split)
    checkValidator(bytes, split: split)
    return 0
}

/// Opens the file and reads every row the way `pull`, `read(ids:)` and the header check do.
private func readAsConnector(_ bytes: [UInt8], encoding: CSVEncoding, delimiter: Character, columns: [String: String]) {
    let file = scratch.write(bytes, to: "contacts.csv")
    let configuration = CSVConnectorConfiguration(
        path: file, encoding: encoding, delimiter: delimiter, columns: columns, idColumn: "id")
    _ = try? CSVDocument.canonicalColumns(configuration)
    guard let document = try? CSVDocument(configuration) else { return }
    var previousLine = 0
    while let row = try? document.nextRow() {
        expect(row.line > previousLine, "row lines go forward (\(previousLine) then \(row.line))")
        previousLine = row.line
        let id = document.id(of: row)
        if let record = document.record(of: row) {
            expect(record.line == row.line, "a record keeps its row's line")
            if record.defect == nil {
                expect(record.fields.count <= document.layout.columnCount, "no more fields than columns")
                expect(id == record.id, "id(of:) and record(of:) agree on the id")
            }
        } else {
            expect(row.isBlank, "only a blank row has no record")
        }
    }
}

/// A row as bytes, so that rows scanned from differently chunked buffers can be compared.
private struct ScannedRow: Equatable {
    var line: Int
    var unterminatedQuote: Bool
    var raw: [UInt8]
    var fields: [[UInt8]]
}

private func scanRows(_ bytes: [UInt8], delimiter: UInt8, chunk: Int) -> [ScannedRow] {
    var scanner = CSVRowScanner(delimiter: delimiter)
    var rows: [ScannedRow] = []
    var offset = 0
    var atEnd = false
    while true {
        while let row = scanner.nextRow(isFinal: atEnd) {
            let buffer = scanner.buffer
            expect(row.start <= row.end && row.end <= buffer.count, "a row lies within the buffer")
            let raw = Array(buffer[row.start..<row.end])
            let fields = row.fields.map { field -> [UInt8] in
                expect(field.lowerBound >= 0 && row.start + field.upperBound <= row.end, "a field lies within its row")
                return Array(buffer[(row.start + field.lowerBound)..<(row.start + field.upperBound)])
            }
            rows.append(ScannedRow(line: row.line, unterminatedQuote: row.unterminatedQuote, raw: raw, fields: fields))
        }
        if atEnd { return rows }
        if offset == bytes.count {
            atEnd = true
            continue
        }
        let end = min(bytes.count, offset + chunk)
        scanner.append(bytes[offset..<end])
        offset = end
    }
}

private func checkChunking(_ bytes: [UInt8], delimiter: UInt8, split: Int) {
    let whole = scanRows(bytes, delimiter: delimiter, chunk: max(bytes.count, 1))
    let pieces = scanRows(bytes, delimiter: delimiter, chunk: split % 7 + 1)
    expect(whole == pieces, "the same rows whether the file comes in one chunk or in chunks of \(split % 7 + 1)")
    expect(whole.reduce(0) { $0 + $1.raw.count } == bytes.count, "the rows cover every byte of the file")
}

private func checkValidator(_ bytes: [UInt8], split: Int) {
    var validator = UTF8Validator()
    let chunk = split % 5 + 1
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        bytes[offset..<end].withUnsafeBytes { validator.feed($0) }
        offset = end
    }
    let standard = String(validating: bytes, as: UTF8.self) != nil
    expect(validator.isComplete == standard, "UTF8Validator says \(validator.isComplete), the standard library \(standard)")
}
