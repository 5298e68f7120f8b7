/// Header line rules shared by every header MailComposer writes (RFC 5322 §2.1.1, §2.2.3).
enum HeaderText {
    /// Lines are folded to this length where the text allows it.
    static let preferredLength = 78
    /// No line may ever be longer than this (excluding CRLF).
    static let maximumLength = 998

    /// `atext` of RFC 5322: the characters an atom may hold without quoting.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~": true
        default: false
        }
    }

    /// A valid field name: printable ASCII without `:` (RFC 5322 §3.6.8).
    static func isFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.value >= 33 && $0.value <= 126 && $0 != ":" }
    }

    /// Replaces every control character (CR and LF included, so no header can be injected) and
    /// every Unicode line separator with a space, and trims the ends.
    static func sanitize(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let isBreak =
                scalar.properties.generalCategory == .control
                || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{85}"
            result.append(isBreak ? " " : scalar)
        }
        return String(result).trimmingASCIIWhitespace()
    }

    /// Whether the text can go into a header as it is: printable ASCII that does not look like an
    /// encoded-word.
    static func isPlainASCII(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value >= 32 && $0.value <= 126 } && !text.contains("=?")
    }

    /// Folds sanitised ASCII text by inserting CRLF before runs of spaces, greedily, so that lines
    /// stay within `preferredLength` where a word boundary allows it. `prefixLength` counts the
    /// `Name: ` already on the first line. Unfolding the result gives back the text exactly.
    static func fold(_ text: String, prefixLength: Int) -> [String] {
        var tokens: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        var seenWord = false
        while index < text.endIndex {
            if text[index] == " ", seenWord, index > start, text[text.index(before: index)] != " " {
                tokens.append(text[start..<index])
                start = index
            }
            if text[index] != " " { seenWord = true }
            index = text.index(after: index)
        }
        if start < text.endIndex { tokens.append(text[start...]) }

        var lines: [String] = []
        var current = ""
        var currentLength = prefixLength
        for token in tokens {
            if !current.isEmpty, currentLength + token.count > preferredLength {
                lines.append(current)
                current = ""
                currentLength = 0
            }
            current += token
            currentLength += token.count
        }
        lines.append(current)
        return lines
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return String(scalars[first...last])
    }
}
