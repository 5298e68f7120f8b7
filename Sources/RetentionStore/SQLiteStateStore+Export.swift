public import Foundation
import GRDB

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
            let columns = table.columns.map(\.source).joined(separator: ", ")
            let after: DatabaseValue
            switch cursor {
            case nil: after = .null
            case .integer(let value): after = value.databaseValue
            case .text(let value): after = value.databaseValue
            }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(table.order), \(columns) FROM \(table.name)
                    WHERE ?1 IS NULL OR \(table.order) > ?1 ORDER BY \(table.order) LIMIT ?2
                    """,
                arguments: [after, limit])
            guard let last = rows.last else { return nil }
            var values: [StateTransfer.Values] = []
            for (index, column) in table.columns.enumerated() {
                values.append(try Self.values(rows.map { $0[index + 1] as DatabaseValue }, column, table: table.name))
            }
            let next: StateTransfer.Cursor
            switch (last[0] as DatabaseValue).storage {
            case .int64(let value): next = .integer(value)
            case .string(let value): next = .text(value)
            default: throw StoreError(code: "store.export", message: "\(table.name): a row has no usable order")
            }
            return (StateTransfer.Chunk(table: table, columns: values, count: rows.count), next)
        }
    }

    /// One column's stored values in their travelling form.
    private static func values(_ stored: [DatabaseValue], _ column: StateTransfer.Column, table: String) throws -> StateTransfer.Values {
        func unexpected(_ value: DatabaseValue) -> StoreError {
            StoreError(code: "store.export", message: "\(table).\(column.source) holds a value of an unexpected type (\(value.storage))")
        }
        switch column.type {
        case .integer, .boolean:
            let numbers = try stored.map { value -> Int64? in
                switch value.storage {
                case .null: return nil
                case .int64(let number): return number
                case .double(let number) where number == number.rounded(): return Int64(number)
                default: throw unexpected(value)
                }
            }
            return column.type == .boolean ? .booleans(numbers.map { $0.map { $0 != 0 } }) : .integers(numbers)
        case .real:
            return .reals(try stored.map { value in
                switch value.storage {
                case .null: return nil
                case .double(let number): return number
                case .int64(let number): return Double(number)
                default: throw unexpected(value)
                }
            })
        case .text:
            return .texts(try stored.map { value in
                switch value.storage {
                case .null: return nil
                case .string(let text): return text
                case .blob(let data): return String(decoding: data, as: UTF8.self)
                default: throw unexpected(value)
                }
            })
        case .blob:
            return .blobs(try stored.map { value in
                switch value.storage {
                case .null: return nil
                case .blob(let data): return data
                case .string(let text): return Data(text.utf8)
                default: throw unexpected(value)
                }
            })
        case .reference:
            return .texts(try stored.map { try AuditCodec.decodeReference($0) })
        case .hash:
            return .texts(stored.map { $0.isNull ? nil : AuditCodec.decodeHash($0) })
        case .auditDetail:
            return .blobs(try stored.map { value in
                guard case .blob(let data) = value.storage else {
                    throw StoreError(
                        code: "store.export",
                        message: "an audit entry's detail is stored as text, not as Lethe writes it: run `lethe audit verify`")
                }
                return data
            })
        }
    }
}
