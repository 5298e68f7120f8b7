public import RetentionCore
import Foundation

/// A named operator (`operators:` in the main config): who signs in to the daemon, approves batches
/// and is named in the audit log. Lethe keeps only the SHA-256 digest of the operator's token
/// (`tokenHash: sha256:<64 hex digits>`, made with `printf %s "$TOKEN" | sha256sum`); the token
/// itself is never written anywhere.
public struct OperatorConfiguration: Sendable, Equatable {
    /// Shown in the audit log and the destruction register. Not contact data: a role or a login
    /// name such as `dpo` or `kim.privacy`.
    public var name: String
    /// SHA-256 of the operator's token (32 bytes).
    public var tokenDigest: [UInt8]
    public var location: SourceLocation?

    public init(name: String, tokenDigest: [UInt8], location: SourceLocation? = nil) {
        self.name = name
        self.tokenDigest = tokenDigest
        self.location = location
    }

    /// The name the holder of `LETHE_ADMIN_TOKEN` goes by; no configured operator may take it.
    public static let adminName = "admin"

    /// The 32 bytes of `sha256:<64 hex digits>`, or nil when `text` is not of that form.
    public static func digest(parsing text: String) -> [UInt8]? {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = text.dropFirst(7)
        guard hex.utf8.count == 64, let bytes = Hex.decode(hex) else { return nil }
        return Array(bytes)
    }
}
