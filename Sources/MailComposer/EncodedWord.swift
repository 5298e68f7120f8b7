import Foundation

/// RFC 2047 encoded-words (`=?UTF-8?B?...?=`) for header text that is not plain ASCII.
public enum EncodedWord {
    /// The longest encoded-word RFC 2047 allows.
    public static let maximumLength = 75
    private static let prefix = "=?UTF-8?B?"
    private static let suffix = "?="

    /// Encodes `text` as UTF-8 base64 encoded-words of at most 75 characters each. The first word
    /// fits in `firstLineBudget` characters where possible (the rest of a header's first line);
    /// the others fit on a continuation line after one space. A word never ends in the middle of a
    /// UTF-8 character, so each word decodes to valid text on its own.
    public static func encode(_ text: String, firstLineBudget: Int = maximumLength) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        var limit = byteCapacity(wordLength: min(maximumLength, firstLineBudget))
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if !chunk.isEmpty, chunk.count + bytes.count > limit {
                words.append(word(chunk))
                chunk = []
                limit = byteCapacity(wordLength: maximumLength)
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    /// Decodes the encoded-words in a header value (B and Q encodings, UTF-8 and US-ASCII);
    /// whitespace between two adjacent encoded-words is dropped, as RFC 2047 §6.2 requires. Text
    /// that is not an encoded-word is kept as it is. Nil when a word is malformed.
    public static func decode(_ value: String) -> String? {
        var result = ""
        var pendingSpace = ""
        var previousWasEncoded = false
        var rest = Substring(value)
        while !rest.isEmpty {
            let space = rest.prefix { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
            rest = rest.dropFirst(space.count)
            pendingSpace = String(space).replacingOccurrences(of: "\r\n", with: "")
            let token = rest.prefix { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" }
            rest = rest.dropFirst(token.count)
            if token.hasPrefix("=?"), token.hasSuffix("?="), token.count >= 8 {
                guard let decoded = decodeWord(token) else { return nil }
                if !previousWasEncoded { result += pendingSpace }
                result += decoded
                previousWasEncoded = true
            } else {
                result += pendingSpace + token
                previousWasEncoded = false
            }
        }
        return result
    }

    private static func byteCapacity(wordLength: Int) -> Int {
        let base64Length = max(wordLength - prefix.count - suffix.count, 8)
        return base64Length / 4 * 3
    }

    private static func word(_ bytes: [UInt8]) -> String {
        prefix + Data(bytes).base64EncodedString() + suffix
    }

    private static func decodeWord(_ token: Substring) -> String? {
        let parts = token.dropFirst(2).dropLast(2).split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let charset = parts[0].split(separator: "*").first.map { $0.lowercased() } ?? ""
        guard charset == "utf-8" || charset == "us-ascii" else { return nil }
        let bytes: [UInt8]?
        switch parts[1].uppercased() {
        case "B": bytes = Data(base64Encoded: String(parts[2])).map { Array($0) }
        case "Q": bytes = decodeQ(parts[2])
        default: bytes = nil
        }
        guard let bytes else { return nil }
        return String(bytes: bytes, encoding: .utf8)
    }

    private static func decodeQ(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "="):
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return bytes
    }
}
