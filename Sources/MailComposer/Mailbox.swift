import Foundation

/// A display name and an address, as written in `From` and `To`.
///
/// The address is checked strictly (printable ASCII, one `@`, RFC 5322 atoms in the local part, a
/// dotted host name) because it is written into headers verbatim and never encoded. The display
/// name may be any text: it is cleaned of control characters and RFC 2047-encoded when needed.
struct Mailbox: Sendable, Equatable {
    var displayName: String?
    var address: String

    /// The part of the address after `@`.
    var domain: String { String(address[address.index(after: address.firstIndex(of: "@")!)...]) }

    /// Parses `Name <local@domain>` or a bare `local@domain`; nil when the address is not valid.
    init?(parsing text: String, displayName explicitName: String? = nil) {
        var name = explicitName
        var address = text.trimmingASCIIWhitespace()
        if address.hasSuffix(">"), let open = address.lastIndex(of: "<") {
            let written = String(address[..<open]).trimmingASCIIWhitespace()
            if name == nil, !written.isEmpty { name = Self.unquote(written) }
            address = String(address[address.index(after: open)..<address.index(before: address.endIndex)])
        }
        guard Self.isValidAddress(address) else { return nil }
        self.address = address
        let cleaned = name.map(HeaderText.sanitize)?.trimmingASCIIWhitespace()
        self.displayName = (cleaned?.isEmpty ?? true) ? nil : cleaned
    }

    /// The header form: `addr@example.com`, `Name <addr@example.com>`, `"A, B" <...>` or
    /// `=?UTF-8?B?...?= <...>`; folded lines fit `prefixLength` characters of header name before it.
    func headerValue(prefixLength: Int) -> String {
        guard let displayName else { return address }
        let angle = "<\(address)>"
        if displayName.unicodeScalars.allSatisfy(\.isASCII), !displayName.contains("=?") {
            let phrase =
                displayName.unicodeScalars.allSatisfy { HeaderText.isAtext($0) || $0 == " " }
                ? displayName
                : "\""
                    + displayName.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\"", with: "\\\"") + "\""
            if prefixLength + phrase.count + 1 + angle.count <= HeaderText.preferredLength {
                return "\(phrase) \(angle)"
            }
            return "\(phrase)\r\n \(angle)"
        }
        let words = EncodedWord.encode(displayName, firstLineBudget: HeaderText.preferredLength - prefixLength)
        let last = words.count == 1 ? prefixLength + words[0].count : 1 + words[words.count - 1].count
        let separator = last + 1 + angle.count <= HeaderText.preferredLength ? " " : "\r\n "
        return words.joined(separator: "\r\n ") + separator + angle
    }

    /// One `@`, an RFC 5322 dot-atom local part and a host name of letters, digits and `-` (single-label
    /// hosts such as `localhost` are valid: the embedded default sender is `lethe@localhost`).
    static func isValidAddress(_ address: String) -> Bool {
        let scalars = Array(address.unicodeScalars)
        guard scalars.count <= 254, scalars.filter({ $0 == "@" }).count == 1,
            let at = scalars.firstIndex(of: "@")
        else { return false }
        let local = scalars[..<at]
        let domain = scalars[(at + 1)...]
        guard !local.isEmpty, local.count <= 64, isDotAtom(local) else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.isEmpty else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy {
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
                }
        }
    }

    /// Atoms of `atext` joined by single dots, with no leading or trailing dot.
    static func isDotAtom(_ scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        let atoms = scalars.split(separator: ".", omittingEmptySubsequences: false)
        return atoms.allSatisfy { !$0.isEmpty && $0.allSatisfy(HeaderText.isAtext) }
    }

    private static func unquote(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var result = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if !escaped, character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return result
    }
}
