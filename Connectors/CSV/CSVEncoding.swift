import Foundation

/// The `encoding` setting of a CSV connector: `auto` (the default), `utf-8` or `cp949`.
///
/// `auto` reads the file as UTF-8 (with or without a byte order mark) when the whole file is valid
/// UTF-8, and as CP949 (Windows Korean, a superset of EUC-KR) otherwise. The decision is made on the
/// whole file before any record is read, so one stray byte late in the file never splits a file
/// between two encodings. Write-back keeps the file's encoding.
public struct CSVEncoding: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    public var rawValue: String

    public init?(rawValue: String) {
        guard Self.allNames.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    private init(known: String) {
        self.rawValue = known
    }

    public static let auto = CSVEncoding(known: "auto")
    public static let utf8 = CSVEncoding(known: "utf-8")
    public static let cp949 = CSVEncoding(known: "cp949")

    /// The names accepted in config, in documentation order.
    public static let allNames = ["auto", "utf-8", "cp949"]

    public var description: String { rawValue }
}

/// A concrete text encoding of a CSV file.
enum CSVTextEncoding: String, Sendable {
    case utf8 = "utf-8"
    case cp949

    /// Foundation's CP949 (`kCFStringEncodingDOSKorean`), which also works on Linux.
    static let foundationCP949 = String.Encoding(rawValue: 0x8000_0422)

    /// Decodes one unquoted field value. ASCII-only bytes (the common case) never touch Foundation.
    func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        switch self {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .cp949:
            if Self.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
            return String(bytes: bytes, encoding: Self.foundationCP949) ?? String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Encodes a value, or nil when the encoding cannot represent it.
    func encode(_ text: String) -> [UInt8]? {
        switch self {
        case .utf8:
            return Array(text.utf8)
        case .cp949:
            if text.utf8.allSatisfy({ $0 < 0x80 }) { return Array(text.utf8) }
            return text.data(using: Self.foundationCP949, allowLossyConversion: false).map { Array($0) }
        }
    }

    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte >= 0x80 { return false }
        return true
    }
}
