import Crypto
public import Foundation

/// Someone who may use the daemon's admin surface: the `operators:` of the config, and `admin`, the
/// holder of `LETHE_ADMIN_TOKEN`. Only the SHA-256 digest of the token is kept.
public struct HubOperator: Sendable, Equatable {
    /// The name the audit log and the destruction register show.
    public var name: String
    /// SHA-256 of the operator's token (32 bytes).
    public var tokenDigest: [UInt8]

    public init(name: String, tokenDigest: [UInt8]) {
        self.name = name
        self.tokenDigest = tokenDigest
    }

    /// An operator known by its token (hashed here; the token is not kept).
    public init(name: String, token: String) {
        self.init(name: name, tokenDigest: Array(SHA256.hash(data: Data(token.utf8))))
    }

    /// The name of the holder of `LETHE_ADMIN_TOKEN`.
    public static let adminName = "admin"
}
