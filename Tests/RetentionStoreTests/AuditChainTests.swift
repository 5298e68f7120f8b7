import Crypto
import Foundation
import RetentionCore
@testable import RetentionStore
import Testing

/// The chain's definition, restated plainly: an entry's hash is the SHA-256 of the previous hash, its
/// sequence number and its canonical text, each line ended by a newline except the last, the
/// canonical text being the milliseconds, event, connector, reference, rule, operation and detail
/// JSON (keys sorted) separated by U+001F. Existing logs verify only as long as this never changes.
@Suite struct AuditChainTests {
    static let at = Date(timeIntervalSince1970: 1_795_000_000.1234)

    static let drafts = [
        AuditDraft(at: at, event: "operation.done", connector: "contacts", reference: "r-4b343ea6882253777bb6", rule: "dispute",
                   operation: "op-82b85b75c2a6e11133cea245",
                   detail: ["kind": "delete", "legalBasis": "전자상거래법 시행령 제6조", "expiry": "2026-11-01T17:59:14Z", "receipt": "deleted",
                            "operator": "lethe (automatic)", "rules": "dispute;payment", "fields": "*"]),
        AuditDraft(at: at.addingTimeInterval(-0.0006), event: "record.quarantined", connector: "contacts", reference: "r-ABCDEF",
                   detail: ["reason": "invalid_date", "line": "17"]),
        AuditDraft(at: at, event: "odd", detail: ["quote\"back\\slash": "tab\tnew\nline\r\u{1}\u{1F}end", "": "", "é": "😀"]),
        AuditDraft(at: Date(timeIntervalSince1970: -1.5), event: "audit.checkpoint"),
    ]

    /// The definition, written as plainly as possible and independently of the store's code.
    static func reference(previous: String, seq: Int64, draft: AuditDraft) -> String {
        func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        let json = "{" + draft.detail.keys.sorted().map { quoted($0) + ":" + quoted(draft.detail[$0]!) }.joined(separator: ",") + "}"
        let millis = Int64((draft.at.timeIntervalSince1970 * 1000).rounded())
        let canonical = [String(millis), draft.event, draft.connector ?? "", draft.reference ?? "", draft.rule ?? "", draft.operation ?? "", json]
            .joined(separator: "\u{1F}")
        let text = previous + "\n" + String(seq) + "\n" + canonical
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func aLinkChainsEntriesAsTheDefinitionSays() {
        var link = AuditChain.Link(previous: AuditChain.genesis)
        var previous = AuditChain.genesis
        for (offset, draft) in Self.drafts.enumerated() {
            let seq = Int64(offset + 1)
            let expected = Self.reference(previous: previous, seq: seq, draft: draft)
            let digest = link.append(seq: seq, draft: draft, keys: draft.detail.keys.sorted())
            #expect(digest.hexString == expected)
            #expect(link.previous == expected)
            #expect(AuditChain.hash(previous: previous, seq: seq, draft: draft) == expected)
            previous = expected
        }
    }

    @Test func oneChangedCharacterChangesTheHash() {
        let draft = Self.drafts[0]
        var changed = draft
        changed.detail["receipt"] = "deleteD"
        #expect(AuditChain.hash(previous: AuditChain.genesis, seq: 1, draft: draft)
            != AuditChain.hash(previous: AuditChain.genesis, seq: 1, draft: changed))
        #expect(AuditChain.hash(previous: AuditChain.genesis, seq: 1, draft: draft)
            != AuditChain.hash(previous: AuditChain.genesis, seq: 2, draft: draft))
    }

    @Test func theDetailJSONIsSortedAndEscaped() {
        #expect(AuditChain.detailJSON(["b": "2", "a": "x\"y\n\u{1}"]) == #"{"a":"x\"y\n\u0001","b":"2"}"#)
        #expect(AuditChain.detailJSON([:]) == "{}")
    }
}
