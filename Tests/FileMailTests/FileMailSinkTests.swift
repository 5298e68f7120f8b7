import FileMailSink
import Foundation
import MailComposer
import RetentionCore
import Testing

@Suite("FileMailSink")
struct FileMailSinkTests {
    /// A fresh folder under the temporary directory, removed after `body`.
    private func withFolder(_ body: (URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("filemail-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }

    private func makeSink(directory: String) throws -> any NoticeSink {
        let settings = ConfigNode(
            value: .mapping([
                (
                    key: "directory",
                    node: ConfigNode(value: .scalar(directory), location: nil, keyPath: "settings.directory")
                )
            ]),
            location: SourceLocation(file: "lethe.yaml", line: 4),
            keyPath: "settings"
        )
        let context = ConnectorContext(
            name: "outbox", clock: FixedClock(MailFixtures.date), log: { _, _, _ in },
            stateDirectory: FileManager.default.temporaryDirectory,
            configDirectory: FileManager.default.temporaryDirectory
        )
        return try #require(try ConnectorFactory.fileMail.make(settings, context).noticeSink)
    }

    private func files(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test("the factory declares type file-mail, the notices capability and a required directory")
    func spec() {
        let spec = ConnectorFactory.fileMail.spec
        #expect(spec.type == "file-mail")
        #expect(spec.capabilities == [.notices])
        #expect(spec.fields.map(\.name) == ["directory"])
        #expect(spec.fields.first?.required == true)
    }

    @Test("settings without a directory are a config error naming the key")
    func missingDirectory() {
        let settings = ConfigNode(
            value: .mapping([]), location: SourceLocation(file: "lethe.yaml", line: 7),
            keyPath: "connectors[1].settings")
        let context = ConnectorContext(
            name: "outbox", clock: FixedClock(MailFixtures.date), log: { _, _, _ in },
            stateDirectory: FileManager.default.temporaryDirectory,
            configDirectory: FileManager.default.temporaryDirectory
        )
        let error = #expect(throws: ConfigError.self) { try ConnectorFactory.fileMail.make(settings, context) }
        #expect(error?.code == "config.missing")
        #expect(error?.key == "connectors[1].settings.directory")
    }

    @Test("each notice becomes <operationID>.eml in a folder created on demand; the receipt is the file name")
    func oneFilePerOperation() async throws {
        try await withFolder { folder in
            let nested = folder.appendingPathComponent("outbox/ko")
            let sink = try makeSink(directory: nested.path)
            let first = try await sink.deliver(MailFixtures.notice(id: "op-aaaaaaaaaaaaaaaaaaaaaaaa"))
            let second = try await sink.deliver(
                MailFixtures.notice(id: "op-bbbbbbbbbbbbbbbbbbbbbbbb", html: "<p>안녕</p>"))
            #expect(first == "op-aaaaaaaaaaaaaaaaaaaaaaaa.eml")
            #expect(second == "op-bbbbbbbbbbbbbbbbbbbbbbbb.eml")
            #expect(files(nested) == [first, second])
            let bytes = try [UInt8](Data(contentsOf: nested.appendingPathComponent(second)))
            #expect(MailFixtures.crlfLines(bytes) != nil)
            let parsed = try ParsedMIMEMessage(bytes: bytes)
            #expect(parsed.value(of: "Message-ID") == "<op-bbbbbbbbbbbbbbbbbbbbbbbb@lethe.example>")
            #expect(parsed.parts.map(\.text) == [MailFixtures.canonical(MailFixtures.notice().textBody), "<p>안녕</p>"])
        }
    }

    @Test("a retry writes nothing: same receipt, same bytes, no second or temporary file")
    func retryWritesNothing() async throws {
        try await withFolder { folder in
            let sink = try makeSink(directory: folder.path)
            let notice = MailFixtures.notice(text: "first text")
            let receipt = try await sink.deliver(notice)
            let path = folder.appendingPathComponent(receipt)
            let original = try Data(contentsOf: path)

            var changed = notice
            changed.textBody = "second text"
            changed.subject = "another subject"
            let again = try await sink.deliver(changed)
            let againFromNewSink = try await makeSink(directory: folder.path).deliver(changed)
            #expect(again == receipt)
            #expect(againFromNewSink == receipt)
            #expect(try Data(contentsOf: path) == original)
            #expect(files(folder) == [receipt])
        }
    }

    @Test(
        "a bad recipient is a permanent failure and writes no file",
        arguments: [
            "hong@example.com\r\nBcc: victim@example.com", "hong@@example.com", "not-an-address",
        ])
    func badRecipient(address: String) async throws {
        try await withFolder { folder in
            let sink = try makeSink(directory: folder.path)
            do {
                _ = try await sink.deliver(MailFixtures.notice(recipient: address))
                Issue.record("a bad address was delivered")
            } catch let failure as any ConnectorFailure {
                #expect(failure.isTransient == false)
                #expect(failure.category == .permanent)
                #expect(!failure.message.contains(address))
            }
            #expect(files(folder).isEmpty)
        }
    }

    @Test(
        "an operation id that is not a safe file name is refused permanently",
        arguments: ["../escape", ".hidden", "a/b", "op id"])
    func unsafeOperationID(id: String) async throws {
        try await withFolder { folder in
            let sink = try makeSink(directory: folder.appendingPathComponent("out").path)
            let error = await #expect(throws: FileMailError.self) {
                try await sink.deliver(MailFixtures.notice(id: id))
            }
            #expect(error?.code == "filemail.bad_operation_id")
            #expect(error?.isTransient == false)
            #expect(files(folder).isEmpty)
        }
    }

    @Test("an I/O failure (the folder is a file) is transient")
    func ioFailureIsTransient() async throws {
        try await withFolder { folder in
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let blocker = folder.appendingPathComponent("blocker")
            try Data("x".utf8).write(to: blocker)
            let sink = try makeSink(directory: blocker.appendingPathComponent("outbox").path)
            let error = await #expect(throws: FileMailError.self) { try await sink.deliver(MailFixtures.notice()) }
            #expect(error?.isTransient == true)
            #expect(error?.category == .transient)
        }
    }

    @Test("concurrent deliveries of one operation leave exactly one complete file")
    func concurrentDeliveries() async throws {
        try await withFolder { folder in
            let sink = try makeSink(directory: folder.path)
            let notice = MailFixtures.notice(html: "<p>x</p>")
            let receipts = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 { group.addTask { try await sink.deliver(notice) } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(receipts == ["op-0123456789abcdef01234567.eml"])
            #expect(files(folder) == ["op-0123456789abcdef01234567.eml"])
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent("op-0123456789abcdef01234567.eml")))
            #expect(bytes == (try MIMEMessage(notice: notice).render()))
        }
    }
}
