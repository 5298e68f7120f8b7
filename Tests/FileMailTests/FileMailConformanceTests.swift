import ConnectorConformance
import FileMailSink
import Foundation
import MailTesting
import RetentionCore
import Testing

/// A `file-mail` connector built through its factory into a fresh folder; what it delivered is read
/// back from the folder's `.eml` files.
struct FileMailConformanceSubject: NoticeSinkConformanceSubject {
    /// Where each sink's folder is made; removed by the test.
    let root: URL

    func makeSink() async throws -> NoticeSinkUnderTest {
        try make(directory: root.appendingPathComponent("outbox-\(UUID().uuidString)"))
    }

    /// The folder path is a file: the folder cannot be created.
    func makeBrokenSink() async throws -> NoticeSinkUnderTest? {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("not-a-folder-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return try make(directory: file.appendingPathComponent("outbox"))
    }

    private func make(directory: URL) throws -> NoticeSinkUnderTest {
        let settings = ConfigNode(
            value: .mapping([
                (
                    key: "directory",
                    node: ConfigNode(value: .scalar(directory.path), location: nil, keyPath: "settings.directory")
                )
            ]),
            location: nil, keyPath: "settings")
        let context = ConnectorContext(
            name: "outbox", clock: FixedClock(SinkConformanceFixtures.date), log: { _, _, _ in },
            stateDirectory: root, configDirectory: root)
        guard let sink = try ConnectorFactory.fileMail.make(settings, context).noticeSink else {
            throw CocoaError(.featureUnsupported)
        }
        return NoticeSinkUnderTest(sink: sink) {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
                .filter { $0.hasSuffix(".eml") }.sorted()
            return try names.map { name in
                try ReadBackNotice(mime: [UInt8](Data(contentsOf: directory.appendingPathComponent(name))))
            }
        }
    }
}

@Suite struct FileMailConformanceTests {
    @Test(arguments: SinkConformanceCheck.noticeChecks)
    func conformance(_ check: SinkConformanceCheck) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "filemail-conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let outcome = try await runSinkConformance(check, subject: FileMailConformanceSubject(root: root))
        if case .notApplicable(let reason) = outcome {
            Issue.record(Comment(rawValue: "\(check) does not apply: \(reason)"), severity: .warning)
        }
    }

    @Test(arguments: SinkConformanceCheck.noticeChecks)
    func conformanceCatchesAMisbehavingSink(_ check: SinkConformanceCheck) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "filemail-conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let subject = MisbehavingNoticeSubject(fault: check, inner: FileMailConformanceSubject(root: root))
        let failure = await #expect(throws: SinkConformanceFailure.self) {
            try await runSinkConformance(check, subject: subject)
        }
        #expect(failure?.check == check)
    }

    @Test func anExclusionNeedsAWrittenReason() async throws {
        struct Unexplained: NoticeSinkConformanceSubject {
            let inner: FileMailConformanceSubject
            var exclusions: [SinkConformanceCheck: String] { [.koreanTextSurvives: " "] }
            func makeSink() async throws -> NoticeSinkUnderTest { try await inner.makeSink() }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "filemail-conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let failure = await #expect(throws: SinkConformanceFailure.self) {
            try await runSinkConformance(
                .koreanTextSurvives, subject: Unexplained(inner: FileMailConformanceSubject(root: root)))
        }
        #expect(failure?.message == "an exclusion needs a written reason")
    }
}
