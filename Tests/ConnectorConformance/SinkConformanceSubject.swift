public import RetentionCore

/// A message as the subject reads it back from where its sink delivered it (a folder of `.eml`
/// files, an SMTP server's store), decoded: encoded-words and base64 undone.
public struct ReadBackNotice: Sendable, Equatable {
    /// The bare address the message is for.
    public var recipient: String
    /// The display name of the recipient, nil when the message has none.
    public var recipientName: String?
    public var subject: String
    public var textBody: String
    public var htmlBody: String?

    public init(recipient: String, recipientName: String?, subject: String, textBody: String, htmlBody: String?) {
        self.recipient = recipient
        self.recipientName = recipientName
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
    }
}

/// A notice sink under test and a way to read back what it delivered.
public struct NoticeSinkUnderTest: Sendable {
    public var sink: any NoticeSink
    /// Every message this sink delivered so far, in any order.
    public var delivered: @Sendable () async throws -> [ReadBackNotice]
    /// Releases what the sink holds (a connection); called once when the check is done.
    public var close: @Sendable () async -> Void

    public init(
        sink: any NoticeSink, delivered: @escaping @Sendable () async throws -> [ReadBackNotice],
        close: @escaping @Sendable () async -> Void = {}
    ) {
        self.sink = sink
        self.delivered = delivered
        self.close = close
    }
}

/// A notice sink implementation under test.
///
/// Every `makeSink()` must return a sink that delivers to a place no other sink shares (a new
/// folder, a new server): checks count what arrives.
public protocol NoticeSinkConformanceSubject: Sendable {
    /// A fresh, working sink.
    func makeSink() async throws -> NoticeSinkUnderTest
    /// A fresh sink whose transport fails (a folder path that is a file, a port nobody listens on),
    /// for `transportFailureIsTransient`; nil only when that check is excluded.
    func makeBrokenSink() async throws -> NoticeSinkUnderTest?
    /// Texts that must never appear in an error: passwords, user names, keys.
    var secrets: [String] { get }
    /// Checks that do not apply to this sink, each with the reason (shown when the check is skipped).
    var exclusions: [SinkConformanceCheck: String] { get }
}

extension NoticeSinkConformanceSubject {
    public func makeBrokenSink() async throws -> NoticeSinkUnderTest? { nil }
    public var secrets: [String] { [] }
    public var exclusions: [SinkConformanceCheck: String] { [:] }
}

/// An archive sink under test and a way to read back what it stored.
public struct ArchiveSinkUnderTest: Sendable {
    public var sink: any ArchiveSink
    /// Every entry this sink stored so far, in any order (for a file archive: `FileArchiveReader`).
    public var archived: @Sendable () async throws -> [ArchiveEntry]

    public init(sink: any ArchiveSink, archived: @escaping @Sendable () async throws -> [ArchiveEntry]) {
        self.sink = sink
        self.archived = archived
    }
}

/// An archive sink implementation under test.
///
/// Every `makeSink()` must return a sink that stores in a place no other sink shares.
public protocol ArchiveSinkConformanceSubject: Sendable {
    /// A fresh, working sink.
    func makeSink() async throws -> ArchiveSinkUnderTest
    /// A fresh sink whose storage fails (a folder path that is a file), for
    /// `storageFailureIsTransient`; nil only when that check is excluded.
    func makeBrokenSink() async throws -> ArchiveSinkUnderTest?
    /// Texts that must never appear in an error: keys, passwords.
    var secrets: [String] { get }
    /// Checks that do not apply to this sink, each with the reason (shown when the check is skipped).
    var exclusions: [SinkConformanceCheck: String] { get }
}

extension ArchiveSinkConformanceSubject {
    public func makeBrokenSink() async throws -> ArchiveSinkUnderTest? { nil }
    public var secrets: [String] { [] }
    public var exclusions: [SinkConformanceCheck: String] { [:] }
}

/// How a check ended when it did not throw.
public enum SinkConformanceOutcome: Sendable, Equatable {
    case passed
    /// The check does not apply (an exclusion of the subject, or a capability the sink lacks).
    case notApplicable(reason: String)
}

/// A sink check that did not hold: names the check and what was wrong (operation ids and field
/// names only, never values).
public struct SinkConformanceFailure: Error, CustomStringConvertible, Sendable {
    public var check: SinkConformanceCheck
    public var message: String

    public init(check: SinkConformanceCheck, message: String) {
        self.check = check
        self.message = message
    }

    public var description: String { "\(check): \(message)" }
}
