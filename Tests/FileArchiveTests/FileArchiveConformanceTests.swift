import ConnectorConformance
import FileArchiveSink
import Foundation
import RetentionCore
import Testing

/// A `file-archive` connector built through its factory, encrypted with a fresh key, into a fresh
/// folder; what it stored is read back with `FileArchiveReader` and the same key.
struct FileArchiveConformanceSubject: ArchiveSinkConformanceSubject {
    /// Where each sink's folder is made; removed by the test.
    let root: URL
    let key = ArchiveFixtures.newKey()

    var secrets: [String] { [key] }

    func makeSink() async throws -> ArchiveSinkUnderTest {
        try make(directory: root.appendingPathComponent("archive-\(UUID().uuidString)"))
    }

    /// The folder path is a file: the archive folder cannot be created.
    func makeBrokenSink() async throws -> ArchiveSinkUnderTest? {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("not-a-folder-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return try make(directory: file.appendingPathComponent("archive"))
    }

    private func make(directory: URL) throws -> ArchiveSinkUnderTest {
        let sink = try ArchiveFixtures.sink(directory: directory, key: key)
        let key = key
        return ArchiveSinkUnderTest(sink: sink) {
            try FileArchiveReader(directory: directory, key: key).entries()
        }
    }
}

@Suite struct FileArchiveConformanceTests {
    @Test(arguments: SinkConformanceCheck.archiveChecks)
    func conformance(_ check: SinkConformanceCheck) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "filearchive-conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let outcome = try await runSinkConformance(check, subject: FileArchiveConformanceSubject(root: root))
        if case .notApplicable(let reason) = outcome {
            Issue.record(Comment(rawValue: "\(check) does not apply: \(reason)"), severity: .warning)
        }
    }

    @Test(arguments: SinkConformanceCheck.archiveChecks)
    func conformanceCatchesAMisbehavingSink(_ check: SinkConformanceCheck) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "filearchive-conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let subject = MisbehavingArchiveSubject(fault: check, inner: FileArchiveConformanceSubject(root: root))
        let failure = await #expect(throws: SinkConformanceFailure.self) {
            try await runSinkConformance(check, subject: subject)
        }
        #expect(failure?.check == check)
    }

    @Test func aCheckOfTheOtherKindIsRefused() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "filearchive-conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        await #expect(throws: SinkConformanceFailure.self) {
            try await runSinkConformance(.koreanTextSurvives, subject: FileArchiveConformanceSubject(root: root))
        }
    }
}
