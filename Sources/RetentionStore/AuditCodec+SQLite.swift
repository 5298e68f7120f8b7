import Foundation
import GRDB

/// The audit log's columns in SQLite, whose columns take any type: an entry's values are stored as
/// `AuditCodec` encodes them, or as text where they cannot be (an earlier version's entry).
extension AuditVocabulary {
    static func load(_ db: Database) throws -> AuditVocabulary {
        var vocabulary = AuditVocabulary()
        let rows = try Row.fetchCursor(db, sql: "SELECT id, word FROM audit_words")
        while let row = try rows.next() { vocabulary.add(id: row[0], word: row[1]) }
        return vocabulary
    }

    /// The number of `word`, added to `audit_words` when it is new (inside the caller's transaction).
    mutating func id(_ word: String, _ db: Database) throws -> Int64 {
        if let id = id(of: word) { return id }
        try db.cachedStatement(sql: "INSERT INTO audit_words (word) VALUES (?)").execute(arguments: [word])
        let id = db.lastInsertedRowID
        add(id: id, word: word)
        return id
    }
}

extension AuditCodec {
    static func encodeWord(_ value: String?, _ vocabulary: inout AuditVocabulary, _ db: Database) throws -> DatabaseValue {
        guard let value else { return .null }
        return try vocabulary.id(value, db).databaseValue
    }

    static func decodeWord(_ value: DatabaseValue, _ vocabulary: AuditVocabulary) throws -> String? {
        switch value.storage {
        case .null: return nil
        case .int64(let id):
            guard let word = vocabulary.word(id) else { throw unreadable("names an unknown word \(id)") }
            return word
        case .string(let text): return text
        case .blob(let data): return String(decoding: data, as: UTF8.self)
        case .double(let number): return String(number)
        }
    }

    static func encodeReference(_ value: String?) -> DatabaseValue {
        guard let value else { return .null }
        return referenceBytes(value)?.databaseValue ?? value.databaseValue
    }

    static func decodeReference(_ value: DatabaseValue) throws -> String? {
        switch value.storage {
        case .null: return nil
        case .string(let text): return text
        case .blob(let data): return try reference(bytes: data)
        case .int64(let number): return String(number)
        case .double(let number): return String(number)
        }
    }

    static func encodeHash(_ hex: String) -> DatabaseValue {
        hashBytes(hex)?.databaseValue ?? hex.databaseValue
    }

    static func decodeHash(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .blob(let data): return data.hexString
        case .string(let text): return text
        default: return ""
        }
    }

    static func encodeDetail(_ detail: [String: String], _ vocabulary: inout AuditVocabulary, _ db: Database) throws -> DatabaseValue {
        try encodeDetail(detail, keys: detail.keys.sorted(), &vocabulary, db)
    }

    static func encodeDetail(_ detail: [String: String], keys: [String], _ vocabulary: inout AuditVocabulary, _ db: Database) throws -> DatabaseValue {
        try detailBytes(detail, keys: keys) { try vocabulary.id($0, db) }.databaseValue
    }

    /// The detail, and whether its stored form is the one Lethe writes (false: text that is not the
    /// canonical JSON of what it says — an edited entry).
    static func decodeDetail(_ value: DatabaseValue, _ vocabulary: AuditVocabulary) throws -> (detail: [String: String], canonical: Bool) {
        switch value.storage {
        case .string(let text): return detail(text: text)
        case .blob(let data): return (try decodeDetail(bytes: [UInt8](data), vocabulary), true)
        default: throw unreadable("has an unreadable detail")
        }
    }
}
