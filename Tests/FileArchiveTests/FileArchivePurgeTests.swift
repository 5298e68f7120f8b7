import FileArchiveSink
import Foundation
import RetentionCore
import Testing

@Suite("FileArchive purge")
struct FileArchivePurgeTests {
    static let day: TimeInterval = 86_400

    @Test(
        "entries older than `keep` are purged: whole months removed, a partly expired month rewritten, counts returned")
    func purgesExpiredEntries() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let key = ArchiveFixtures.newKey()
            let october = ArchiveFixtures.entry(1, offset: -410 * Self.day)  // 2025-10-15
            let expired = ArchiveFixtures.entry(2, offset: -384 * Self.day)  // 2025-11-10
            let notYet = ArchiveFixtures.entry(3, offset: -365 * Self.day + 3600)  // 2025-11-29T04:00Z
            let fresh = ArchiveFixtures.entry(4)
            let other = ArchiveFixtures.entry(5, connector: "hubspot", offset: -400 * Self.day)  // 2025-10-25
            _ = try await ArchiveFixtures.sink(directory: folder, key: key).archive([
                october, expired, notYet, fresh, other,
            ])
            let logs = LogCapture()
            let maintenance = try FileArchiveMaintenance(
                settings: ArchiveFixtures.settings(directory: folder.path, key: key, extra: [("keep", "1y")]),
                context: ArchiveFixtures.context(logs))
            #expect(maintenance.keep == Period(years: 1))
            let purged = try await maintenance.purge()
            #expect(
                purged == [
                    ArchivePurge(connector: "contacts", month: "2025-10", entries: 1, removedFile: true),
                    ArchivePurge(connector: "contacts", month: "2025-11", entries: 1, removedFile: false),
                    ArchivePurge(connector: "hubspot", month: "2025-10", entries: 1, removedFile: true),
                ])
            let reader = try FileArchiveReader(directory: folder, key: key)
            #expect(reader.files() == ["contacts/2025-11.jsonl.enc", "contacts/2026-11.jsonl.enc"])
            #expect(try reader.entries() == [notYet, fresh])
            #expect(try reader.verifyManifest().isIntact)
            #expect(try await maintenance.purge() == [])
            for value in [october, expired, other].flatMap({ Array($0.fields.values) + [$0.recordID] }) {
                #expect(!logs.allText.contains(value))
            }
            // The purged operation is not "already archived" any more, but nothing else is disturbed.
            _ = try await ArchiveFixtures.sink(directory: folder, key: key).archive([fresh])
            #expect(try reader.entries() == [notYet, fresh])
        }
    }

    @Test("without `keep` nothing is purged")
    func noKeep() async throws {
        try await ArchiveFixtures.withFolder { folder in
            let key = ArchiveFixtures.newKey()
            _ = try await ArchiveFixtures.sink(directory: folder, key: key).archive([
                ArchiveFixtures.entry(1, offset: -4000 * Self.day)
            ])
            let maintenance = try FileArchiveMaintenance(
                settings: ArchiveFixtures.settings(directory: folder.path, key: key), context: ArchiveFixtures.context()
            )
            #expect(maintenance.keep == nil)
            #expect(try await maintenance.purge() == [])
            #expect(try FileArchiveReader(directory: folder, key: key).entries().count == 1)
        }
    }

    @Test("a bad `keep` is a config error on that key")
    func badKeep() {
        let error = #expect(throws: ConfigError.self) {
            try ConnectorFactory.fileArchive.make(
                ArchiveFixtures.settings(
                    directory: "/tmp/unused", key: ArchiveFixtures.newKey(), extra: [("keep", "a year")]),
                ArchiveFixtures.context())
        }
        #expect(error?.code == "config.period")
        #expect(error?.key == "connectors[2].settings.keep")
    }
}
