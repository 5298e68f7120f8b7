/// Checks bytes for well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)
/// in pieces, so a whole file can be checked in constant memory. A character may straddle pieces.
struct UTF8Validator {
    private var pending = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    /// False once an invalid byte was seen.
    private(set) var isValid = true

    /// True when everything fed so far is valid and no character is cut off at the end.
    var isComplete: Bool { isValid && pending == 0 }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard isValid else { return }
        let count = bytes.count
        var index = 0
        while index < count {
            if pending == 0 {
                // Fast path: eight ASCII bytes at a time.
                while index + 8 <= count
                    && bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                        & 0x8080_8080_8080_8080 == 0
                {
                    index += 8
                }
                guard index < count else { return }
                let byte = bytes[index]
                index += 1
                if byte < 0x80 { continue }
                switch byte {
                case 0xC2...0xDF: pending = 1
                case 0xE0: pending = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE, 0xEF: pending = 2
                case 0xED: pending = 2; upper = 0x9F
                case 0xF0: pending = 3; lower = 0x90
                case 0xF1...0xF3: pending = 3
                case 0xF4: pending = 3; upper = 0x8F
                default:
                    isValid = false
                    return
                }
            } else {
                let byte = bytes[index]
                index += 1
                guard byte >= lower && byte <= upper else {
                    isValid = false
                    return
                }
                lower = 0x80
                upper = 0xBF
                pending -= 1
            }
        }
    }
}
