public import Foundation

/// Moving a whole state from one store to another (`lethe store migrate`): the tables both stores
/// hold, column by column, in the order they are copied. Rows travel in chunks of typed columns; the
/// source store reads its own storage forms (`SQLiteStateStore.exportSnapshot()`), the target writes
/// its own (`PostgresStateStore.importState`). Both stores' schemas are otherwise their migrations'.
public enum StateTransfer {
    /// How a column's values travel.
    public enum ColumnType: Sendable {
        case integer, real, text, blob, boolean
        /// An audit entry's reference or operation id, as text (each store encodes it its own way).
        case reference
        /// An audit entry's hash, as hex text.
        case hash
        /// An audit entry's detail, as the bytes `AuditCodec` wrote (never text: an edited entry is refused).
        case auditDetail
    }

    public struct Column: Sendable {
        /// The column in the source (an expression: SQLite's rowids are named by `rowid`).
        public var source: String
        /// The column in the target.
        public var target: String
        public var type: ColumnType

        init(_ name: String, _ type: ColumnType, from source: String? = nil) {
            self.source = source ?? name
            self.target = name
            self.type = type
        }
    }

    public struct Table: Sendable {
        public var name: String
        public var columns: [Column]
        /// The source column rows are read in order of (unique; SQLite's rowid where there is one).
        public var order: String
        /// The target's identity column, whose sequence continues after the rows copied.
        public var identity: String?
        /// A table a state may lack (added by a later migration): copied when the source has it.
        public var optional = false
    }

    /// Every table of a state but the installation's secrets (`meta`) and the audit head, in the order
    /// they are copied (the audit's words before the entries that name them).
    public static let tables: [Table] = [
        Table(name: "runs", columns: [
            Column("id", .integer), Column("connector", .text), Column("as_of", .real), Column("dry_run", .boolean),
            Column("started_at", .real), Column("finished_at", .real), Column("summary", .text),
        ], order: "rowid", identity: "id"),
        Table(name: "record_state", columns: [
            Column("slot", .integer), Column("key", .integer), Column("connector", .text), Column("ref", .text), Column("record_id", .text),
            Column("digest", .integer), Column("facts", .blob), Column("phase", .text), Column("state", .blob), Column("next_due", .real),
            Column("final_expiry", .real), Column("line", .integer), Column("dup_lines", .text), Column("reason", .text),
            Column("reappeared", .integer),
        ], order: "rowid", identity: "slot"),
        Table(name: "legacy_refs", columns: [Column("ref", .text), Column("key", .integer)], order: "ref"),
        Table(name: "outbox", columns: [
            Column("position", .integer, from: "rowid"), Column("id", .text), Column("connector", .text), Column("ref", .text),
            Column("record_id", .text), Column("kind", .text), Column("rule", .text), Column("cycle", .real), Column("fields", .blob),
            Column("status", .text), Column("attempts", .integer), Column("next_attempt_at", .real), Column("last_error", .text),
            Column("batch", .text), Column("receipt", .text), Column("created_at", .real), Column("updated_at", .real), Column("rkey", .integer),
        ], order: "rowid", identity: "position"),
        Table(name: "approval_batches", columns: [
            Column("id", .text), Column("connector", .text), Column("status", .text), Column("created_at", .real), Column("approved_at", .real),
            Column("approved_by", .text), Column("rejected_at", .real), Column("rejected_by", .text), Column("rejection_reason", .text),
        ], order: "rowid"),
        Table(name: "approval_signoffs", columns: [
            Column("seq", .integer, from: "rowid"), Column("batch", .text), Column("operator", .text), Column("recorded_as", .text),
            Column("signed_at", .real), Column("operations", .integer), Column("missing", .integer),
        ], order: "rowid", identity: "seq"),
        Table(name: "holds", columns: [
            Column("connector", .text), Column("ref", .text), Column("reason", .text), Column("created_by", .text), Column("created_at", .real),
        ], order: "rowid"),
        Table(name: "watermarks", columns: [Column("connector", .text), Column("value", .text)], order: "rowid"),
        Table(name: "readings", columns: [Column("connector", .text), Column("fingerprint", .text)], order: "rowid"),
        Table(name: "missing_records", columns: [
            Column("key", .integer), Column("connector", .text), Column("batch", .text), Column("noticed_at", .real),
        ], order: "rowid"),
        Table(name: "webhook_events", columns: [
            Column("seq", .integer), Column("connector", .text), Column("event_id", .text), Column("record_id", .text), Column("deleted", .boolean),
            Column("received_at", .real), Column("processed_at", .real), Column("attempts", .integer), Column("next_attempt_at", .real),
            Column("dead_at", .real), Column("last_error", .text),
        ], order: "rowid", identity: "seq"),
        Table(name: "schedule_marks", columns: [Column("key", .text), Column("started_at", .real)], order: "rowid"),
        Table(name: "consent_decisions", columns: [
            Column("connector", .text), Column("ref", .text), Column("rule", .text), Column("cycle", .real), Column("action", .text),
            Column("decided_at", .real), Column("applied_at", .real),
        ], order: "rowid"),
        Table(name: "audit_words", columns: [Column("id", .integer), Column("word", .text)], order: "rowid", identity: "id"),
        Table(name: "audit", columns: [
            Column("seq", .integer), Column("at", .real), Column("event", .integer), Column("connector", .integer), Column("ref", .reference),
            Column("rule", .integer), Column("operation", .reference), Column("detail", .auditDetail), Column("hash", .hash),
        ], order: "rowid"),
        Table(name: "alert_marks", columns: [
            Column("key", .text), Column("state", .text), Column("claimant", .text), Column("claimed_at", .real), Column("sent_at", .real),
        ], order: "rowid", optional: true),
    ]

    /// One column's values in a chunk.
    public enum Values: Sendable {
        case integers([Int64?])
        case reals([Double?])
        case texts([String?])
        case blobs([Data?])
        case booleans([Bool?])
    }

    /// Consecutive rows of one table, column by column (as `Table.columns`).
    public struct Chunk: Sendable {
        public var table: Table
        public var columns: [Values]
        public var count: Int

        public init(table: Table, columns: [Values], count: Int) {
            self.table = table
            self.columns = columns
            self.count = count
        }
    }

    /// What a state holds besides its tables: the installation's secrets and the audit head.
    public struct Meta: Sendable {
        /// `meta` (SQLite) / `lethe_meta` (PostgreSQL): the pseudonym secret, the audit signing key.
        public var values: [String: String]
        /// The audit head: the last entry's number and hash.
        public var auditHead: (seq: Int64, hash: String)

        public init(values: [String: String], auditHead: (seq: Int64, hash: String)) {
            self.values = values
            self.auditHead = auditHead
        }
    }
}

/// A consistent view of a state to copy from: its secrets, then each table in chunks.
public protocol StateExport: Sendable {
    var meta: StateTransfer.Meta { get }
    /// The rows of `table` after `cursor` (nil: from the start), at most `limit`; nil when there are no more.
    /// Returns the chunk and the cursor of its last row.
    func chunk(_ table: StateTransfer.Table, after cursor: StateTransfer.Cursor?, limit: Int) throws -> (StateTransfer.Chunk, StateTransfer.Cursor)?
    /// The number of rows of each table the source holds (an optional table it lacks is left out).
    func counts() throws -> [String: Int64]
}

extension StateTransfer {
    /// Where a table's reading stopped: the order column's last value.
    public enum Cursor: Sendable {
        case integer(Int64)
        case text(String)
    }
}
