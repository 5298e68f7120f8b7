public import Foundation

/// A parsed JSON document, shared by the REST connector (provider answers, request bodies) and webhook
/// intake (event bodies). Booleans, numbers and strings stay apart (Foundation's `JSONSerialization`
/// returns `NSNumber` for both booleans and numbers on Linux), and a number keeps its decimal text, so
/// 64-bit ids survive unchanged.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    /// Decimal text: integers as written, other numbers as Swift prints the `Double` (an integral value
    /// below 10^15 without `.0`).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .number(String(value))
        } else if let value = try? container.decode(UInt64.self) {
            self = .number(String(value))
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses a whole body. Throws Foundation's decoding error on malformed or truncated input.
    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    public static func integer(_ value: some BinaryInteger) -> JSONValue {
        .number(String(value))
    }

    /// A floating-point number; JSON has no NaN or infinity, so those are `null`.
    public static func number(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number(String(value))
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value as text: strings as they are, numbers in decimal, booleans `true`/`false`; nil for
    /// null, arrays and objects.
    public var text: String? {
        switch self {
        case .string(let text), .number(let text): text
        case .bool(let value): value ? "true" : "false"
        case .null, .array, .object: nil
        }
    }

    /// A string or number as text (an id, a type); nil for anything else, booleans included.
    public var scalarText: String? {
        switch self {
        case .string(let text), .number(let text): text
        default: nil
        }
    }

    /// A whole number (a number, or a string of digits), nil otherwise.
    public var int64: Int64? {
        switch self {
        case .number(let text): Int64(text) ?? Double(text).flatMap { $0.isFinite ? Int64(exactly: $0.rounded()) : nil }
        case .string(let text): Int64(text)
        default: nil
        }
    }

    /// A short name of the kind of value, for error messages (never the value itself).
    public var kind: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Canonical JSON: object keys sorted by their UTF-8 bytes, no whitespace, numbers as held.
    /// Stable: event ids are derived from it, and request bodies compare byte for byte.
    public var canonical: String {
        var output = ""
        write(to: &output)
        return output
    }

    /// `canonical` as UTF-8 bytes (a request body).
    public func serialized() -> Data {
        Data(canonical.utf8)
    }

    private func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let text): output += text
        case .string(let text): Self.quote(text, to: &output)
        case .array(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                item.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output += "," }
                Self.quote(key, to: &output)
                output += ":"
                members[key]!.write(to: &output)
            }
            output += "}"
        }
    }

    private static func quote(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
