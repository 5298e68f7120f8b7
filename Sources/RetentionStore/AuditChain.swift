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

    static func detailJSON(_ detail: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(detail), as: UTF8.self)) ?? "{}"
    }
}

extension Digest {
    var hexString: String {
        map { String(format: "%02x", $0) }.joined()
    }
}
