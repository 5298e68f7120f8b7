import RetentionCore
import Testing

struct SipHashTests {
    /// The reference vectors of the SipHash paper (key 00 01 … 0f, messages 00 01 … n−1).
    @Test(arguments: [(0, 0x726f_db47_dd0e_0e31 as UInt64), (1, 0x74f8_39c5_93dc_67fd), (7, 0xab02_00f5_8b01_d137), (8, 0x93f5_f579_9a93_2462), (15, 0xa129_ca61_49be_45e5), (16, 0x3f2a_cc7f_57c2_9bdb), (63, 0x958a_324c_eb06_4572)])
    func referenceVectors(length: Int, expected: UInt64) {
        let hasher = SipHasher(secret: (0..<16).map { UInt8($0) })
        #expect(hasher.hash((0..<length).map { UInt8($0) }) == expected)
    }

    @Test func keysAndTweaksSeparateTheHashes() {
        let a = SipHasher(secret: Array(repeating: 1, count: 16))
        let b = SipHasher(secret: Array(repeating: 2, count: 16))
        #expect(a.hash("C000788") != b.hash("C000788"))
        #expect(a.derived(1).hash("C000788") != a.hash("C000788"))
        #expect(a.hash("C000788") == a.hash(Array("C000788".utf8)))
    }
}
