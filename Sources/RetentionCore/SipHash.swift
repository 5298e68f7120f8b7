/// SipHash-2-4 (Aumasson and Bernstein): a fast keyed 64-bit pseudorandom function.
///
/// Lethe uses it, under a per-installation secret key, where a keyed digest must be cheap enough to
/// compute for every row of every sync: the record key of a source id and the change digest of a
/// source row. Without the key neither can be recomputed from a guessed id or row, so neither
/// reveals personal data.
public struct SipHasher: Sendable, Equatable {
    public let k0: UInt64
    public let k1: UInt64

    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// The key taken from the first 16 bytes of `secret` (little-endian), padded with zeros.
    public init(secret: some Collection<UInt8>) {
        var bytes = Array(secret.prefix(16))
        while bytes.count < 16 { bytes.append(0) }
        var a: UInt64 = 0
        var b: UInt64 = 0
        for index in 0..<8 {
            a |= UInt64(bytes[index]) << (8 * index)
            b |= UInt64(bytes[8 + index]) << (8 * index)
        }
        self.init(k0: a, k1: b)
    }

    /// A key derived from this one for another use: the same bytes never hash alike under both.
    public func derived(_ tweak: UInt64) -> SipHasher {
        SipHasher(k0: k0 ^ tweak, k1: k1 &+ hash(tweak))
    }

    /// The hash of one 64-bit value.
    public func hash(_ value: UInt64) -> UInt64 {
        withUnsafeBytes(of: value.littleEndian) { hash(UnsafeRawBufferPointer($0)) }
    }

    public func hash(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    public func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// SipHash-2-4 of `bytes`.
    public func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
        @inline(__always) func round() {
            v0 = v0 &+ v1; v1 = (v1 << 13) | (v1 >> 51); v1 ^= v0; v0 = (v0 << 32) | (v0 >> 32)
            v2 = v2 &+ v3; v3 = (v3 << 16) | (v3 >> 48); v3 ^= v2
            v0 = v0 &+ v3; v3 = (v3 << 21) | (v3 >> 43); v3 ^= v0
            v2 = v2 &+ v1; v1 = (v1 << 17) | (v1 >> 47); v1 ^= v2; v2 = (v2 << 32) | (v2 >> 32)
        }
        let count = bytes.count
        let whole = count & ~7
        var offset = 0
        while offset < whole {
            let m = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            v3 ^= m
            round()
            round()
            v0 ^= m
            offset += 8
        }
        var last = UInt64(truncatingIfNeeded: count) << 56
        var shift: UInt64 = 0
        while offset < count {
            last |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        v3 ^= last
        round()
        round()
        v0 ^= last
        v2 ^= 0xff
        round()
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }
}
