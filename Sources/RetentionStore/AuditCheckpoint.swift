package import Crypto
public import Foundation

/// A signed statement of the audit chain's head: "entry `seq` has hash `hash`", signed with the
/// installation's Ed25519 key. Kept outside the state (a file, syslog, a ticket), it proves that the
/// chain up to `seq` was neither truncated nor rewritten since: the hash of entry `seq` covers every
/// entry before it, and an attacker who holds the database cannot sign a new statement for another
/// installation's public key. Holds no personal data.
public struct AuditCheckpoint: Sendable, Equatable, Codable {
    /// The number of entries covered (the head's sequence number when signed; 0 for an empty log).
    public var seq: Int64
    /// The hash of entry `seq` (the genesis hash for an empty log).
    public var hash: String
    /// When it was signed, ISO 8601 in UTC.
    public var at: String
    /// The signing key's id (`AuditPublicKey.id`).
    public var key: String
    /// Base64 Ed25519 signature over `signedText`.
    public var signature: String

    public init(seq: Int64, hash: String, at: String, key: String, signature: String) {
        self.seq = seq
        self.hash = hash
        self.at = at
        self.key = key
        self.signature = signature
    }

    /// The exact text the signature covers.
    public var signedText: String {
        "lethe-audit-checkpoint v1\nseq \(seq)\nhash \(hash)\nat \(at)"
    }

    /// Whether `signature` is a valid signature of `signedText` by `publicKey`.
    public func isSigned(by publicKey: AuditPublicKey) -> Bool {
        guard let signature = Data(base64Encoded: signature),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey.raw)
        else { return false }
        return key.isValidSignature(signature, for: Data(signedText.utf8))
    }

    /// The checkpoint as one JSON line (keys in a fixed order), as printed and written to files.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// The checkpoints in a text: one JSON object per non-empty line, each a checkpoint or an object
    /// holding one under `checkpoint` (a `lethe sync --json` report). Throws on any other line.
    public static func parse(_ text: String) throws -> [AuditCheckpoint] {
        struct Wrapped: Decodable { var checkpoint: AuditCheckpoint }
        let decoder = JSONDecoder()
        var found: [AuditCheckpoint] = []
        for (index, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let data = Data(line.utf8)
            if line.allSatisfy(\.isWhitespace) { continue }
            if let checkpoint = try? decoder.decode(AuditCheckpoint.self, from: data) {
                found.append(checkpoint)
            } else if let wrapped = try? decoder.decode(Wrapped.self, from: data) {
                found.append(wrapped.checkpoint)
            } else {
                throw StoreError(code: "audit.checkpoint_unreadable", message: "line \(index + 1) is not an audit checkpoint")
            }
        }
        guard !found.isEmpty else {
            throw StoreError(code: "audit.checkpoint_unreadable", message: "no audit checkpoint found")
        }
        return found
    }

    /// Signs the head (`seq`, `hash`) at `date`.
    package static func sign(seq: Int64, hash: String, at date: Date, with privateKey: Curve25519.Signing.PrivateKey) throws -> AuditCheckpoint {
        var checkpoint = AuditCheckpoint(
            seq: seq, hash: hash, at: AuditTimestamp.iso8601(date), key: AuditPublicKey(privateKey.publicKey).id, signature: "")
        checkpoint.signature = try privateKey.signature(for: Data(checkpoint.signedText.utf8)).base64EncodedString()
        return checkpoint
    }

    /// The detail of the audit entry that records the checkpoint in the chain (it follows entry `seq`).
    package var detail: [String: String] {
        ["seq": String(seq), "hash": hash, "at": at, "key": key, "signature": signature]
    }

    /// The checkpoint an `audit.checkpoint` entry records; nil when its detail is incomplete.
    package init?(detail: [String: String]) {
        guard let seqText = detail["seq"], let seq = Int64(seqText), let hash = detail["hash"], let at = detail["at"],
            let key = detail["key"], let signature = detail["signature"]
        else { return nil }
        self.init(seq: seq, hash: hash, at: at, key: key, signature: signature)
    }

    /// The event name of the audit entries that record checkpoints.
    public static let event = "audit.checkpoint"
}

/// The public half of an installation's audit signing key.
public struct AuditPublicKey: Sendable, Equatable {
    /// The raw 32-byte Ed25519 public key.
    public var raw: Data

    /// Reads a base64 raw key; nil unless it decodes to 32 bytes.
    public init?(base64: String) {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else { return nil }
        self.raw = raw
    }

    package init(_ key: Curve25519.Signing.PublicKey) {
        raw = key.rawRepresentation
    }

    public var base64: String { raw.base64EncodedString() }

    /// The first 16 hex digits of the SHA-256 of the raw key: short enough to compare by eye.
    public var id: String { String(SHA256.hash(data: raw).hexString.prefix(16)) }
}

/// The outcome of checking the audit chain against a checkpoint kept outside the state.
public struct AuditCheckpointVerification: Sendable, Equatable {
    /// The chain itself (every link, and the head kept beside it).
    public var chain: AuditVerification
    /// The checkpoint checked (the first that failed, or the last of several).
    public var checkpoint: AuditCheckpoint
    /// Why the checkpoint does not hold; nil when it does.
    public var problem: String?

    /// Both the chain and the checkpoint hold.
    public var ok: Bool { chain.ok && problem == nil }
}

extension AuditStore {
    /// Verifies the chain and that it still holds what each checkpoint signed: the signature verifies
    /// with `publicKey` (the installation's own key when nil: an attacker who replaced the state's key
    /// could pass that, so pass the key exported earlier when it matters), and entry `seq` exists with
    /// the checkpoint's hash (so no entry up to it was edited, removed or rebuilt).
    public func verifyAudit(
        against checkpoints: [AuditCheckpoint], publicKey: AuditPublicKey? = nil
    ) async throws -> AuditCheckpointVerification {
        precondition(!checkpoints.isEmpty, "at least one checkpoint")
        let chain = try await verifyAudit()
        let key: AuditPublicKey
        if let publicKey { key = publicKey } else { key = try await auditPublicKey() }
        for checkpoint in checkpoints {
            if let problem = try await problem(with: checkpoint, key: key, chain: chain) {
                return AuditCheckpointVerification(chain: chain, checkpoint: checkpoint, problem: problem)
            }
        }
        return AuditCheckpointVerification(chain: chain, checkpoint: checkpoints[checkpoints.count - 1], problem: nil)
    }

    private func problem(with checkpoint: AuditCheckpoint, key: AuditPublicKey, chain: AuditVerification) async throws -> String? {
        guard checkpoint.key == key.id else {
            return "the checkpoint of entry \(checkpoint.seq) was signed by key \(checkpoint.key), not by key \(key.id)"
        }
        guard checkpoint.isSigned(by: key) else {
            return "the signature of the checkpoint of entry \(checkpoint.seq) does not verify with key \(key.id)"
        }
        guard checkpoint.seq > 0 else {
            return checkpoint.hash == AuditChain.genesis ? nil : "the checkpoint of an empty log has a hash other than the genesis"
        }
        guard let entry = try await auditEntries(after: checkpoint.seq - 1, limit: 1).first, entry.seq == checkpoint.seq else {
            return "the log has no entry \(checkpoint.seq) (it has \(chain.entries)): entries were removed since the checkpoint"
        }
        guard entry.hash == checkpoint.hash else {
            return "entry \(checkpoint.seq) does not have the hash the checkpoint signed: the log was rewritten since the checkpoint"
        }
        return nil
    }
}
