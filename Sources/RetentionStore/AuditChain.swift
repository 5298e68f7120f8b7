import Crypto
package import Foundation

/// The hash chain of the audit log: each entry's hash covers the previous hash and the entry's
/// canonical text, so editing, inserting or removing any entry breaks every hash after it; the head
/// (count and last hash), kept outside the chain, catches removal of the last entries.
package enum AuditChain {
    package static let genesis = String(repeating: "0", count: 64)

    package static func hash(previous: String, seq: Int64, draft: AuditDraft) -> String {
        hash(previous: previous, seq: seq, draft: draft, detailJSON: detailJSON(draft.detail))
    }

    /// The same, with the entry's `detailJSON` already computed (it is also what gets stored).
    static func hash(previous: String, seq: Int64, draft: AuditDraft, detailJSON: String) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(256)
        text.append(contentsOf: previous.utf8)
        text.append(UInt8(ascii: "\n"))
        text.append(contentsOf: String(seq).utf8)
        text.append(UInt8(ascii: "\n"))
        appendCanonical(draft, detailJSON: detailJSON, to: &text)
        return SHA256.hash(data: text).hexString
    }

    /// Stable text of an entry: fixed field order, detail keys sorted, dates as integer milliseconds.
    static func canonical(_ draft: AuditDraft) -> String {
        var text: [UInt8] = []
        appendCanonical(draft, detailJSON: detailJSON(draft.detail), to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static func appendCanonical(_ draft: AuditDraft, detailJSON: String, to text: inout [UInt8]) {
        let millis = Int64((draft.at.timeIntervalSince1970 * 1000).rounded())
        let separator: UInt8 = 0x1F
        text.append(contentsOf: String(millis).utf8)
        for part in [draft.event, draft.connector ?? "", draft.reference ?? "", draft.rule ?? "", draft.operation ?? "", detailJSON] {
            text.append(separator)
            text.append(contentsOf: part.utf8)
        }
    }

    /// `detail` as JSON with sorted keys. Written by hand: it runs for every audit entry, and the
    /// output must stay byte-stable (it is what the hash covers).
    package static func detailJSON(_ detail: [String: String]) -> String {
        var text: [UInt8] = [UInt8(ascii: "{")]
        text.reserveCapacity(128)
        for (index, key) in detail.keys.sorted().enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            appendQuoted(key, to: &text)
            text.append(UInt8(ascii: ":"))
            appendQuoted(detail[key] ?? "", to: &text)
        }
        text.append(UInt8(ascii: "}"))
        return String(decoding: text, as: UTF8.self)
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

    private static func hexDigit(_ value: UInt8) -> UInt8 {
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
