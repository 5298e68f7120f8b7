public import Foundation
import RetentionCore

/// Settings of a `csv` connector.
public struct CSVConnectorConfiguration: Sendable, Equatable {
    /// The CSV file. Write-back replaces it, so its folder must be writable.
    public var path: URL
    public var encoding: CSVEncoding
    /// One ASCII character other than `"`, CR and LF.
    public var delimiter: Character
    /// Canonical field name -> CSV header name. Unmapped headers keep their own name.
    public var columns: [String: String]
    /// The canonical name of the key column.
    public var idColumn: String

    public init(
        path: URL,
        encoding: CSVEncoding = .auto,
        delimiter: Character = ",",
        columns: [String: String] = [:],
        idColumn: String = "id"
    ) {
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.columns = columns
        self.idColumn = idColumn
    }

    /// The delimiter byte, or nil when `delimiter` cannot be one.
    var delimiterByte: UInt8? {
        guard let byte = delimiter.asciiValue, byte != 0x22, byte != 0x0A, byte != 0x0D else { return nil }
        return byte
    }

    static let spec = ConnectorSpec(
        type: "csv",
        summary: "A CSV file (UTF-8 or CP949, RFC 4180) as a source, with atomic in-place write-back.",
        capabilities: [.source, .writeBack],
        fields: [
            FieldSpec("path", .string, required: true, "the CSV file; relative paths start at the working directory"),
            FieldSpec(
                "encoding", .choice(CSVEncoding.allNames), default: "auto",
                "auto reads UTF-8 when the whole file is valid UTF-8, CP949 otherwise"),
            FieldSpec("delimiter", .string, default: ",", "one ASCII character (`\\t` for a tab)"),
            FieldSpec("columns", .map, "canonical field name -> CSV header name; other headers keep their names"),
            FieldSpec("idColumn", .string, default: "id", "canonical name of the key column"),
        ]
    )

    /// Reads and checks `settings`; errors name the offending node's file, line and key.
    init(settings: ConfigNode, context: ConnectorContext) throws(ConfigError) {
        try Self.spec.validate(settings)
        guard let pathNode = settings["path"] else { throw settings.error("config.missing", "required: path") }
        let path = try pathNode.string()
        guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw pathNode.error("config.empty", "the path must not be empty")
        }
        self.init(path: context.resolvePath(path))
        if let node = settings["encoding"], !node.isNull {
            // The spec already checked the choice.
            encoding = CSVEncoding(rawValue: try node.string()) ?? .auto
        }
        if let node = settings["delimiter"], !node.isNull {
            let text = try node.string()
            let candidate: Character? = text == "\\t" || text == "tab" ? "\t" : (text.count == 1 ? text.first : nil)
            guard let candidate, CSVConnectorConfiguration(path: self.path, delimiter: candidate).delimiterByte != nil
            else {
                throw node.error(
                    "config.delimiter", "expected one ASCII character other than '\"', CR and LF (or \\t)")
            }
            delimiter = candidate
        }
        if let node = settings["columns"], !node.isNull {
            let map = try node.stringMap()
            for (canonical, column) in try node.entries() where map[canonical]?.isEmpty ?? true {
                throw column.error("config.empty", "the column name for '\(canonical)' must not be empty")
            }
            columns = map
        }
        if let node = settings["idColumn"], !node.isNull {
            let id = try node.string().trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw node.error("config.empty", "the id column must not be empty") }
            idColumn = id
        }
    }
}
