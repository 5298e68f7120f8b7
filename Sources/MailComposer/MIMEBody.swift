import Foundation

/// Body encoding helpers: canonical line breaks, base64 in 76-character lines, and a boundary
/// that is derived from the operation id and cannot occur in base64 text.
enum MIMEBody {
    /// Text with every line break (CRLF, CR or LF) written as CRLF: the canonical form of `text/*`
    /// (RFC 2046 §4.1.1).
    static func canonicalUTF8(_ text: String) -> [UInt8] {
        let source = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            switch source[index] {
            case 0x0D:
                bytes += [0x0D, 0x0A]
                if index + 1 < source.count, source[index + 1] == 0x0A { index += 1 }
            case 0x0A: bytes += [0x0D, 0x0A]
            case let byte: bytes.append(byte)
            }
            index += 1
        }
        return bytes
    }

    /// Base64 of `bytes` in lines of at most 76 characters, each ended by CRLF.
    static func base64Lines(_ bytes: [UInt8]) -> String {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        var text = ""
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            text += String(decoding: encoded[start..<end], as: UTF8.self) + "\r\n"
            start = end
        }
        return text
    }

    /// `=_lethe_` and 32 hex digits from two FNV-1a hashes of the operation id. Base64 and
    /// quoted-printable text never contain `=_`, so the boundary never occurs in a part.
    static func boundary(for operationID: String) -> String {
        "=_lethe_" + hex(fnv1a(operationID, basis: 0xcbf2_9ce4_8422_2325))
            + hex(fnv1a(operationID, basis: 0x8422_2325_cbf2_9ce4))
    }

    private static func fnv1a(_ text: String, basis: UInt64) -> UInt64 {
        var hash = basis
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
