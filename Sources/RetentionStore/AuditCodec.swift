package import Foundation
package import RetentionCore

/// The words audit entries repeat — event names, connectors, rules, detail keys and the values of
/// keys with few values (a rule's legal basis, a method, an operator) — stored once in `audit_words`
/// (append-only like the log) and named by number in each entry. Each store loads and extends it in
/// its own way (`AuditVocabulary+SQLite`, the PostgreSQL store).
package struct AuditVocabulary {
    private var ids: [String: Int64] = [:]
    private var words: [Int64: String] = [:]

    package init() {}

    /// Adds a stored word and its number.
    package mutating func add(id: Int64, word: String) {
        ids[word] = id
        words[id] = word
    }

    /// The number of `word`, if it is stored.
    package func id(of word: String) -> Int64? { ids[word] }

    package func word(_ id: Int64) -> String? { words[id] }
}

/// How an audit entry is stored, losing nothing: its hash covers the same canonical text as ever
/// (`AuditChain`), and reading an entry gives back exactly the draft that was appended.
///
/// - `event`, `connector` and `rule` are word numbers;
/// - `ref` and `operation` (`r-…`, `op-…`: a prefix and lowercase hex) are the prefix's number and the
///   hex's bytes;
/// - `detail` is a count and, by key, a word number for the key and a tagged value: a word number
///   (keys with few values), whole seconds (timestamps as `AuditTimestamp` writes them) or UTF-8 text;
/// - `hash` is the 32 bytes of the SHA-256; the previous hash is the previous entry's.
///
/// Any column may also hold plain text (the JSON of `detail`, the hex of `hash`): an entry whose value
/// cannot be encoded is stored as text, and is read and verified the same way.
package enum AuditCodec {
    /// Detail keys whose values repeat across entries (the rest are stored as they are).
    static let vocabularyKeys: Set<String> = [
        "kind", "fields", "legalBasis", "method", "operator", "policy", "rules", "deleteMode", "deleteMethod",
        "reason", "status", "code", "via", "action", "purpose",
    ]

    static let referencePrefixes = ["r-", "op-", "e-"]

    private static let formatVersion: UInt8 = 1
    private enum Tag: UInt8 { case text = 0, word = 1, seconds = 2 }

    // MARK: Columns

    /// The bytes of a reference (`r-…`, `op-…`, `e-…`: the prefix's number, then the hex's bytes);
    /// nil when it is not of that form (it is then stored as text).
    package static func referenceBytes(_ value: String) -> Data? {
        for (index, prefix) in referencePrefixes.enumerated() where value.hasPrefix(prefix) {
            if let bytes = hexBytes(value.utf8.dropFirst(prefix.utf8.count)) {
                return Data([UInt8(index)] + bytes)
            }
        }
        return nil
    }

    /// The reference `referenceBytes` encoded.
    package static func reference(bytes data: Data) throws -> String {
        guard let first = data.first, Int(first) < referencePrefixes.count else { throw unreadable("has an unreadable reference") }
        return referencePrefixes[Int(first)] + data.dropFirst().hexString
    }

    /// The 32 bytes of a SHA-256 in hex; nil for anything else (stored as text).
    package static func hashBytes(_ hex: String) -> Data? {
        guard hex.utf8.count == 64, let bytes = hexBytes(hex.utf8[...]) else { return nil }
        return Data(bytes)
    }

    /// Every word `draft` is stored with (its event, connector, rule, detail keys and the values of
    /// `vocabularyKeys`), in the order encoding meets them: a store adds the new ones before encoding.
    package static func words(of draft: AuditDraft) -> [String] {
        var words = [draft.event]
        if let connector = draft.connector { words.append(connector) }
        if let rule = draft.rule { words.append(rule) }
        for key in draft.detail.keys.sorted() {
            words.append(key)
            if vocabularyKeys.contains(key) { words.append(draft.detail[key] ?? "") }
        }
        return words
    }

    // MARK: Detail

    /// The detail's bytes: a format byte, a count and, by key, the key's word number and a tagged value.
    /// `wordID` gives (or adds) a word's number.
    package static func detailBytes(_ detail: [String: String], wordID: (String) throws -> Int64) rethrows -> Data {
        try detailBytes(detail, keys: detail.keys.sorted(), wordID: wordID)
    }

    /// The same, with the detail's keys already sorted.
    package static func detailBytes(_ detail: [String: String], keys: [String], wordID: (String) throws -> Int64) rethrows -> Data {
        var bytes: [UInt8] = [formatVersion]
        bytes.reserveCapacity(64)
        appendVarint(UInt64(detail.count), to: &bytes)
        for key in keys {
            let value = detail[key] ?? ""
            appendVarint(UInt64(try wordID(key)), to: &bytes)
            if vocabularyKeys.contains(key) {
                bytes.append(Tag.word.rawValue)
                appendVarint(UInt64(try wordID(value)), to: &bytes)
            } else if let seconds = timestampSeconds(value) {
                bytes.append(Tag.seconds.rawValue)
                appendVarint(UInt64(bitPattern: (seconds << 1) ^ (seconds >> 63)), to: &bytes)
            } else {
                bytes.append(Tag.text.rawValue)
                appendVarint(UInt64(value.utf8.count), to: &bytes)
                bytes.append(contentsOf: value.utf8)
            }
        }
        return Data(bytes)
    }

    /// The detail stored as text (not what Lethe writes: an edited entry, or one an earlier version
    /// kept), and whether the text is the canonical JSON of what it says.
    package static func detail(text: String) -> (detail: [String: String], canonical: Bool) {
        guard let detail = try? StoreCoding.decoder.decode([String: String].self, from: Data(text.utf8)) else {
            return (["_unreadable": text], false)
        }
        return (detail, AuditChain.detailJSON(detail) == text)
    }

    package static func decodeDetail(bytes: [UInt8], _ vocabulary: AuditVocabulary) throws -> [String: String] {
        var reader = ByteReader(bytes: bytes)
        guard try reader.byte() == formatVersion else { throw unreadable("has a detail of an unknown format") }
        let count = try reader.varint()
        guard count <= UInt64(bytes.count) else { throw unreadable("has an unreadable detail") }
        var detail: [String: String] = [:]
        for _ in 0..<count {
            guard let key = vocabulary.word(Int64(bitPattern: try reader.varint())) else { throw unreadable("names an unknown word") }
            switch Tag(rawValue: try reader.byte()) {
            case .word:
                guard let word = vocabulary.word(Int64(bitPattern: try reader.varint())) else { throw unreadable("names an unknown word") }
                detail[key] = word
            case .seconds:
                let zigzag = try reader.varint()
                let seconds = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
                detail[key] = AuditTimestamp.iso8601(Date(timeIntervalSince1970: Double(seconds)))
            case .text:
                detail[key] = String(decoding: try reader.bytes(Int(try reader.varint())), as: UTF8.self)
            case nil:
                throw unreadable("has an unreadable detail")
            }
        }
        return detail
    }

    /// Whole seconds of a timestamp written exactly as `AuditTimestamp` writes them
    /// (`2026-11-29T00:00:00Z`), so that decoding gives back the same text; nil for anything else.
    static func timestampSeconds(_ text: String) -> Int64? {
        guard text.utf8.count == 20 else { return nil }
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        let days = DateParser.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        // Only what reads back as the same text (a day past its month's end does not).
        guard AuditTimestamp.iso8601(Date(timeIntervalSince1970: Double(seconds))) == text else { return nil }
        return seconds
    }

    // MARK: Bytes

    private static func hexBytes(_ text: Substring.UTF8View) -> [UInt8]? {
        guard !text.isEmpty, text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var high: UInt8?
        for character in text {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw AuditCodec.unreadable("has a truncated detail") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try byte()
                guard shift < 64 else { throw AuditCodec.unreadable("has an unreadable detail") }
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }

        mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, count <= bytes.count - offset else { throw AuditCodec.unreadable("has a truncated detail") }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
    }

    static func unreadable(_ problem: String) -> StoreError {
        StoreError(code: "audit.unreadable", message: "an audit entry \(problem)")
    }
}
