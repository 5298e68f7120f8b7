import Crypto
public import Foundation

/// Comparisons whose running time does not depend on where two values first differ.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes. Every byte of the longer input is read whatever the contents;
    /// only the lengths (never secret here: digests have fixed lengths) influence the time taken.
    public static func isEqual(_ a: some DataProtocol, _ b: some DataProtocol) -> Bool {
        let left = Array(a)
        let right = Array(b)
        var difference: UInt8 = left.count == right.count ? 0 : 1
        let count = max(left.count, right.count)
        for index in 0..<count {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }

    /// Whether two secrets are equal, without revealing their lengths: both are hashed with SHA-256 and the
    /// digests compared in constant time.
    public static func isEqualSecret(_ a: String, _ b: String) -> Bool {
        isEqual(Data(SHA256.hash(data: Data(a.utf8))), Data(SHA256.hash(data: Data(b.utf8))))
    }
}
