import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

/// The destruction register (파기 관리대장) derived from the audit log: one row per completed
/// deletion, erasure or archive copy. References are pseudonymous; no personal data is exported.
struct DestructionRegister {
    struct Row: Encodable, Equatable {
        var destroyedAt: Date
        var connector: String
        var reference: String
        var data: String
        var rules: String
        var legalBasis: String
        var method: String
        var operatorName: String
        var expiry: String
        var operation: String
        var batch: String
        var deleteMode: String
        var restorableUntil: String
        /// When the record (or the erased fields) came back after an earlier destruction, so this
        /// row is its destruction again; empty otherwise.
        var reappeared: String = ""
    }

    var rows: [Row] = []

    static let header = [
        "파기일시(destroyed at)", "커넥터(connector)", "대상 참조(reference)", "파기 항목(data)", "보유 목적(purpose)",
        "법적 근거(legal basis)", "파기 방법(method)", "처리자(operator)", "보유기간 만료(expiry)", "작업 ID(operation)", "승인 배치(batch)",
        "삭제 방식(delete mode)", "복구 가능 기한(restorable until)", "파기 후 재등장(reappeared after destruction)",
    ]

    static func load(from store: any StateStore) async throws -> DestructionRegister {
        var register = DestructionRegister()
        var after: Int64 = 0
        // Records (connector, reference) and erased fields (… rule) seen again after a destruction,
        // with when: their next destruction row says so.
        var returned: [String: Date] = [:]
        let stamp = ISO8601DateFormatter()
        while true {
            let entries = try await store.auditEntries(after: after, limit: 5000)
            guard let last = entries.last else { break }
            after = last.seq
            for entry in entries {
                let draft = entry.draft
                let record = "\(draft.connector ?? "")\u{1F}\(draft.reference ?? "")"
                if draft.event == "record.reappeared" { returned[record] = draft.at }
                if draft.event == "fields.reappeared" { returned[record + "\u{1F}\(draft.rule ?? "")"] = draft.at }
                if draft.event == "archive.purged" {
                    register.rows.append(archivePurgeRow(draft))
                    continue
                }
                guard draft.event == "operation.done" else { continue }
                let detail = draft.detail
                guard let kind = detail["kind"], ["delete", "erase-fields", "archive"].contains(kind) else { continue }
                let key = kind == "erase-fields" ? record + "\u{1F}\(draft.rule ?? "")" : record
                var reappeared = ""
                if kind != "archive", let at = returned.removeValue(forKey: key) {
                    reappeared = "\(stamp.string(from: at)): 파기 후 다시 나타나 재파기 (seen again after its destruction, destroyed again)"
                }
                register.rows.append(
                    Row(
                        destroyedAt: entry.draft.at,
                        connector: entry.draft.connector ?? "",
                        reference: entry.draft.reference ?? "",
                        data: detail["fields"] == "*" ? "레코드 전체 (entire record)" : (detail["fields"] ?? ""),
                        rules: detail["rules"] ?? entry.draft.rule ?? "",
                        legalBasis: detail["legalBasis"] ?? "",
                        method: methodText(kind, how: detail["deleteMethod"]),
                        operatorName: detail["operator"] ?? "lethe (automatic)",
                        expiry: detail["expiry"] ?? "",
                        operation: entry.draft.operation ?? "",
                        batch: detail["batch"] ?? "",
                        deleteMode: modeText(detail["deleteMode"]),
                        restorableUntil: detail["restorableUntil"] ?? "",
                        reappeared: reappeared
                    )
                )
            }
        }
        return register
    }

    /// Archived copies destroyed when the archive's own `keep` ran out: one row per connector and month.
    static func archivePurgeRow(_ draft: AuditDraft) -> Row {
        let month = draft.detail["month"] ?? ""
        let keep = draft.detail["keep"] ?? ""
        return Row(
            destroyedAt: draft.at, connector: draft.connector ?? "", reference: "",
            data: "분리 보관본 \(draft.detail["entries"] ?? "?")건, \(month) (archived copies of \(month))", rules: "",
            legalBasis: "분리 보관 기간 \(keep) 경과 (archive keep \(keep) elapsed)",
            method: "분리 보관본 파기 (archived copies destroyed)",
            operatorName: draft.detail["operator"] ?? "lethe (automatic)", expiry: "", operation: "", batch: "",
            deleteMode: modeText("permanent"), restorableUntil: "")
    }

    static func modeText(_ mode: String?) -> String {
        switch mode {
        case "soft": "복구 가능 삭제 (soft: the provider purges it later)"
        case "permanent": "영구 삭제 (permanent)"
        default: ""
        }
    }

    /// `how`: the target's own words for a delete ("hard delete (Bulk API 2.0)"), when it gave them.
    static func methodText(_ kind: String, how: String? = nil) -> String {
        switch kind {
        case "delete": "원본 레코드 삭제 (record deleted at source" + (how.map { ": \($0))" } ?? ")")
        case "erase-fields": "선택 항목 삭제 (optional fields erased at source)"
        default: "분리 보관 (archived to separated storage)"
        }
    }

    /// UTF-8 with BOM and CRLF, which Korean Excel opens correctly; formula-like cells are escaped.
    func csv(zone: TimeZone) -> Data {
        let formatter = DateFormatter()
        formatter.timeZone = zone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var text = Self.header.map(Self.cell).joined(separator: ",") + "\r\n"
        for row in rows {
            let cells = [
                formatter.string(from: row.destroyedAt), row.connector, row.reference, row.data, row.rules, row.legalBasis,
                row.method, row.operatorName, row.expiry, row.operation, row.batch, row.deleteMode, row.restorableUntil, row.reappeared,
            ]
            text += cells.map(Self.cell).joined(separator: ",") + "\r\n"
        }
        return Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)
    }

    /// Quotes when needed; prefixes `'` to cells Excel would read as formulas (=, +, -, @, tab, CR).
    static func cell(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            text = "'" + text
        }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }
}
