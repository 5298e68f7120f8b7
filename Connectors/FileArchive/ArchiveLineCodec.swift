import Crypto
import Foundation
import RetentionCore

/// One archive line: the entry as compact JSON with sorted keys and ISO 8601 dates; with a key,
/// base64 of the AES-256-GCM sealed box (nonce + ciphertext + tag) of that JSON instead.
struct ArchiveLineCodec: Sendable {
    /// The raw AES-256 key (kept as bytes: `SymmetricKey` is not `Sendable`), nil when unencrypted.
    let keyBytes: [UInt8]?

    var isEncrypted: Bool { keyBytes != nil }
    private var key: SymmetricKey? { keyBytes.map { SymmetricKey(data: $0) } }

    init(keyBytes: [UInt8]?) {
        self.keyBytes = keyBytes
    }

    /// Parses a key: base64 of exactly 32 bytes (surrounding whitespace ignored). Nil when invalid.
    static func keyBytes(base64 text: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else {
            return nil
        }
        return Array(data)
    }

    /// The line for `entry`, without the newline.
    func encode(_ entry: ArchiveEntry) throws(FileArchiveError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Self.dateStyle))
        }
        let json: Data
        do {
            json = try encoder.encode(entry)
        } catch {
            throw FileArchiveError(code: "archive.encode", message: "an entry cannot be encoded", isTransient: false)
        }
        guard let key else { return Array(json) }
        do {
            guard let combined = try AES.GCM.seal(json, using: key).combined else {
                throw FileArchiveError(
                    code: "archive.encrypt", message: "an entry cannot be encrypted", isTransient: false)
            }
            return Array(combined.base64EncodedString().utf8)
        } catch let error as FileArchiveError {
            throw error
        } catch {
            throw FileArchiveError(code: "archive.encrypt", message: "an entry cannot be encrypted", isTransient: false)
        }
    }

    /// Reads one line of `file` (named in errors with `lineNumber`); `encrypted` says whether the
    /// file is an `.enc` file.
    func decode(_ line: ArraySlice<UInt8>, encrypted: Bool, file: String, lineNumber: Int) throws(FileArchiveError)
        -> ArchiveEntry
    {
        var json = Data(line)
        if encrypted {
            guard let key else { throw .keyRequired(file) }
            guard let combined = Data(base64Encoded: json) else { throw .unreadable(file, line: lineNumber) }
            do {
                json = try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key)
            } catch {
                throw .cannotDecrypt(file, line: lineNumber)
            }
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? Self.dateStyle.parse(text) { return date }
            return try Date.ISO8601FormatStyle().parse(text)
        }
        do {
            return try decoder.decode(ArchiveEntry.self, from: json)
        } catch {
            throw .unreadable(file, line: lineNumber)
        }
    }

    private static let dateStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
