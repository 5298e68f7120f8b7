import Crypto
import Foundation
public import RetentionCore

extension ConstantTime {
    /// Whether two secrets are equal, without revealing their lengths: both are hashed with SHA-256 and the
    /// digests compared in constant time.
    public static func isEqualSecret(_ a: String, _ b: String) -> Bool {
        isEqual(Data(SHA256.hash(data: Data(a.utf8))), Data(SHA256.hash(data: Data(b.utf8))))
    }
}
