import Crypto
import Foundation

/// The hash chain of the audit log: each entry's hash covers the previous hash and the entry's
/// canonical text, so editing, inserting or removing any entry breaks every hash after it; the head
/// (count and last hash), kept outside the chain, catches removal of the last entries.
enum AuditChain {
    static let genesis = String(repeating: "0", count: 64)

    static func hash(previous: String, seq: Int64, draft: AuditDraft) -> String {
        let text = [previous, String(seq), canonical(draft)].joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).hexString
    }

    /// Stable text of an entry: fixed field order, detail keys sorted, dates as integer milliseconds.
    static func canonical(_ draft: AuditDraft) -> String {
        let millis = Int64((draft.at.timeIntervalSince1970 * 1000).rounded())
        return [
            String(millis), draft.event, draft.connector ?? "", draft.reference ?? "", draft.rule ?? "",
            draft.operation ?? "", detailJSON(draft.detail),
        ].joined(separator: "\u{1F}")
    }

    /// `detail` as JSON with sorted keys. Written by hand: it runs for every audit entry, and the
    /// output must stay byte-stable (it is what the hash covers).
    static func detailJSON(_ detail: [String: String]) -> String {
        var text = "{"
        for (index, key) in detail.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            appendQuoted(key, to: &text)
            text += ":"
            appendQuoted(detail[key] ?? "", to: &text)
        }
        return text + "}"
    }

    private static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex, without `String(format:)` (which is slow on Linux).
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
