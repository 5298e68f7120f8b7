import FileArchiveSink
import Foundation
import RetentionCore
import Testing

@Suite("FileArchiveReader")
struct FileArchiveReaderTests {
    @Test("a wrong key fails with unknown_key and a missing key with key_required, naming no value")
    func wrongKey() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let sink = try ArchiveFixtures.sink(directory: folder, key: ArchiveFixtures.newKey())
            _ = try await sink.archive([ArchiveFixtures.entry(1)])
            let wrong = #expect(throws: FileArchiveError.self) {
                try FileArchiveReader(directory: folder, key: ArchiveFixtures.newKey()).entries()
            }
            #expect(wrong?.code == "archive.unknown_key")
            #expect(wrong?.message.contains("contacts/2026-11.jsonl.enc:1") == true)
            let none = #expect(throws: FileArchiveError.self) { try FileArchiveReader(directory: folder).entries() }
            #expect(none?.code == "archive.key_required")
            let invalid = #expect(throws: FileArchiveError.self) {
                try FileArchiveReader(directory: folder, key: "short")
            }
            #expect(invalid?.code == "archive.invalid_key")
        }
    }

    @Test("a sink with a different key refuses to append to an archive it cannot read")
    func sinkWithWrongKey() async throws {
        try await ArchiveFixtures.withFolder { folder in
            _ = try await ArchiveFixtures.sink(directory: folder, key: ArchiveFixtures.newKey()).archive([
                ArchiveFixtures.entry(1)
            ])
            let other = try ArchiveFixtures.sink(directory: folder, key: ArchiveFixtures.newKey())
            let error = await #expect(throws: FileArchiveError.self) {
                try await other.archive([ArchiveFixtures.entry(2)])
            }
            #expect(error?.code == "archive.unknown_key")
            #expect(error?.isTransient == false)
        }
    }

    @Test("the manifest lists every data file and verifies", arguments: [false, true])
    func manifestVerifies(encrypted: Bool) async throws {
        try await ArchiveFixtures.withFolder { folder in
            let sink = try ArchiveFixtures.sink(directory: folder, key: encrypted ? ArchiveFixtures.newKey() : nil)
            _ = try await sink.archive([ArchiveFixtures.entry(1), ArchiveFixtures.entry(2, offset: 163_800)])
            _ = try await sink.archive([ArchiveFixtures.entry(3, connector: "hubspot")])
            let suffix = encrypted ? ".jsonl.enc" : ".jsonl"
            let expected = ["contacts/2026-11", "contacts/2026-12", "hubspot/2026-11"].map { $0 + suffix }
            let report = try FileArchiveReader(directory: folder).verifyManifest()
            #expect(report.isIntact)
            #expect(report.verified == expected)
            let manifest = try ArchiveFixtures.lines(folder.appendingPathComponent("MANIFEST.sha256"))
            #expect(manifest.map { String($0.dropFirst(66)) } == expected)
            #expect(manifest.allSatisfy { $0.prefix(64).allSatisfy(\.isHexDigit) && $0.dropFirst(64).hasPrefix("  ") })
        }
    }

    @Test("the manifest reports a tampered, a deleted and an unlisted file")
    func manifestDetectsTampering() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let sink = try ArchiveFixtures.sink(directory: folder)
            _ = try await sink.archive([ArchiveFixtures.entry(1), ArchiveFixtures.entry(2, offset: 163_800)])
            let november = folder.appendingPathComponent("contacts/2026-11.jsonl")
            var bytes = try [UInt8](Data(contentsOf: november))
            let index = try #require(bytes.firstIndex(of: UInt8(ascii: "1")))
            bytes[index] = UInt8(ascii: "7")
            try Data(bytes).write(to: november)
            let tampered = try FileArchiveReader(directory: folder).verifyManifest()
            #expect(!tampered.isIntact)
            #expect(tampered.mismatched == ["contacts/2026-11.jsonl"])
            #expect(tampered.verified == ["contacts/2026-12.jsonl"])

            try FileManager.default.removeItem(at: folder.appendingPathComponent("contacts/2026-12.jsonl"))
            try Data("{}\n".utf8).write(to: folder.appendingPathComponent("contacts/2027-01.jsonl"))
            let changed = try FileArchiveReader(directory: folder).verifyManifest()
            #expect(changed.missing == ["contacts/2026-12.jsonl"])
            #expect(changed.unlisted == ["contacts/2027-01.jsonl"])
            #expect(!changed.isIntact)
        }
    }

    @Test("a folder without a manifest does not verify")
    func noManifest() async throws {
        try await ArchiveFixtures.withFolder { folder in
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let report = try FileArchiveReader(directory: folder).verifyManifest()
            #expect(report.manifestFound == false)
            #expect(!report.isIntact)
        }
    }

    @Test(
        "sha256sum -c accepts the manifest",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum")))
    func sha256sumCompatible() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let sink = try ArchiveFixtures.sink(directory: folder, key: ArchiveFixtures.newKey())
            _ = try await sink.archive([ArchiveFixtures.entry(1), ArchiveFixtures.entry(2, connector: "hubspot")])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            process.arguments = ["--check", "--strict", "--quiet", "MANIFEST.sha256"]
            process.currentDirectoryURL = folder
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }
}
