/// The installation's keyed functions over records: the pseudonymous reference and the record key of
/// a source id, and the change digest of a source row. All are keyed by the installation's secret, so
/// none can be recomputed from a guessed id or row: they identify without revealing.
///
/// - reference: `r-` and 20 hex digits (80 bits) of two SipHash-2-4 values of `connector ␟ id`;
/// - key: the first 64 of those bits, the record's place in the state (`Int64`);
/// - row digest: SipHash-2-4 of the row under a key of its own, mixed with the source's and the
///   policy's fingerprints, so a changed mapping or policy makes every row read again.
public struct RecordFingerprints: Sendable, Equatable {
    let first: SipHasher
    let second: SipHasher
    let rows: SipHasher

    /// From the installation's secret (at least 16 bytes).
    public init(secret: [UInt8]) {
        let base = SipHasher(secret: secret)
        let tail = SipHasher(secret: Array(secret.dropFirst(16)))
        first = SipHasher(k0: base.k0 ^ tail.k0, k1: base.k1 ^ tail.k1).derived(0x7265_6665_7265_6e63)  // "referenc"
        second = first.derived(0x7365_636f_6e64_7265)  // "secondre"
        rows = first.derived(0x726f_7764_6967_6573)  // "rowdiges"
    }

    /// `connector ␟ id` hashed by `hasher`, without building the string.
    @inline(__always)
    func hash(_ hasher: SipHasher, connector: String, id: UnsafeRawBufferPointer) -> UInt64 {
        var connector = connector
        return connector.withUTF8 { name in
            let count = name.count + 1 + id.count
            return withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { buffer in
                buffer.baseAddress!.copyMemory(from: name.baseAddress!, byteCount: name.count)
                buffer[name.count] = 0x1F
                if id.count > 0 { (buffer.baseAddress! + name.count + 1).copyMemory(from: id.baseAddress!, byteCount: id.count) }
                return hasher.hash(UnsafeRawBufferPointer(buffer))
            }
        }
    }

    /// The record key of a source id (its UTF-8 bytes).
    public func key(connector: String, id: UnsafeRawBufferPointer) -> Int64 {
        Int64(bitPattern: hash(first, connector: connector, id: id))
    }

    public func key(connector: String, id: String) -> Int64 {
        var id = id
        return id.withUTF8 { key(connector: connector, id: UnsafeRawBufferPointer($0)) }
    }

    /// The pseudonymous reference of a source id: `r-` and 20 hex digits.
    public func reference(connector: String, id: String) -> String {
        var id = id
        return id.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            return Self.reference(key: hash(first, connector: connector, id: raw), tail: UInt16(truncatingIfNeeded: hash(second, connector: connector, id: raw)))
        }
    }

    /// `r-` and the key's 16 hex digits (big-endian), then the tail's 4.
    public static func reference(key: UInt64, tail: UInt16) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "r"), UInt8(ascii: "-")]
        text.reserveCapacity(22)
        for shift in stride(from: 60, through: 0, by: -4) { text.append(digits[Int((key >> UInt64(shift)) & 0xF)]) }
        for shift in stride(from: 12, through: 0, by: -4) { text.append(digits[Int((tail >> UInt16(shift)) & 0xF)]) }
        return String(decoding: text, as: UTF8.self)
    }

    /// The key a reference of this form carries (its first 16 hex digits); nil for other forms.
    public static func key(ofReference reference: String) -> Int64? {
        let utf8 = Array(reference.utf8)
        guard utf8.count == 22, utf8[0] == UInt8(ascii: "r"), utf8[1] == UInt8(ascii: "-") else { return nil }
        var value: UInt64 = 0
        for byte in utf8[2..<18] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return Int64(bitPattern: value)
    }

    /// The digest hasher for one source and policy (their fingerprints mixed into the key).
    public func rowDigests(sourceFingerprint: UInt64, policyFingerprint: UInt64) -> RowDigester {
        RowDigester(hasher: rows.derived(sourceFingerprint).derived(policyFingerprint))
    }

    /// A fingerprint of any text (a policy's or a connector's settings), under the installation key.
    public func fingerprint(_ text: String) -> UInt64 {
        rows.derived(0x6669_6e67_6572_7072).hash(text)
    }
}

/// Digests source rows for change detection: the same row under the same source and policy always
/// gives the same digest (never 0, which the state uses for "unknown").
public struct RowDigester: Sendable, Equatable {
    let hasher: SipHasher

    /// A digester for rows read under `context` too (a file's header: the same line under another
    /// header is another row).
    public func mixing(_ context: UnsafeRawBufferPointer) -> RowDigester {
        RowDigester(hasher: hasher.derived(hasher.hash(context)))
    }

    /// The digest of a row's raw bytes (a CSV line as it is in the file).
    public func digest(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let value = hasher.hash(bytes)
        return value == 0 ? 1 : value
    }

    /// The digest of a record as fields: names and values in name order, with its defect.
    public func digest(_ record: SourceRecord) -> UInt64 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        for name in record.fields.keys.sorted() {
            bytes.append(contentsOf: name.utf8)
            bytes.append(0x1F)
            bytes.append(contentsOf: (record.fields[name] ?? "").utf8)
            bytes.append(0x1E)
        }
        if let defect = record.defect {
            bytes.append(0x1D)
            bytes.append(contentsOf: defect.utf8)
        }
        return bytes.withUnsafeBytes { digest($0) }
    }
}
