import FileArchiveSink
import Foundation
import RetentionCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("FileArchiveSink")
struct FileArchiveSinkTests {
    @Test("the factory declares type file-archive, the archive capability and secret keys")
    func spec() {
        let spec = ConnectorFactory.fileArchive.spec
        #expect(spec.type == "file-archive")
        #expect(spec.capabilities == [.archive])
        #expect(spec.fields.map(\.name) == ["directory", "key", "previousKeys", "encrypt", "generateKey", "keep"])
        #expect(spec.fields.first { $0.name == "previousKeys" }?.secret == true)
        #expect(spec.fields.first { $0.name == "encrypt" }?.defaultValue == "true")
        #expect(spec.fields.first { $0.name == "directory" }?.required == true)
        #expect(spec.fields.first { $0.name == "key" }?.secret == true)
        #expect(spec.fields.first { $0.name == "key" }?.required == false)
    }

    @Test(
        "with `encrypt: false` written, an unencrypted archive round-trips as JSON Lines and the factory warns once",
        arguments: [nil, "", "  "])
    func plainRoundTrip(key: String?) async throws {
        try await ArchiveFixtures.withFolder { folder in
            let logs = LogCapture()
            let sink = try ArchiveFixtures.sink(directory: folder, key: key, extra: [("encrypt", "false")], logs: logs)
            #expect(logs.entries.filter { $0.level == .warning }.count == 1)
            let entries = [ArchiveFixtures.entry(1), ArchiveFixtures.entry(2, offset: 60)]
            let receipt = try await sink.archive(entries)
            #expect(receipt == "contacts/2026-11.jsonl")
            let lines = try ArchiveFixtures.lines(folder.appendingPathComponent("contacts/2026-11.jsonl"))
            #expect(lines.count == 2)
            let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
            #expect(object?["operationID"] as? String == entries[0].operationID)
            #expect(object?["archivedAt"] as? String == "2026-11-29T03:00:00.000Z")
            #expect(try FileArchiveReader(directory: folder).entries() == entries)
            #expect(logs.entries.filter { $0.level == .warning }.count == 1)
        }
    }

    @Test("temporary files an interrupted write left (they hold archived entries) are removed at the next archive write")
    func leftoversAreRemoved() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let logs = LogCapture()
            let key = ArchiveFixtures.newKey()
            let sink = try ArchiveFixtures.sink(directory: folder, key: key, logs: logs)
            _ = try await sink.archive([ArchiveFixtures.entry(1)])
            let planted = [
                folder.appendingPathComponent("contacts/.2026-11.jsonl.enc.lethe-0123.tmp"),
                folder.appendingPathComponent("contacts/2026-11.jsonl.enc.\(UUID().uuidString).tmp"),
                folder.appendingPathComponent("MANIFEST.sha256.\(UUID().uuidString).tmp"),
            ]
            for file in planted { FileManager.default.createFile(atPath: file.path, contents: Data("{}".utf8)) }
            _ = try await sink.archive([ArchiveFixtures.entry(2)])
            for file in planted { #expect(!FileManager.default.fileExists(atPath: file.path), "\(file.lastPathComponent)") }
            #expect(logs.entries.contains { $0.message.contains("interrupted archive write") })
            #expect(try FileArchiveReader(directory: folder, key: key).entries().count == 2)
        }
    }

    @Test("the archive's folders are 0700 and its files 0600 from their creation, whatever the umask")
    func privateModes() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let previous = umask(0o002)
            defer { umask(previous) }
            let root = folder.appendingPathComponent("archive")
            let sink = try ArchiveFixtures.sink(directory: root, key: ArchiveFixtures.newKey(), logs: LogCapture())
            _ = try await sink.archive([ArchiveFixtures.entry(1)])
            func mode(_ url: URL) throws -> Int { try (FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1 }
            #expect(try mode(root) == 0o700)
            #expect(try mode(root.appendingPathComponent("contacts")) == 0o700)
            for name in try FileManager.default.subpathsOfDirectory(atPath: root.path) {
                let url = root.appendingPathComponent(name)
                var isFolder: ObjCBool = false
                FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder)
                #expect(try mode(url) == (isFolder.boolValue ? 0o700 : 0o600), "\(name)")
            }
        }
    }

    @Test(
        "an encrypted archive stores AES-GCM sealed lines, only the operation id in clear, and round-trips with the key"
    )
    func encryptedRoundTrip() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let key = ArchiveFixtures.newKey()
            let logs = LogCapture()
            let sink = try ArchiveFixtures.sink(directory: folder, key: key, logs: logs)
            let entries = [ArchiveFixtures.entry(1), ArchiveFixtures.entry(2)]
            let receipt = try await sink.archive(entries)
            #expect(receipt == "contacts/2026-11.jsonl.enc")
            #expect(
                !FileManager.default.fileExists(atPath: folder.appendingPathComponent("contacts/2026-11.jsonl").path))
            let file = folder.appendingPathComponent("contacts/2026-11.jsonl.enc")
            let raw = try String(decoding: Data(contentsOf: file), as: UTF8.self)
            for value in entries.flatMap({ Array($0.fields.values) + [$0.recordID, $0.reference] }) {
                #expect(!raw.contains(value))
            }
            let lines = try ArchiveFixtures.lines(file)
            #expect(lines.count == 2)
            for (line, entry) in zip(lines, entries) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
                #expect(object.keys.sorted() == ["box", "kid", "op"])
                #expect(object["op"] == entry.operationID)
                let combined = try #require(Data(base64Encoded: object["box"] ?? ""))
                #expect(combined.count > 12 + 16 + 100)
            }
            #expect(try FileArchiveReader(directory: folder, key: key).entries() == entries)
            #expect(logs.entries.filter { $0.level == .warning }.isEmpty)
        }
    }

    @Test(
        "re-archiving an operation stores nothing new, in the same call, later, or after a restart",
        arguments: [false, true])
    func idempotent(encrypted: Bool) async throws {
        try await ArchiveFixtures.withFolder { folder in
            let key = encrypted ? ArchiveFixtures.newKey() : nil
            let sink = try ArchiveFixtures.sink(directory: folder, key: key)
            let first = ArchiveFixtures.entry(1)
            let receipt = try await sink.archive([first, first, ArchiveFixtures.entry(2)])
            let file = folder.appendingPathComponent(receipt)
            let before = try Data(contentsOf: file)

            var retried = first
            retried.archivedAt = first.archivedAt.addingTimeInterval(86_400 * 40)
            #expect(try await sink.archive([first]) == receipt)
            #expect(try await sink.archive([retried]) == receipt)
            let restarted = try ArchiveFixtures.sink(directory: folder, key: key)
            #expect(try await restarted.archive([first, ArchiveFixtures.entry(2)]) == receipt)
            #expect(try Data(contentsOf: file) == before)
            #expect(
                try FileArchiveReader(directory: folder, key: key).entries().map(\.operationID)
                    == [first.operationID, ArchiveFixtures.entry(2).operationID])
            #expect(try FileArchiveReader(directory: folder).files() == [receipt])
        }
    }

    @Test("an entry another process appended is seen, and a half-written last line is cut off before appending")
    func crashAndConcurrency() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let first = try ArchiveFixtures.sink(directory: folder)
            let second = try ArchiveFixtures.sink(directory: folder)
            _ = try await first.archive([ArchiveFixtures.entry(1)])
            _ = try await second.archive([ArchiveFixtures.entry(2)])
            _ = try await first.archive([ArchiveFixtures.entry(2)])
            let file = folder.appendingPathComponent("contacts/2026-11.jsonl")
            #expect(try ArchiveFixtures.lines(file).count == 2)

            let handle = try FileHandle(forWritingTo: file)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("{\"operationID\":\"op-torn".utf8))
            try handle.close()
            #expect(try FileArchiveReader(directory: folder).entries().count == 2)
            _ = try await first.archive([ArchiveFixtures.entry(3)])
            #expect(try FileArchiveReader(directory: folder).entries().map(\.recordID) == ["rec-1", "rec-2", "rec-3"])
            #expect(!(try String(decoding: Data(contentsOf: file), as: UTF8.self).contains("op-torn")))
            #expect(try FileArchiveReader(directory: folder).verifyManifest().isIntact)
        }
    }

    @Test("entries split by connector and by the UTC month of archivedAt")
    func monthSplit() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let sink = try ArchiveFixtures.sink(directory: folder)
            let november = ArchiveFixtures.entry(1, offset: 160_200)  // 2026-11-30T23:30Z, already December in Seoul
            let december = ArchiveFixtures.entry(2, offset: 163_800)  // 2026-12-01T00:30Z
            let other = ArchiveFixtures.entry(3, connector: "hubspot")
            let receipt = try await sink.archive([november, december, other])
            #expect(receipt == "contacts/2026-11.jsonl, contacts/2026-12.jsonl, hubspot/2026-11.jsonl")
            let reader = try FileArchiveReader(directory: folder)
            #expect(reader.files() == ["contacts/2026-11.jsonl", "contacts/2026-12.jsonl", "hubspot/2026-11.jsonl"])
            #expect(try ArchiveFixtures.lines(folder.appendingPathComponent("contacts/2026-11.jsonl")).count == 1)
            #expect(try reader.entries(connector: "contacts") == [november, december])
            #expect(try reader.entries(connector: "hubspot") == [other])
        }
    }

    @Test(
        "an invalid key is a config error on the key that never shows the key",
        arguments: [
            "not base64 at all!", Data(repeating: 7, count: 16).base64EncodedString(),
            Data(repeating: 9, count: 33).base64EncodedString(),
        ])
    func badKey(key: String) {
        let logs = LogCapture()
        let error = #expect(throws: ConfigError.self) {
            try ConnectorFactory.fileArchive.make(
                ArchiveFixtures.settings(directory: "/tmp/unused", key: key), ArchiveFixtures.context(logs))
        }
        #expect(error?.code == "config.invalid_key")
        #expect(error?.key == "connectors[2].settings.key")
        #expect(error?.location?.line == 6)
        #expect(error.map { $0.message.contains(key) } == false)
        #expect(!logs.allText.contains(key))
    }

    @Test("logs carry counts and file names, never field values")
    func noPersonalDataInLogs() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let logs = LogCapture()
            let key = ArchiveFixtures.newKey()
            let sink = try ArchiveFixtures.sink(directory: folder, key: key, logs: logs)
            let entries = (1...3).map { ArchiveFixtures.entry($0) }
            _ = try await sink.archive(entries)
            _ = try await sink.archive(entries)
            #expect(!logs.entries.isEmpty)
            for value in entries.flatMap({ Array($0.fields.values) + [$0.recordID] }) + [key] {
                #expect(!logs.allText.contains(value))
            }
        }
    }

    @Test(
        "a connector name that is not a safe folder name is a permanent failure",
        arguments: ["../up", ".hidden", "a/b", ""])
    func unsafeConnector(name: String) async throws {
        try await ArchiveFixtures.withFolder { folder in
            let sink = try ArchiveFixtures.sink(directory: folder)
            let error = await #expect(throws: FileArchiveError.self) {
                try await sink.archive([ArchiveFixtures.entry(1, connector: name)])
            }
            #expect(error?.isTransient == false)
        }
    }
}
