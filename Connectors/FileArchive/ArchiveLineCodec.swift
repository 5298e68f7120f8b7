import Crypto
import Foundation
import RetentionCore

/// One archive line.
///
/// - Plain (`.jsonl`): the entry as compact JSON with sorted keys and ISO 8601 dates.
/// - Sealed (`.jsonl.enc`): `{"box":"<base64>","kid":"<key id>","op":"<operation id>"}`, where `box` is
///   the AES-256-GCM sealed box (12-byte nonce, ciphertext, 16-byte tag) of the plain line, sealed
///   with the key `kid` and with `<connector> 0x1F <operation id>` as associated data: a line moved to
///   another connector's folder or given another operation id fails authentication.
/// - Legacy sealed: the base64 of the sealed box alone, without a key id or associated data (written
///   by earlier versions). Still read, by trying every configured key; `lethe archive rekey` rewrites it.
struct ArchiveLineCodec: Sendable {
    /// How a line was stored.
    enum Sealing: Equatable {
        case plain
        case legacy(keyID: String)
        case sealed(keyID: String)
    }

    struct Decoded {
        var entry: ArchiveEntry
        var sealing: Sealing
    }

    private struct SealedLine: Codable {
        var box: String
        var kid: String
        var op: String
    }

    let keyring: ArchiveKeyring

    var isEncrypted: Bool { keyring.isEncrypted }

    init(keyring: ArchiveKeyring) {
        self.keyring = keyring
    }

    /// The associated data binding a sealed line to its connector and operation.
    static func associatedData(connector: String, operationID: String) -> Data {
        Data("\(connector)\u{1F}\(operationID)".utf8)
    }

    /// The line for `entry` (without the newline): sealed under the current key when there is one.
    func encode(_ entry: ArchiveEntry) throws(FileArchiveError) -> [UInt8] {
        let json = try Self.plainJSON(entry)
        guard let key = keyring.current else { return Array(json) }
        do {
            let box = try AES.GCM.seal(
                json, using: key.symmetric,
                authenticating: Self.associatedData(connector: entry.connector, operationID: entry.operationID))
            guard let combined = box.combined else { throw Self.encryptFailed }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(
                try encoder.encode(
                    SealedLine(box: combined.base64EncodedString(), kid: key.id, op: entry.operationID)))
        } catch {
            throw Self.encryptFailed
        }
    }

    /// Reads one line of `file` (named in errors with `lineNumber`), a file of `connector`;
    /// `encrypted` says whether the file is an `.enc` file.
    func decode(
        _ line: ArraySlice<UInt8>, encrypted: Bool, connector: String, file: String, lineNumber: Int
    ) throws(FileArchiveError) -> Decoded {
        guard encrypted else { return Decoded(entry: try Self.entry(Data(line), file, lineNumber), sealing: .plain) }
        guard !keyring.isEmpty else { throw .keyRequired(file) }
        if line.first == UInt8(ascii: "{") {
            guard let sealed = try? JSONDecoder().decode(SealedLine.self, from: Data(line)),
                let combined = Data(base64Encoded: sealed.box), let box = try? AES.GCM.SealedBox(combined: combined)
            else { throw .unreadable(file, line: lineNumber) }
            guard let key = keyring.key(id: sealed.kid) else {
                throw .unknownKey(file, line: lineNumber, keyID: sealed.kid)
            }
            let json: Data
            do {
                json = try AES.GCM.open(
                    box, using: key.symmetric,
                    authenticating: Self.associatedData(connector: connector, operationID: sealed.op))
            } catch {
                throw .notAuthentic(file, line: lineNumber)
            }
            let entry = try Self.entry(json, file, lineNumber)
            guard entry.operationID == sealed.op, entry.connector == connector else {
                throw .notAuthentic(file, line: lineNumber)
            }
            return Decoded(entry: entry, sealing: .sealed(keyID: key.id))
        }
        guard let combined = Data(base64Encoded: Data(line)), let box = try? AES.GCM.SealedBox(combined: combined)
        else { throw .unreadable(file, line: lineNumber) }
        for key in keyring.all {
            if let json = try? AES.GCM.open(box, using: key.symmetric) {
                return Decoded(entry: try Self.entry(json, file, lineNumber), sealing: .legacy(keyID: key.id))
            }
        }
        throw .cannotDecrypt(file, line: lineNumber)
    }

    private static func plainJSON(_ entry: ArchiveEntry) throws(FileArchiveError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            // The style truncates to the millisecond; half a millisecond more makes it round.
            try container.encode(date.addingTimeInterval(0.0005).formatted(Self.dateStyle))
        }
        do {
            return try encoder.encode(entry)
        } catch {
            throw FileArchiveError(code: "archive.encode", message: "an entry cannot be encoded", isTransient: false)
        }
    }

    private static func entry(_ json: Data, _ file: String, _ lineNumber: Int) throws(FileArchiveError) -> ArchiveEntry
    {
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

    private static let encryptFailed = FileArchiveError(
        code: "archive.encrypt", message: "an entry cannot be encrypted", isTransient: false)

    private static let dateStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
