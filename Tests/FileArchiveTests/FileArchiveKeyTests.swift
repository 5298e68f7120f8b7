import FileArchiveSink
import Foundation
import RetentionCore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("FileArchive keys")
struct FileArchiveKeyTests {
    /// A line written by the format without key ids or associated data, for entry(1), under `legacyKey`.
    static let legacyKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let legacyLine =
        "BwcHBwcHBwcHBwcHdEjHLgxnvoKj+VL0omvWqZFuu165xqwrx+9uyT7uAiEXdN9OsXCusC7cwpKsebxFzyfBa++DYmTznICBGcuh3GfDmVflrFnjdqAVJYriebbmAnBI2cAsBa9fHz8FV2vu4OzgwPxnNuEuEa0EquIbyCbbNo7GzJtexZSOsuZd5hp1u+Y/wZChnhUFCTDt4aejFjUb+uZZ5iuPLpaiSF+EibgW+Yc18ElKbbBAXneilUeFW4GZsnxFjh3CbqD+eNSVCVFyl1NC/KiBHO14IkH2Aacs+vWycNC2Gge4nT6LOcVlJ7GgR+QOTDwvkOr52v/it5M0+UOU7RSbsyWHZnnsY3i+C8YbGZucWoX4QIMDMinCGA=="

    static func keyID(_ key: String) -> String {
        // The first 8 hex digits of the SHA-256 of the key bytes, as the manifest computes digests.
        let bytes = Data(base64Encoded: key)!
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keyid-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("k")
        try? bytes.write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        return String(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(8))
    }

    static func maintenance(
        directory: URL, key: String?, extra: [(String, String)] = [], state: URL? = nil, now: Date = ArchiveFixtures.now
    ) throws -> FileArchiveMaintenance {
        try FileArchiveMaintenance(
            settings: ArchiveFixtures.settings(directory: directory.path, key: key, extra: extra),
            context: ArchiveFixtures.context(state: state ?? directory.appendingPathComponent("state"), now: now))
    }

    // MARK: A key is required

    @Test(
        "the archive refuses to start without a key unless `encrypt: false` is written, and config validate says so",
        arguments: [nil, "", "  "])
    func refusesWithoutKey(key: String?) throws {
        let logs = LogCapture()
        let settings = ArchiveFixtures.settings(directory: "/tmp/unused", key: key)
        let error = #expect(throws: ConfigError.self) {
            try ConnectorFactory.fileArchive.make(settings, ArchiveFixtures.context(logs))
        }
        #expect(error?.code == "config.archive_key_required")
        #expect(error?.message.contains("encrypt: false") == true)
        #expect(error?.key == (key == nil ? "connectors[2].settings" : "connectors[2].settings.key"))
        let check = try #require(ConnectorFactory.fileArchive.check)
        let checked = #expect(throws: ConfigError.self) { try check(settings, ArchiveFixtures.context()) }
        #expect(checked?.code == "config.archive_key_required")

        let plain = ArchiveFixtures.settings(directory: "/tmp/unused", key: key, extra: [("encrypt", "false")])
        #expect(throws: Never.self) { try check(plain, ArchiveFixtures.context()) }
        #expect(try ConnectorFactory.fileArchive.make(plain, ArchiveFixtures.context(logs)).archiveSink != nil)
        #expect(logs.entries.filter { $0.level == .warning }.count == 1)
    }

    @Test("`encrypt: false` together with a key is refused, and a bad previous key names the setting, never a key")
    func conflicts() {
        let key = ArchiveFixtures.newKey()
        let conflict = #expect(throws: ConfigError.self) {
            try ConnectorFactory.fileArchive.make(
                ArchiveFixtures.settings(directory: "/tmp/unused", key: key, extra: [("encrypt", "false")]),
                ArchiveFixtures.context())
        }
        #expect(conflict?.code == "config.conflict")
        #expect(conflict?.key == "connectors[2].settings.encrypt")
        let bad = "not-a-key"
        let previous = #expect(throws: ConfigError.self) {
            try ConnectorFactory.fileArchive.make(
                ArchiveFixtures.settings(
                    directory: "/tmp/unused", key: key, extra: [("previousKeys", "\(ArchiveFixtures.newKey()), \(bad)")]
                ),
                ArchiveFixtures.context())
        }
        #expect(previous?.code == "config.invalid_key")
        #expect(previous?.key == "connectors[2].settings.previousKeys")
        #expect(previous.map { $0.message.contains(bad) || $0.message.contains(key) } == false)
    }

    @Test("generateKey creates the key file once, mode 0600, names it in one warning, and reuses it")
    func generatedKey() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let state = folder.appendingPathComponent("state")
            let logs = LogCapture()
            let settings = ArchiveFixtures.settings(
                directory: folder.appendingPathComponent("archive").path, key: "", extra: [("generateKey", "true")])
            let sink = try #require(
                try ConnectorFactory.fileArchive.make(settings, ArchiveFixtures.context(logs, state: state)).archiveSink
            )
            let file = state.appendingPathComponent("archive-key")
            let text = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Data(base64Encoded: text)?.count == 32)
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
            let warnings = logs.entries.filter { $0.level == .warning }
            #expect(warnings.count == 1)
            #expect(warnings.first?.metadata["file"] == file.path)
            #expect(warnings.first?.message.contains("back this file up apart from the state") == true)
            #expect(!logs.allText.contains(text))

            _ = try await sink.archive([ArchiveFixtures.entry(1)])
            let again = LogCapture()
            let second = try #require(
                try ConnectorFactory.fileArchive.make(settings, ArchiveFixtures.context(again, state: state))
                    .archiveSink)
            #expect(again.entries.filter { $0.level == .warning }.isEmpty)
            #expect(
                try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == text)
            _ = try await second.archive([ArchiveFixtures.entry(1), ArchiveFixtures.entry(2)])
            let reader = try FileArchiveReader(directory: folder.appendingPathComponent("archive"), key: text)
            #expect(try reader.entries().map(\.recordID) == ["rec-1", "rec-2"])
        }
    }

    // MARK: Key ids and rotation

    @Test("each sealed line names its key; old-key entries stay readable while both keys are configured")
    func keyIDsAndPreviousKeys() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let old = ArchiveFixtures.newKey()
            let new = ArchiveFixtures.newKey()
            _ = try await ArchiveFixtures.sink(directory: folder, key: old).archive([ArchiveFixtures.entry(1)])
            let line = try #require(
                try ArchiveFixtures.lines(folder.appendingPathComponent("contacts/2026-11.jsonl.enc")).first)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            #expect(object["kid"] == Self.keyID(old))
            #expect(object["op"] == ArchiveFixtures.entry(1).operationID)
            #expect(Data(base64Encoded: object["box"] ?? "") != nil)

            let rotated = try ArchiveFixtures.sink(directory: folder, key: new, extra: [("previousKeys", old)])
            _ = try await rotated.archive([ArchiveFixtures.entry(1), ArchiveFixtures.entry(2)])
            let both = try FileArchiveReader(directory: folder, key: new, previousKeys: [old])
            #expect(try both.entries().map(\.recordID) == ["rec-1", "rec-2"])
            #expect(try both.keyIDs() == ["contacts/2026-11.jsonl.enc": [Self.keyID(old), Self.keyID(new)]])
            let newOnly = #expect(throws: FileArchiveError.self) {
                try FileArchiveReader(directory: folder, key: new).entries()
            }
            #expect(newOnly?.code == "archive.unknown_key")
            #expect(newOnly?.message.contains(Self.keyID(old)) == true)
        }
    }

    @Test("`lethe archive rekey` seals every entry under the new key; then the new key alone reads them all")
    func rekey() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let old = ArchiveFixtures.newKey()
            let new = ArchiveFixtures.newKey()
            _ = try await ArchiveFixtures.sink(directory: folder, key: old).archive([
                ArchiveFixtures.entry(1), ArchiveFixtures.entry(2, offset: 163_800),
                ArchiveFixtures.entry(3, connector: "hubspot"),
            ])
            _ = try await ArchiveFixtures.sink(directory: folder, key: new, extra: [("previousKeys", old)]).archive([
                ArchiveFixtures.entry(4)
            ])
            let before = try FileArchiveReader(directory: folder, key: new, previousKeys: [old]).entries()

            let maintenance = try Self.maintenance(directory: folder, key: new, extra: [("previousKeys", old)])
            let report = try await maintenance.rekey()
            #expect(report.keyID == Self.keyID(new))
            #expect(report.filesRewritten == 3)
            #expect(report.entries == 4)
            let reader = try FileArchiveReader(directory: folder, key: new)
            #expect(try reader.entries() == before)
            #expect(try reader.keyIDs().values.allSatisfy { $0.allSatisfy { $0 == Self.keyID(new) } })
            #expect(try reader.verifyManifest().isIntact)
            for path in reader.files() {
                let mode =
                    try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(path).path)[
                        .posixPermissions] as? NSNumber
                #expect(mode?.intValue == 0o600)
            }
            #expect(try await maintenance.rekey().filesRewritten == 0)
            let oldOnly = #expect(throws: FileArchiveError.self) {
                try FileArchiveReader(directory: folder, key: old).entries()
            }
            #expect(oldOnly?.code == "archive.unknown_key")
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder.path + "/contacts").allSatisfy {
                    !$0.hasSuffix(".tmp")
                })
        }
    }

    @Test("rekey without the old key changes nothing and fails; without a current key it refuses")
    func rekeyFailsClosed() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let old = ArchiveFixtures.newKey()
            _ = try await ArchiveFixtures.sink(directory: folder, key: old).archive([ArchiveFixtures.entry(1)])
            let file = folder.appendingPathComponent("contacts/2026-11.jsonl.enc")
            let bytes = try Data(contentsOf: file)
            let error = await #expect(throws: FileArchiveError.self) {
                try await Self.maintenance(directory: folder, key: ArchiveFixtures.newKey()).rekey()
            }
            #expect(error?.code == "archive.unknown_key")
            #expect(try Data(contentsOf: file) == bytes)
            let none = await #expect(throws: FileArchiveError.self) {
                try await Self.maintenance(
                    directory: folder, key: nil, extra: [("encrypt", "false"), ("previousKeys", old)]
                )
                .rekey()
            }
            #expect(none?.code == "archive.rekey_without_key")
        }
    }

    @Test(
        "an entry under an unknown key fails the archive call as permanent; nothing is written again, in clear or not")
    func unknownKeyFailsDeduplication() async throws {
        try await ArchiveFixtures.withFolder { folder in
            _ = try await ArchiveFixtures.sink(directory: folder, key: ArchiveFixtures.newKey()).archive([
                ArchiveFixtures.entry(1)
            ])
            let file = folder.appendingPathComponent("contacts/2026-11.jsonl.enc")
            let bytes = try Data(contentsOf: file)
            for (key, code) in [(ArchiveFixtures.newKey(), "archive.unknown_key"), (nil, "archive.key_required")] {
                let sink = try ArchiveFixtures.sink(directory: folder, key: key)
                let error = await #expect(throws: FileArchiveError.self) {
                    try await sink.archive([ArchiveFixtures.entry(1)])
                }
                #expect(error?.code == code)
                #expect(error?.isTransient == false)
                #expect(try Data(contentsOf: file) == bytes)
                #expect(try FileArchiveReader(directory: folder).files() == ["contacts/2026-11.jsonl.enc"])
            }
        }
    }

    // MARK: Associated data

    @Test("a sealed line moved to another connector's file, or given another operation id, fails authentication")
    func associatedData() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let key = ArchiveFixtures.newKey()
            _ = try await ArchiveFixtures.sink(directory: folder, key: key).archive([
                ArchiveFixtures.entry(1), ArchiveFixtures.entry(2), ArchiveFixtures.entry(3, connector: "hubspot"),
            ])
            let contacts = folder.appendingPathComponent("contacts/2026-11.jsonl.enc")
            let hubspot = folder.appendingPathComponent("hubspot/2026-11.jsonl.enc")
            let lines = try ArchiveFixtures.lines(contacts)
            let original = try Data(contentsOf: hubspot)

            try Data((lines[0] + "\n").utf8).write(to: hubspot)  // moved to another connector
            let moved = #expect(throws: FileArchiveError.self) {
                try FileArchiveReader(directory: folder, key: key).entries(connector: "hubspot")
            }
            #expect(moved?.code == "archive.decrypt_failed")
            #expect(moved?.message.contains("hubspot/2026-11.jsonl.enc:1") == true)
            try original.write(to: hubspot)

            let renamed = lines[0].replacingOccurrences(
                of: ArchiveFixtures.entry(1).operationID, with: ArchiveFixtures.entry(2).operationID)
            #expect(renamed != lines[0])
            try Data((renamed + "\n" + lines[1] + "\n").utf8).write(to: contacts)
            let changed = #expect(throws: FileArchiveError.self) {
                try FileArchiveReader(directory: folder, key: key).entries(connector: "contacts")
            }
            #expect(changed?.code == "archive.decrypt_failed")
            let sinkError = await #expect(throws: FileArchiveError.self) {
                try await ArchiveFixtures.sink(directory: folder, key: key).archive([ArchiveFixtures.entry(5)])
            }
            #expect(sinkError?.code == "archive.decrypt_failed")
        }
    }

    // MARK: Backward compatibility

    @Test(
        "a plain .jsonl file and a line without a key id stay readable, count for de-duplication, and rekey seals them")
    func legacyFormats() async throws {
        try await ArchiveFixtures.withFolder { folder in
            _ = try await ArchiveFixtures.sink(directory: folder).archive([ArchiveFixtures.entry(2)])
            try Data((Self.legacyLine + "\n").utf8).write(
                to: folder.appendingPathComponent("contacts/2026-11.jsonl.enc"))
            #expect(
                try FileArchiveReader(directory: folder).files() == [
                    "contacts/2026-11.jsonl", "contacts/2026-11.jsonl.enc",
                ])

            let reader = try FileArchiveReader(directory: folder, key: Self.legacyKey)
            #expect(try reader.entries() == [ArchiveFixtures.entry(2), ArchiveFixtures.entry(1)])
            let sink = try ArchiveFixtures.sink(directory: folder, key: Self.legacyKey)
            _ = try await sink.archive([ArchiveFixtures.entry(1), ArchiveFixtures.entry(2)])
            #expect(try reader.entries().count == 2)

            let new = ArchiveFixtures.newKey()
            let report = try await Self.maintenance(
                directory: folder, key: new, extra: [("previousKeys", Self.legacyKey)]
            )
            .rekey()
            #expect(report.plainFilesEncrypted == 1)
            #expect(report.entries == 2)
            let rekeyed = try FileArchiveReader(directory: folder, key: new)
            #expect(rekeyed.files() == ["contacts/2026-11.jsonl.enc"])
            #expect(
                try rekeyed.entries().sorted { $0.recordID < $1.recordID } == [
                    ArchiveFixtures.entry(1), ArchiveFixtures.entry(2),
                ])
            #expect(try rekeyed.verifyManifest().isIntact)
        }
    }
}
