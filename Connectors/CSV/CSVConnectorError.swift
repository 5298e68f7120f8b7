public import RetentionCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure of the CSV connector.
///
/// I/O errors (and a file that changed while it was being rewritten) are transient; a missing
/// file, a file without a usable header, an id on several rows, an unknown field or a value the
/// file's encoding cannot hold are permanent. Messages name the file, columns and line numbers,
/// never record ids or field values.
public struct CSVConnectorError: ConnectorFailure, Equatable {
    public var code: String
    public var message: String
    public var isTransient: Bool

    public init(code: String, message: String, isTransient: Bool) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
    }

    static func fileMissing(_ path: String) -> CSVConnectorError {
        CSVConnectorError(code: "csv.file_missing", message: "the CSV file \(path) does not exist", isTransient: false)
    }

    static func io(_ step: String, _ path: String, errno number: Int32) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.io", message: "\(step) \(path): \(String(cString: strerror(number)))", isTransient: true)
    }

    static func io(_ step: String, _ path: String) -> CSVConnectorError {
        CSVConnectorError(code: "csv.io", message: "\(step) \(path)", isTransient: true)
    }

    static func noHeader(_ path: String) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.no_header", message: "the CSV file \(path) has no header row", isTransient: false)
    }

    static func unterminatedQuote(_ path: String, line: Int) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.unterminated_quote",
            message: "line \(line) of \(path): a quoted field opens there and never closes, so every later row "
                + "would be lost; the file was not used (nothing was changed): close the quote and sync again",
            isTransient: false)
    }

    static func malformedHeader(_ path: String) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.malformed_header",
            message: "the header row of \(path) has an unterminated quoted field", isTransient: false)
    }

    static func missingColumn(_ column: String, canonical: String, path: String) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.missing_column",
            message: "the header of \(path) has no column '\(column)' (configured for '\(canonical)')",
            isTransient: false)
    }

    static func badDelimiter() -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.bad_delimiter", message: "the delimiter must be one ASCII character other than '\"', CR and LF",
            isTransient: false)
    }

    static func changedDuringWrite(_ path: String) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.changed", message: "\(path) changed while it was being rewritten; nothing was applied",
            isTransient: true)
    }

    static let ambiguousID = CSVConnectorError(
        code: "csv.ambiguous_id", message: "the id occurs on more than one row; no row was changed",
        isTransient: false)

    static let defectiveRow = CSVConnectorError(
        code: "csv.defective_row", message: "the row with this id is malformed; it was not changed",
        isTransient: false)

    static func unknownField(_ field: String) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.unknown_field", message: "the file has no column for field '\(field)'", isTransient: false)
    }

    static func unencodable(_ field: String, encoding: String) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.unencodable", message: "the new value of field '\(field)' cannot be written in \(encoding)",
            isTransient: false)
    }

    static func unsupported(_ kind: OperationKind) -> CSVConnectorError {
        CSVConnectorError(
            code: "csv.unsupported", message: "\(kind.rawValue) is not an operation a CSV file can apply",
            isTransient: false)
    }
}
