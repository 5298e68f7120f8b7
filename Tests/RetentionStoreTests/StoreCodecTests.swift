import Foundation
import RetentionCore
@testable import RetentionStore
import Testing

@Suite struct StoreCodecTests {
    static let awkward: [String] = [
        "", "plain", "with \"quotes\"", "back\\slash\\", "line\nbreak\r\n", "tab\there", "고객 홍길동",
        "\u{0}\u{1}\u{1F}\u{7F}", "emoji 👩‍👩‍👧 and e\u{301}", String(repeating: "long ", count: 100), "semi;colon,comma",
    ]

    static let fieldMaps: [[String: String]] = [
        [:],
        ["id": "C-1", "email": "a@example.com", "created_at": "2020-01-01"],
        Dictionary(uniqueKeysWithValues: awkward.enumerated().map { ("k\($0.offset)\($0.element)", $0.element) }),
        ["": "", "이름": "고객", "\"key\"": "\\value\n"],
        Dictionary(uniqueKeysWithValues: (0..<300).map { ("field\($0)", String($0)) }),
    ]

    @Test(arguments: fieldMaps)
    func fieldsRoundTrip(_ fields: [String: String]) throws {
        let encoded = StoreCodec.encode(fields: fields)
        #expect(try StoreCodec.decodeFields(encoded) == fields)
    }

    @Test func fieldEncodingIsDeterministic() throws {
        var first: [String: String] = [:]
        var second: [String: String] = [:]
        for (index, value) in Self.awkward.enumerated() { first["k\(index)"] = value }
        for (index, value) in Self.awkward.enumerated().reversed() { second["k\(index)"] = value }
        #expect(StoreCodec.encode(fields: first) == StoreCodec.encode(fields: second))
        second["k0"] = "changed"
        #expect(StoreCodec.encode(fields: first) != StoreCodec.encode(fields: second))
    }

    @Test func erasedFieldsRoundTripInOrder() throws {
        let fields = Self.awkward.map { ErasedField(field: "f-\($0)", value: $0) } + [ErasedField(field: "z", value: ""), ErasedField(field: "a", value: "N")]
        #expect(try StoreCodec.decodeErased(StoreCodec.encode(erased: fields)) == fields)
        #expect(try StoreCodec.decodeErased(StoreCodec.encode(erased: [])) == [])
    }

    static let states: [LifecycleState] = [
        LifecycleState(phase: .deleted),
        LifecycleState(phase: .quarantined, rules: [:], finalExpiry: nil),
        LifecycleState(
            phase: .active,
            rules: [
                "payment": RuleProgress(stage: .active, expiry: Date(timeIntervalSince1970: 1_900_000_000.123456)),
                "marketing": RuleProgress(stage: .awaitingResponse, expiry: Date(timeIntervalSince1970: 1_800_000_000),
                                          noticedFor: Date(timeIntervalSince1970: 1_800_000_000)),
                "규칙 \"x\"\n": RuleProgress(stage: .extended, expiry: Date(timeIntervalSince1970: -12_345.5), noticedFor: Date(timeIntervalSince1970: 0.1)),
            ],
            finalExpiry: Date(timeIntervalSince1970: 1_900_000_000.123456)
        ),
        LifecycleState(
            phase: .awaitingApproval,
            rules: ["dispute": RuleProgress(stage: .expired, expiry: .distantPast), "x": RuleProgress(stage: .erased, expiry: .distantFuture)],
            finalExpiry: .distantFuture
        ),
        LifecycleState(
            phase: .expiring,
            rules: ["payment": RuleProgress(stage: .active, expiry: Date(timeIntervalSince1970: -0.0), noticedFor: Date(timeIntervalSince1970: -86_400),
                                            reconfirmedFor: Date(timeIntervalSince1970: 9.5e15))],
            finalExpiry: Date(timeIntervalSince1970: 4_102_444_800)
        ),
    ]

    @Test(arguments: states)
    func statesRoundTripExactly(_ state: LifecycleState) throws {
        let decoded = try StoreCodec.decodeState(StoreCodec.encode(state: state))
        #expect(decoded == state)
        #expect(decoded.finalExpiry?.timeIntervalSince1970.bitPattern == state.finalExpiry?.timeIntervalSince1970.bitPattern)
    }

    @Test(arguments: states)
    func statesOfLayoutThreeStillRead(_ state: LifecycleState) throws {
        let decoded = try StoreCodec.decodeState(StoreCodec.encode(state: state, layout: 3))
        #expect(decoded == state)
    }

    /// Layout 4 names each phase and stage by a one-byte code: every case has one.
    /// A record encoded ahead of its write is written with the bytes the store would make, and a change
    /// to its facts or state after that is never written with the old bytes.
    @Test func anUpsertEncodedAheadMatchesTheStoreAndForgetsItOnChange() throws {
        let facts = SourceFacts(dates: [Date(timeIntervalSince1970: 1_600_000_000), nil], purposes: 0b101, consents: 1, unerased: [3, 0], hasEmail: true)
        var upsert = RecordUpsert(
            key: 7, reference: "r-07", recordID: "C-7", digest: 9, facts: facts, line: 2,
            state: LifecycleState(phase: .active), nextDue: nil, reason: nil)
        #expect(upsert.encoded == nil)
        upsert.encode()
        #expect(upsert.encoded?.facts == StoreCodec.encode(facts: facts))
        #expect(upsert.encoded?.state == StoreCodec.encode(state: LifecycleState(phase: .active)))
        upsert.state = LifecycleState(phase: .quarantined)
        #expect(upsert.encoded == nil)
        #expect(upsert.encodedForStore.state == StoreCodec.encode(state: LifecycleState(phase: .quarantined)))
        upsert.encode()
        upsert.facts = nil
        #expect(upsert.encoded == nil)
        #expect(upsert.encodedForStore.facts == nil)
    }

    @Test func everyPhaseAndStageHasACode() {
        #expect(Set(StoreCodec.phaseCodes) == Set(RecordPhase.allCases) && StoreCodec.phaseCodes.count == RecordPhase.allCases.count)
        #expect(StoreCodec.stageCodes.count == 5 && Set(StoreCodec.stageCodes.map(\.rawValue)).count == 5)
    }

    /// A typical live record's state (two rules, whole-second dates) takes a few dozen bytes.
    @Test func aTypicalStateIsSmall() {
        let state = LifecycleState(
            phase: .active,
            rules: ["payment": RuleProgress(stage: .active, expiry: Date(timeIntervalSince1970: 1_900_000_000)),
                    "marketing": RuleProgress(stage: .active, expiry: Date(timeIntervalSince1970: 1_850_000_000))],
            finalExpiry: Date(timeIntervalSince1970: 1_900_000_000))
        #expect(StoreCodec.encode(state: state).count <= 48)
        #expect(StoreCodec.encode(state: state, layout: 3).count > 60)
    }

    @Test func everyPhaseAndStageRoundTrips() throws {
        let stages: [RuleStage] = [.active, .awaitingResponse, .extended, .erased, .expired]
        for phase in RecordPhase.allCases {
            for stage in stages {
                let state = LifecycleState(phase: phase, rules: ["r": RuleProgress(stage: stage, expiry: Date(timeIntervalSince1970: 1))])
                #expect(try StoreCodec.decodeState(StoreCodec.encode(state: state)) == state)
            }
        }
    }

    @Test func malformedBytesThrowInsteadOfTrapping() throws {
        let valid = StoreCodec.encode(fields: ["email": "a@example.com", "name": "고객"])
        #expect(throws: StoreError.self) { try StoreCodec.decodeFields(Data()) }
        #expect(throws: StoreError.self) { try StoreCodec.decodeFields(Data([9, 0])) }
        for length in 1..<valid.count {
            #expect(throws: StoreError.self) { try StoreCodec.decodeFields(valid.prefix(length)) }
        }
        #expect(throws: StoreError.self) { try StoreCodec.decodeFields(valid + Data([0])) }
        #expect(throws: StoreError.self) { try StoreCodec.decodeFields(Data([1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])) }
        let state = StoreCodec.encode(state: Self.states[2])
        for length in 1..<state.count {
            #expect(throws: StoreError.self) { try StoreCodec.decodeState(state.prefix(length)) }
        }
        var badPhase = StoreCodec.Writer()
        badPhase.string("nonsense")
        #expect(throws: StoreError.self) { try StoreCodec.decodeState(Data(badPhase.bytes)) }
        #expect(throws: StoreError.self) { try StoreCodec.decodeState(Data([4, 200, 0, 0, 0])) }
        #expect(throws: StoreError.self) { try StoreCodec.decodeState(Data([4, 0, 0, 1, 1, 0x72, 99, 2, 0, 0, 0, 0, 0])) }
        #expect(throws: StoreError.self) { try StoreCodec.decodeState(Data([4, 0, 7, 0, 0])) }
    }

    @Test func auditTimestampMatchesFoundation() throws {
        var seconds: [Double] = [0, 1, -1, 59, 86_399, 86_400, 951_782_400, 1_800_000_000, 1_900_000_000, 4_102_444_799, -2_208_988_800, 253_402_300_799]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 { seconds.append(Double(Int.random(in: -2_208_988_800...253_402_300_799, using: &generator))) }
        seconds += [0.5, 1_800_000_000.999, -2_208_988_801, 253_402_300_800, -62_135_596_800]
        for value in seconds {
            let date = Date(timeIntervalSince1970: value)
            #expect(AuditTimestamp.iso8601(date) == date.formatted(.iso8601), "\(value)")
        }
    }
}

@Suite struct StoreCodecStateLayoutTests {
    @Test func reconfirmationMarksRoundTrip() throws {
        let state = LifecycleState(
            phase: .active,
            rules: ["marketing": RuleProgress(stage: .awaitingResponse, expiry: Date(timeIntervalSince1970: 1_900_000_000.25),
                                              noticedFor: Date(timeIntervalSince1970: 1_900_000_000.25), reconfirmedFor: Date(timeIntervalSince1970: 1_800_000_000)),
                    "payment": RuleProgress(stage: .active, expiry: Date(timeIntervalSince1970: 2_000_000_000))],
            finalExpiry: Date(timeIntervalSince1970: 2_000_000_000), consentSeen: ["marketing_consent": true, "ad_consent": false])
        let encoded = StoreCodec.encode(state: state)
        #expect(encoded.first == StoreCodec.stateVersion)
        #expect(try StoreCodec.decodeState(encoded) == state)
        var reordered = LifecycleState(phase: .active, rules: state.rules, finalExpiry: state.finalExpiry)
        reordered.consentSeen["ad_consent"] = false
        reordered.consentSeen["marketing_consent"] = true
        #expect(StoreCodec.encode(state: reordered) == encoded, "the same value, the same bytes")
    }

    /// Layout 2 (re-confirmation marks, no consent values) still reads.
    @Test func layoutTwoStatesStillRead() throws {
        let state = LifecycleState(phase: .active, rules: ["marketing": RuleProgress(stage: .active, expiry: Date(timeIntervalSince1970: 1_900_000_000),
                                                                                     reconfirmedFor: Date(timeIntervalSince1970: 1_800_000_000))])
        var bytes = [UInt8](StoreCodec.encode(state: state, layout: 3))
        #expect(bytes.removeLast() == 0, "layout 3 ends with the (empty) consent map")
        bytes[0] = 2
        #expect(try StoreCodec.decodeState(Data(bytes)) == state)
    }

    /// States written before re-confirmation existed (layout 1) still read, with no mark.
    @Test func layoutOneStatesStillRead() throws {
        var bytes: [UInt8] = [1]
        func string(_ text: String) { bytes.append(UInt8(text.utf8.count)); bytes.append(contentsOf: text.utf8) }
        func date(_ seconds: Double) {
            var bits = seconds.bitPattern
            for _ in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
        }
        string("active")
        bytes.append(1); date(2_000_000_000)
        bytes.append(1)
        string("marketing"); string("awaiting-response"); date(1_900_000_000); bytes.append(1); date(1_900_000_000)
        let state = try StoreCodec.decodeState(Data(bytes))
        #expect(state == LifecycleState(phase: .active, rules: ["marketing": RuleProgress(stage: .awaitingResponse, expiry: Date(timeIntervalSince1970: 1_900_000_000), noticedFor: Date(timeIntervalSince1970: 1_900_000_000))], finalExpiry: Date(timeIntervalSince1970: 2_000_000_000)))
        // A layout-1 state with a layout-2 tail is corrupt, and unknown layouts are refused.
        #expect(throws: StoreError.self) { try StoreCodec.decodeState(Data(bytes + [0])) }
        #expect(throws: StoreError.self) { try StoreCodec.decodeState(Data([3] + bytes.dropFirst())) }
        #expect(throws: StoreError.self) { try StoreCodec.decodeFields(StoreCodec.encode(state: state)) }
    }
}
