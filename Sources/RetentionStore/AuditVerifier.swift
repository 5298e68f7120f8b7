package import Foundation

/// Walks an audit log entry by entry, as any store reads it back, and says where the chain breaks:
/// a sequence gap, an edited detail, a hash that does not cover its entry, or a head (count and last
/// hash) that does not match the log's end.
package struct AuditVerifier {
    private var expectedSeq: Int64 = 0
    private var previous = AuditChain.genesis

    package init() {}

    /// The hash the next entry must follow (what `read` passes as its previous hash).
    package var previousHash: String { previous }

    /// Checks the next stored entry, `read` decoding it (the entry, and whether its detail is stored
    /// as Lethe writes it); returns the failed verification, or nil when the entry holds.
    package mutating func check(seq: Int64, read: () throws -> (entry: AuditEntry, canonicalDetail: Bool)) -> AuditVerification? {
        expectedSeq += 1
        func failure(_ problem: String) -> AuditVerification {
            AuditVerification(ok: false, entries: expectedSeq - 1, headHash: previous, problem: "entry \(seq): \(problem)")
        }
        let stored: (entry: AuditEntry, canonicalDetail: Bool)
        do {
            stored = try read()
        } catch {
            return failure("it is unreadable (edited)")
        }
        let entry = stored.entry
        if entry.seq != expectedSeq { return failure("expected entry \(expectedSeq): entries were removed or inserted") }
        if !stored.canonicalDetail { return failure("its detail was edited") }
        if AuditChain.hash(previous: previous, seq: entry.seq, draft: entry.draft) != entry.hash {
            return failure("its content does not match its hash (edited)")
        }
        previous = entry.hash
        return nil
    }

    /// The verdict once every entry was checked, against the head kept beside the log (nil: missing).
    package func finish(head: (seq: Int64, hash: String)?) -> AuditVerification {
        guard let head else {
            return AuditVerification(ok: false, entries: expectedSeq, headHash: previous, problem: "the audit head is missing")
        }
        if head.seq != expectedSeq || head.hash != previous {
            return AuditVerification(
                ok: false, entries: expectedSeq, headHash: previous,
                problem: "the head records \(head.seq) entries but the log has \(expectedSeq): entries at the end were removed or added"
            )
        }
        return AuditVerification(ok: true, entries: expectedSeq, headHash: previous, problem: nil)
    }
}
