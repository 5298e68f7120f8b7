import Foundation
import GRDB
import GRDBSQLite

/// A prepared statement bound value by value straight through SQLite's C API, for the writes a sync
/// does once per record (a million times on a large source), where building GRDB's argument arrays
/// costs more than SQLite's own work. It lives for one transaction: prepared on the connection,
/// finalized when released. Everything else goes through GRDB.
final class RawStatement {
    private let db: Database
    private let handle: OpaquePointer
    private var index: Int32 = 0

    init(_ db: Database, sql: String) throws {
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v2(db.sqliteConnection, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw StoreError(code: "store.prepare", message: "cannot prepare a statement: \(Self.message(db))")
        }
        self.db = db
        self.handle = handle
    }

    deinit { sqlite3_finalize(handle) }

    private static func message(_ db: Database) -> String {
        db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "unknown error"
    }

    /// SQLite copies the bytes before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    @discardableResult
    func bind(_ value: Int64?) -> Self {
        index += 1
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        return self
    }

    @discardableResult
    func bind(_ value: Int?) -> Self { bind(value.map(Int64.init)) }

    @discardableResult
    func bind(_ value: Double?) -> Self {
        index += 1
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        return self
    }

    @discardableResult
    func bind(_ value: String?) -> Self {
        index += 1
        guard var value else {
            sqlite3_bind_null(handle, index)
            return self
        }
        value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { text in
                _ = sqlite3_bind_text(handle, index, text.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(text.count), Self.transient)
            }
        }
        return self
    }

    @discardableResult
    func bind(_ value: Data?) -> Self {
        index += 1
        guard let value else {
            sqlite3_bind_null(handle, index)
            return self
        }
        value.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), Self.transient)
        }
        return self
    }

    @discardableResult
    func bind(_ value: DatabaseValue) -> Self {
        switch value.storage {
        case .null: return bind(nil as Int64?)
        case .int64(let number): return bind(number)
        case .double(let number): return bind(number)
        case .string(let text): return bind(text)
        case .blob(let data): return bind(data)
        }
    }

    /// Runs the statement with the values bound since the last run; returns the rows it changed.
    @discardableResult
    func run() throws -> Int {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            index = 0
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw StoreError(code: "store.write", message: "a write failed: \(Self.message(db))")
        }
        return Int(sqlite3_changes(db.sqliteConnection))
    }

    /// Runs a query with the values bound, and reads every row.
    func all<T>(_ read: (OpaquePointer) throws -> T) throws -> [T] {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            index = 0
        }
        var rows: [T] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw StoreError(code: "store.read", message: "a read failed: \(Self.message(db))") }
            rows.append(try read(handle))
        }
    }

    /// The text in `column` of the current row (nil for NULL).
    static func text(_ handle: OpaquePointer, _ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: bytes)
    }

    /// The bytes of the blob in `column` of the current row (nil for NULL), valid until the next step.
    static func blob(_ handle: OpaquePointer, _ column: Int32) -> UnsafeRawBufferPointer? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, column), count: count)
    }

    static func int64(_ handle: OpaquePointer, _ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    static func double(_ handle: OpaquePointer, _ column: Int32) -> Double? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_double(handle, column)
    }

    /// Runs a query with the values bound, and reads its first row (nil when there is none).
    func first<T>(_ read: (OpaquePointer) throws -> T) throws -> T? {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            index = 0
        }
        let code = sqlite3_step(handle)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw StoreError(code: "store.read", message: "a read failed: \(Self.message(db))") }
        return try read(handle)
    }
}
