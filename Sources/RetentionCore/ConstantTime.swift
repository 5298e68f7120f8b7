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
}

/// Lower- or upper-case hexadecimal.
public enum Hex {
    /// The bytes of an even number of hexadecimal digits; nil for anything else.
    public static func decode(_ text: some StringProtocol) -> Data? {
        let bytes = Array(text.utf8)
        guard bytes.count.isMultiple(of: 2) else { return nil }
        var data = Data(capacity: bytes.count / 2)
        var index = 0
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
            data.append(high << 4 | low)
            index += 2
        }
        return data
    }

    /// Lower-case hexadecimal.
    public static func encode(_ data: some Sequence<UInt8>) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
