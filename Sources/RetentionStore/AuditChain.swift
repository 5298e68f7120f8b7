import Crypto
package import Foundation

/// The hash chain of the audit log: each entry's hash covers the previous hash and the entry's
/// canonical text, so editing, inserting or removing any entry breaks every hash after it; the head
/// (count and last hash), kept outside the chain, catches removal of the last entries.
package enum AuditChain {
    package static let genesis = String(repeating: "0", count: 64)

    package static func hash(previous: String, seq: Int64, draft: AuditDraft) -> String {
        var link = Link(previous: previous)
        _ = link.append(seq: seq, draft: draft, keys: draft.detail.keys.sorted())
        return link.previous
    }

    /// A chain being extended, one entry at a time: it holds the hash of the entry before as the hex
    /// text the next hash covers, and builds each entry's text in one reused buffer.
    package struct Link {
        private var previousHex: [UInt8]
        private var text: [UInt8] = []

        package init(previous: String) {
            previousHex = Array(previous.utf8)
            text.reserveCapacity(512)
        }

        /// The hash of the last entry chained (the previous hash when none was), in hex.
        package var previous: String { String(decoding: previousHex, as: UTF8.self) }

        /// Chains `draft` as entry `seq` and returns the entry's SHA-256 (the link moves on to it).
        /// `keys` are the detail's keys, sorted (the caller sorts them once for every use).
        package mutating func append(seq: Int64, draft: AuditDraft, keys: [String]) -> [UInt8] {
            text.removeAll(keepingCapacity: true)
            text.append(contentsOf: previousHex)
            text.append(UInt8(ascii: "\n"))
            text.append(contentsOf: String(seq).utf8)
            text.append(UInt8(ascii: "\n"))
            AuditChain.appendCanonical(draft, keys: keys, to: &text)
            let digest = SHA256.hash(data: text).withUnsafeBytes { Array($0) }
            previousHex.removeAll(keepingCapacity: true)
            for byte in digest {
                previousHex.append(AuditChain.hexDigit(byte >> 4))
                previousHex.append(AuditChain.hexDigit(byte & 0x0F))
            }
            return digest
        }
    }

    /// Stable text of an entry: fixed field order, detail keys sorted, dates as integer milliseconds.
    static func canonical(_ draft: AuditDraft) -> String {
        var text: [UInt8] = []
        appendCanonical(draft, keys: draft.detail.keys.sorted(), to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static func appendCanonical(_ draft: AuditDraft, keys: [String], to text: inout [UInt8]) {
        let millis = Int64((draft.at.timeIntervalSince1970 * 1000).rounded())
        let separator: UInt8 = 0x1F
        text.append(contentsOf: String(millis).utf8)
        text.append(separator)
        text.append(contentsOf: draft.event.utf8)
        text.append(separator)
        if let connector = draft.connector { text.append(contentsOf: connector.utf8) }
        text.append(separator)
        if let reference = draft.reference { text.append(contentsOf: reference.utf8) }
        text.append(separator)
        if let rule = draft.rule { text.append(contentsOf: rule.utf8) }
        text.append(separator)
        if let operation = draft.operation { text.append(contentsOf: operation.utf8) }
        text.append(separator)
        appendDetailJSON(draft.detail, keys: keys, to: &text)
    }

    /// `detail` as JSON with sorted keys. Written by hand: it runs for every audit entry, and the
    /// output must stay byte-stable (it is what the hash covers).
    package static func detailJSON(_ detail: [String: String]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(128)
        appendDetailJSON(detail, keys: detail.keys.sorted(), to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static func appendDetailJSON(_ detail: [String: String], keys: [String], to text: inout [UInt8]) {
        text.append(UInt8(ascii: "{"))
        for (index, key) in keys.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            appendQuoted(key, to: &text)
            text.append(UInt8(ascii: ":"))
            appendQuoted(detail[key] ?? "", to: &text)
        }
        text.append(UInt8(ascii: "}"))
    }

    /// A JSON string: `"` and `\\` escaped, control characters as `\n`, `\r`, `\t` or `\u00xx`,
    /// everything else (including every non-ASCII byte of the UTF-8) as is.
    private static func appendQuoted(_ value: String, to text: inout [UInt8]) {
        text.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                text.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                text.append(hexDigit(byte >> 4))
                text.append(hexDigit(byte & 0x0F))
            default: text.append(byte)
            }
        }
        text.append(UInt8(ascii: "\""))
    }

    fileprivate static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex, without `String(format:)` (which is slow on Linux).
    package var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
