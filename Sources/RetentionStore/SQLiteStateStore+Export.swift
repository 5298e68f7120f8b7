public import Foundation
import GRDB
import GRDBSQLite

/// The whole state, read for a move to another store (`lethe store migrate`): one snapshot, so every
/// table is read as of the same instant however long the copy takes.
extension SQLiteStateStore {
    public func exportSnapshot() throws -> any StateExport {
        do {
            return try SQLiteStateExport(snapshot: queue.makeSnapshot())
        } catch let error as DatabaseError {
            throw StoreError(code: "store.read", message: "cannot read the state database \(path.path): \(error.message ?? "error \(error.resultCode)")")
        }
    }
}

final class SQLiteStateExport: StateExport, @unchecked Sendable {
    // A snapshot is used from one task at a time (the copy reads table after table).
    private let snapshot: DatabaseSnapshot
    let meta: StateTransfer.Meta

    init(snapshot: DatabaseSnapshot) throws {
        self.snapshot = snapshot
        meta = try snapshot.read { db in
            var values: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") { values[row[0]] = row[1] }
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1")
            return StateTransfer.Meta(values: values, auditHead: (head?[0] ?? 0, head?[1] ?? AuditChain.genesis))
        }
    }

    func counts() throws -> [String: Int64] {
        try snapshot.read { db in
            var counts: [String: Int64] = [:]
            for table in StateTransfer.tables {
                guard try db.tableExists(table.name) else { continue }
                counts[table.name] = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.name)") ?? 0
            }
            return counts
        }
    }

    func chunk(_ table: StateTransfer.Table, after cursor: StateTransfer.Cursor?, limit: Int) throws -> (StateTransfer.Chunk, StateTransfer.Cursor)? {
        try snapshot.read { db in
            guard try db.tableExists(table.name) else { return nil }
            let statement = try RawStatement(
                db,
                sql: """
                    SELECT \(table.order), \(table.columns.map(\.source).joined(separator: ", ")) FROM \(table.name)
                    WHERE ?1 IS NULL OR \(table.order) > ?1 ORDER BY \(table.order) LIMIT ?2
                    """)
            switch cursor {
            case nil: _ = statement.bind(DatabaseValue.null)
            case .integer(let value): _ = statement.bind(value)
            case .text(let value): _ = statement.bind(value)
            }
            var columns = table.columns.map { ColumnReader(column: $0, table: table.name, capacity: limit) }
            var last: StateTransfer.Cursor?
            var count = 0
            // Straight from SQLite's C API: a million rows of a dozen columns each read in about a second.
            _ = try statement.bind(limit).all { handle in
                for index in columns.indices { try columns[index].read(handle, Int32(index + 1)) }
                last = sqlite3_column_type(handle, 0) == SQLITE_INTEGER
                    ? .integer(sqlite3_column_int64(handle, 0)) : .text(RawStatement.text(handle, 0) ?? "")
                count += 1
            }
            guard let last, count > 0 else { return nil }
            return (StateTransfer.Chunk(table: table, columns: columns.map(\.values), count: count), last)
        }
    }
}

/// One column's values read in their travelling form.
private struct ColumnReader {
    let column: StateTransfer.Column
    let table: String
    var integers: [Int64?] = []
    var reals: [Double?] = []
    var texts: [String?] = []
    var blobs: [Data?] = []

    init(column: StateTransfer.Column, table: String, capacity: Int) {
        self.column = column
        self.table = table
        switch column.type {
        case .integer, .boolean: integers.reserveCapacity(capacity)
        case .real: reals.reserveCapacity(capacity)
        case .text, .reference, .hash: texts.reserveCapacity(capacity)
        case .blob, .auditDetail: blobs.reserveCapacity(capacity)
        }
    }

    var values: StateTransfer.Values {
        switch column.type {
        case .integer: .integers(integers)
        case .boolean: .booleans(integers.map { $0.map { $0 != 0 } })
        case .real: .reals(reals)
        case .text, .reference, .hash: .texts(texts)
        case .blob, .auditDetail: .blobs(blobs)
        }
    }

    private func unexpected(_ type: Int32) -> StoreError {
        StoreError(code: "store.export", message: "\(table).\(column.source) holds a value of an unexpected type (\(type))")
    }

    private static func text(_ handle: OpaquePointer, _ index: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, index) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, index))), as: UTF8.self)
    }

    private static func data(_ handle: OpaquePointer, _ index: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count > 0, let bytes = sqlite3_column_blob(handle, index) else { return Data() }
        return Data(bytes: bytes, count: count)
    }

    mutating func read(_ handle: OpaquePointer, _ index: Int32) throws {
        let type = sqlite3_column_type(handle, index)
        switch column.type {
        case .integer, .boolean:
            switch type {
            case SQLITE_NULL: integers.append(nil)
            case SQLITE_INTEGER: integers.append(sqlite3_column_int64(handle, index))
            case SQLITE_FLOAT where sqlite3_column_double(handle, index).rounded() == sqlite3_column_double(handle, index):
                integers.append(Int64(sqlite3_column_double(handle, index)))
            default: throw unexpected(type)
            }
        case .real:
            switch type {
            case SQLITE_NULL: reals.append(nil)
            case SQLITE_INTEGER, SQLITE_FLOAT: reals.append(sqlite3_column_double(handle, index))
            default: throw unexpected(type)
            }
        case .text:
            switch type {
            case SQLITE_NULL: texts.append(nil)
            case SQLITE_TEXT, SQLITE_BLOB: texts.append(Self.text(handle, index))
            default: throw unexpected(type)
            }
        case .blob:
            switch type {
            case SQLITE_NULL: blobs.append(nil)
            case SQLITE_BLOB, SQLITE_TEXT: blobs.append(Self.data(handle, index))
            default: throw unexpected(type)
            }
        case .reference:
            switch type {
            case SQLITE_NULL: texts.append(nil)
            case SQLITE_BLOB: texts.append(try AuditCodec.reference(bytes: Self.data(handle, index)))
            case SQLITE_TEXT: texts.append(Self.text(handle, index))
            case SQLITE_INTEGER: texts.append(String(sqlite3_column_int64(handle, index)))
            default: throw unexpected(type)
            }
        case .hash:
            switch type {
            case SQLITE_NULL: texts.append(nil)
            case SQLITE_BLOB: texts.append(Self.data(handle, index).hexString)
            case SQLITE_TEXT: texts.append(Self.text(handle, index))
            default: throw unexpected(type)
            }
        case .auditDetail:
            guard type == SQLITE_BLOB else {
                throw StoreError(
                    code: "store.export", message: "an audit entry's detail is stored as text, not as Lethe writes it: run `lethe audit verify`")
            }
            blobs.append(Self.data(handle, index))
        }
    }
}
