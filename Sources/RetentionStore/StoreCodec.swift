package import Foundation
package import RetentionCore

/// The compact binary layout of the mirror's `fields` column, the records' `state` column and the
/// outbox's `fields` column. Hand-written because it runs for every row on ingest, evaluation and
/// completion, where Codable JSON dominated large syncs.
///
/// Contracts:
/// - every value round-trips exactly (any Unicode, control characters, dates bit for bit);
/// - the same value always encodes to the same bytes (maps are written in sorted key order), so two
///   encodings can be compared to tell whether a record changed;
/// - decoding malformed bytes throws `StoreError` (`store.corrupt`), never traps.
///
/// Layout: a version byte, then items. A string is a LEB128 length and its UTF-8 bytes; a date is the
/// little-endian bit pattern of its `timeIntervalSince1970`; an optional is a 0/1 byte and the value.
/// Lifecycle states are written in layout 4: layout 2 added each rule's re-confirmation cycle, layout 3
/// the consent values last seen (a count, then field name and 0/1 pairs in sorted order), layout 4 writes
/// phases and stages as one byte each (`phaseCodes`, `stageCodes`) and dates as whole seconds where they
/// are (a tag, then a zigzag LEB128; others as before). States of layouts 1 to 3 still read.
package enum StoreCodec {
    static let version: UInt8 = 1
    static let stateVersion: UInt8 = 4

    /// Layout 4's codes: a value's position. Append only.
    static let phaseCodes: [RecordPhase] = [.active, .quarantined, .held, .expiring, .awaitingApproval, .deleted, .gone]
    static let stageCodes: [RuleStage] = [.active, .awaitingResponse, .extended, .erased, .expired]

    // MARK: Fields

    /// A record's fields, keys in sorted order.
    package static func encode(fields: [String: String]) -> Data {
        var writer = Writer()
        writer.bytes.reserveCapacity(16 + fields.count * 24)
        writer.count(fields.count)
        for key in fields.keys.sorted() {
            writer.string(key)
            writer.string(fields[key] ?? "")
        }
        return Data(writer.bytes)
    }

    package static func decodeFields(_ data: Data) throws -> [String: String] {
        try data.withUnsafeBytes { try decodeFields(buffer: $0) }
    }

    private static func decodeFields(buffer: UnsafeRawBufferPointer) throws -> [String: String] {
        var reader = try Reader(buffer)
        let count = try reader.count()
        var fields: [String: String] = Dictionary(minimumCapacity: count)
        for _ in 0..<count {
            let key = try reader.string()
            fields[key] = try reader.string()
        }
        try reader.finish()
        return fields
    }

    // MARK: Erased fields (outbox)

    /// Erasure targets in their order.
    package static func encode(erased: [ErasedField]) -> Data {
        var writer = Writer()
        writer.count(erased.count)
        for field in erased {
            writer.string(field.field)
            writer.string(field.value)
        }
        return Data(writer.bytes)
    }

    package static func decodeErased(_ data: Data) throws -> [ErasedField] {
        try data.withUnsafeBytes { try decodeErased(buffer: $0) }
    }

    private static func decodeErased(buffer: UnsafeRawBufferPointer) throws -> [ErasedField] {
        var reader = try Reader(buffer)
        let count = try reader.count()
        var fields: [ErasedField] = []
        fields.reserveCapacity(count)
        for _ in 0..<count {
            let field = try reader.string()
            fields.append(ErasedField(field: field, value: try reader.string()))
        }
        try reader.finish()
        return fields
    }

    // MARK: Lifecycle state

    package static func encode(state: LifecycleState, layout: UInt8 = stateVersion) -> Data {
        var writer = Writer(version: layout)
        let compact = layout >= 4
        func date(_ value: Date?, optional: Bool) {
            if compact { writer.compactDate(value) } else if optional { writer.optionalDate(value) } else if let value { writer.date(value) }
        }
        if compact {
            writer.bytes.append(UInt8(phaseCodes.firstIndex(of: state.phase) ?? 0))
        } else {
            writer.string(state.phase.rawValue)
        }
        date(state.finalExpiry, optional: true)
        writer.count(state.rules.count)
        for name in state.rules.keys.sorted() {
            guard let progress = state.rules[name] else { continue }
            writer.string(name)
            if compact {
                writer.bytes.append(UInt8(stageCodes.firstIndex(of: progress.stage) ?? 0))
            } else {
                writer.string(progress.stage.rawValue)
            }
            date(progress.expiry, optional: false)
            date(progress.noticedFor, optional: true)
            date(progress.reconfirmedFor, optional: true)
        }
        writer.count(state.consentSeen.count)
        for field in state.consentSeen.keys.sorted() {
            writer.string(field)
            writer.bytes.append(state.consentSeen[field] == true ? 1 : 0)
        }
        return Data(writer.bytes)
    }

    package static func decodeState(_ data: Data) throws -> LifecycleState {
        try data.withUnsafeBytes { try decodeState(buffer: $0) }
    }

    static func decodeState(buffer: UnsafeRawBufferPointer) throws -> LifecycleState {
        var reader = try Reader(buffer, versions: [1, 2, 3, stateVersion])
        let compact = reader.layout >= 4
        let phase: RecordPhase
        if compact {
            let code = Int(try reader.byte())
            guard code < phaseCodes.count else { throw corrupt("unknown phase") }
            phase = phaseCodes[code]
        } else {
            guard let named = RecordPhase(rawValue: try reader.string()) else { throw corrupt("unknown phase") }
            phase = named
        }
        let finalExpiry = compact ? try reader.compactDate() : try reader.optionalDate()
        let count = try reader.count()
        var rules: [String: RuleProgress] = Dictionary(minimumCapacity: count)
        for _ in 0..<count {
            let name = try reader.string()
            let stage: RuleStage
            if compact {
                let code = Int(try reader.byte())
                guard code < stageCodes.count else { throw corrupt("unknown rule stage") }
                stage = stageCodes[code]
            } else {
                guard let named = RuleStage(rawValue: try reader.string()) else { throw corrupt("unknown rule stage") }
                stage = named
            }
            guard let expiry = compact ? try reader.compactDate() : try reader.date() else { throw corrupt("missing expiry") }
            let noticedFor = compact ? try reader.compactDate() : try reader.optionalDate()
            let reconfirmedFor = reader.layout >= 2 ? (compact ? try reader.compactDate() : try reader.optionalDate()) : nil
            rules[name] = RuleProgress(stage: stage, expiry: expiry, noticedFor: noticedFor, reconfirmedFor: reconfirmedFor)
        }
        var consentSeen: [String: Bool] = [:]
        if reader.layout >= 3 {
            for _ in 0..<(try reader.count()) {
                let field = try reader.string()
                switch try reader.byte() {
                case 0: consentSeen[field] = false
                case 1: consentSeen[field] = true
                default: throw corrupt("bad consent value")
                }
            }
        }
        try reader.finish()
        return LifecycleState(phase: phase, rules: rules, finalExpiry: finalExpiry, consentSeen: consentSeen)
    }

    // MARK: Source facts

    /// Layout of `SourceFacts`: a version byte (`factsVersion`), a flags byte (1: a quarantine
    /// follows, 2: an e-mail address), the quarantine's code and detail, the dates (a count, then
    /// optional dates), the purpose and consent bits, the per-rule unerased bits (a count, then
    /// unsigned LEB128 values).
    static let factsVersion: UInt8 = 0x46

    package static func encode(facts: SourceFacts) -> Data {
        var writer = Writer(version: factsVersion)
        writer.bytes.append((facts.quarantine == nil ? 0 : 1) | (facts.hasEmail ? 2 : 0))
        if let reason = facts.quarantine {
            writer.string(reason.code)
            writer.string(reason.detail)
        }
        writer.count(facts.dates.count)
        for date in facts.dates { writer.optionalDate(date) }
        writer.unsigned(facts.purposes)
        writer.unsigned(facts.consents)
        writer.count(facts.unerased.count)
        for bits in facts.unerased { writer.unsigned(bits) }
        return Data(writer.bytes)
    }

    package static func decodeFacts(_ data: Data) throws -> SourceFacts {
        try data.withUnsafeBytes { try decodeFacts(buffer: $0) }
    }

    static func decodeFacts(buffer: UnsafeRawBufferPointer) throws -> SourceFacts {
        var reader = try Reader(buffer, versions: [factsVersion])
        let flags = try reader.byte()
        var facts = SourceFacts(hasEmail: flags & 2 != 0)
        if flags & 1 != 0 { facts.quarantine = QuarantineReason(code: try reader.string(), detail: try reader.string()) }
        facts.dates = try (0..<reader.count()).map { _ in try reader.optionalDate() }
        facts.purposes = try reader.unsigned()
        facts.consents = try reader.unsigned()
        facts.unerased = try (0..<reader.count()).map { _ in try reader.unsigned() }
        try reader.finish()
        return facts
    }

    static func corrupt(_ what: String) -> StoreError {
        StoreError(code: "store.corrupt", message: "a stored value cannot be read (\(what))")
    }

    // MARK: Writer and reader

    struct Writer {
        var bytes: [UInt8]

        init(version: UInt8 = StoreCodec.version) {
            bytes = [version]
        }

        mutating func count(_ value: Int) {
            var rest = UInt64(value)
            while rest >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }

        mutating func unsigned(_ value: UInt64) {
            var rest = value
            while rest >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }

        mutating func string(_ value: String) {
            var value = value
            value.withUTF8 { utf8 in
                count(utf8.count)
                bytes.append(contentsOf: utf8)
            }
        }

        mutating func date(_ value: Date) {
            var bits = value.timeIntervalSince1970.bitPattern
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
            }
        }

        /// Layout 4's date: 0 for none, 1 and the bits of a date that is not whole seconds, 2 and the
        /// zigzag seconds of one that is (exactly the same value read back).
        mutating func compactDate(_ value: Date?) {
            guard let value else { return bytes.append(0) }
            let seconds = value.timeIntervalSince1970
            if seconds.magnitude < 9.0e15, let whole = Int64(exactly: seconds), Double(whole).bitPattern == seconds.bitPattern {
                bytes.append(2)
                unsigned(UInt64(bitPattern: (whole << 1) ^ (whole >> 63)))
            } else {
                bytes.append(1)
                date(value)
            }
        }

        mutating func optionalDate(_ value: Date?) {
            if let value {
                bytes.append(1)
                date(value)
            } else {
                bytes.append(0)
            }
        }
    }

    /// Reads a buffer that outlives it (only used inside `withUnsafeBytes`).
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        let layout: UInt8
        var index = 1

        init(_ bytes: UnsafeRawBufferPointer, versions: [UInt8] = [StoreCodec.version]) throws {
            guard let first = bytes.first, versions.contains(first) else { throw StoreCodec.corrupt("unknown layout") }
            self.bytes = bytes
            self.layout = first
        }

        mutating func byte() throws -> UInt8 {
            guard index < bytes.count else { throw StoreCodec.corrupt("truncated") }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func count() throws -> Int {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 63 else { throw StoreCodec.corrupt("length overflow") }
                value |= UInt64(next & 0x7F) << shift
                if next < 0x80 { break }
                shift += 7
            }
            guard value <= UInt64(bytes.count - index) else { throw StoreCodec.corrupt("length beyond the end") }
            return Int(value)
        }

        mutating func unsigned() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 64 else { throw StoreCodec.corrupt("number overflow") }
                value |= UInt64(next & 0x7F) << shift
                if next < 0x80 { return value }
                shift += 7
            }
        }

        mutating func string() throws -> String {
            let length = try count()
            defer { index += length }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]), as: UTF8.self)
        }

        mutating func date() throws -> Date {
            guard bytes.count - index >= 8 else { throw StoreCodec.corrupt("truncated date") }
            var bits: UInt64 = 0
            for offset in (0..<8).reversed() {
                bits = bits << 8 | UInt64(bytes[index + offset])
            }
            index += 8
            return Date(timeIntervalSince1970: Double(bitPattern: bits))
        }

        mutating func compactDate() throws -> Date? {
            switch try byte() {
            case 0: return nil
            case 1: return try date()
            case 2:
                let zigzag = try unsigned()
                return Date(timeIntervalSince1970: Double(Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)))
            default: throw StoreCodec.corrupt("bad date")
            }
        }

        mutating func optionalDate() throws -> Date? {
            switch try byte() {
            case 0: return nil
            case 1: return try date()
            default: throw StoreCodec.corrupt("bad optional")
            }
        }

        func finish() throws {
            guard index == bytes.count else { throw StoreCodec.corrupt("trailing bytes") }
        }
    }
}
