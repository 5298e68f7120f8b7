import Crypto
import Foundation

/// The archive's keys: the current one, which seals every new line, and previous ones, which only
/// open lines sealed before a rotation. Each key is known by its id, the first 8 hex digits of the
/// SHA-256 of its bytes, written in every line it seals (the id reveals nothing usable about the key).
struct ArchiveKeyring: Sendable {
    struct Key: Sendable, Equatable {
        /// The raw AES-256 key (kept as bytes: `SymmetricKey` is not `Sendable`).
        let bytes: [UInt8]
        let id: String

        init(bytes: [UInt8]) {
            self.bytes = bytes
            id = String(ArchiveManifest.hexDigest(bytes).prefix(8))
        }

        var symmetric: SymmetricKey { SymmetricKey(data: bytes) }
    }

    /// Seals new lines; nil for an archive written in plain JSON Lines (`encrypt: false`).
    let current: Key?
    /// Open older lines only; never used to seal.
    let previous: [Key]

    init(current: [UInt8]?, previous: [[UInt8]] = []) {
        let current = current.map(Key.init(bytes:))
        self.current = current
        var seen = Set(current.map { [$0.id] } ?? [])
        self.previous = previous.map(Key.init(bytes:)).filter { seen.insert($0.id).inserted }
    }

    static let none = ArchiveKeyring(current: nil)

    var isEncrypted: Bool { current != nil }
    /// Every key, the current one first.
    var all: [Key] { (current.map { [$0] } ?? []) + previous }
    var isEmpty: Bool { all.isEmpty }

    func key(id: String) -> Key? { all.first { $0.id == id } }

    /// Parses a key: base64 of exactly 32 bytes (surrounding whitespace ignored). Nil when invalid.
    static func keyBytes(base64 text: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else {
            return nil
        }
        return Array(data)
    }
}
