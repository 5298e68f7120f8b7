extension ConnectorTemplates {
    /// The conforming type of a notice sink: `deliver` throws a "not implemented" error.
    static func sinkType(_ name: ConnectorName) -> GeneratedFile {
        GeneratedFile(
            path: "\(name.folder)/\(name.target).swift",
            contents: #"""
                import RetentionCore

                /// Delivers extension notices through \#(name.name).
                ///
                /// Contracts (`swift test --filter \#(name.testTarget)` runs the sink conformance suite on them):
                /// - Delivering the same `operationID` twice produces at most one message in effect and returns
                ///   the same receipt.
                /// - The receipt (a file name, a Message-ID) holds no personal data.
                /// - Errors are `\#(name.name)Error`s: a bad recipient is permanent, a failing transport
                ///   transient; no error names the recipient, the subject, the body or a secret.
                struct \#(name.target): NoticeSink {
                    let configuration: \#(name.name)Configuration
                    let log: LogFunction

                    func deliver(_ notice: Notice) async throws -> String {
                        throw \#(name.name)Error.notImplemented("deliver(_:)")
                    }
                }

                """#)
    }

    static func sinkFactory(_ name: ConnectorName) -> GeneratedFile {
        GeneratedFile(
            path: "\(name.folder)/ConnectorFactory+\(name.name).swift",
            contents: #"""
                public import RetentionCore

                extension ConnectorFactory {
                    /// `type: \#(name.configType)`: a `NoticeSink` delivering extension notices through \#(name.name).
                    public static var \#(name.factory): ConnectorFactory {
                        ConnectorFactory(spec: \#(name.name)Configuration.spec) { settings, context in
                            let configuration = try \#(name.name)Configuration(settings: settings)
                            return ConnectorInstance(noticeSink: \#(name.target)(configuration: configuration, log: context.log))
                        }
                    }
                }

                """#)
    }

    static func sinkTest(_ name: ConnectorName) -> GeneratedFile {
        GeneratedFile(
            path: "\(name.testFolder)/\(name.name)ConformanceTests.swift",
            contents: #"""
                import ConnectorConformance
                import Foundation
                import RetentionCore
                import Testing
                import \#(name.target)

                /// A `\#(name.configType)` sink built through its factory, as `lethe` builds it, and a way to read
                /// back what it delivered.
                struct \#(name.name)ConformanceSubject: NoticeSinkConformanceSubject {
                    let folder: URL

                    /// A fresh sink delivering to a place no other sink shares (a fake server, a folder under
                    /// `folder`), and a reader of what arrived there.
                    func makeSink() async throws -> NoticeSinkUnderTest {
                        NoticeSinkUnderTest(sink: try make()) {
                            throw ReadBackMissing()
                        }
                    }

                    // func makeBrokenSink() async throws -> NoticeSinkUnderTest? { a sink whose transport fails }

                    private func make() throws -> any NoticeSink {
                        let settings = ConfigNode(value: .mapping([]), location: nil, keyPath: "settings")
                        let context = ConnectorContext(
                            name: "\#(name.configType)", clock: FixedClock(SinkConformanceFixtures.date), log: { _, _, _ in },
                            stateDirectory: folder, configDirectory: folder)
                        guard let sink = try ConnectorFactory.\#(name.factory).make(settings, context).noticeSink else {
                            throw ReadBackMissing(description: "the factory built no notice sink")
                        }
                        return sink
                    }
                }

                /// What the subject cannot do yet.
                struct ReadBackMissing: Error, CustomStringConvertible {
                    var description = "\#(name.name)ConformanceSubject cannot read back what the sink delivered yet"
                }

                @Suite struct \#(name.name)ConformanceTests {
                    /// Every notice check of the sink conformance suite; a failure names its check.
                    @Test(arguments: SinkConformanceCheck.noticeChecks)
                    func conformance(_ check: SinkConformanceCheck) async throws {
                        let folder = FileManager.default.temporaryDirectory
                            .appendingPathComponent("\#(name.configType)-conformance-\(UUID().uuidString)")
                        defer { try? FileManager.default.removeItem(at: folder) }
                        let outcome = try await runSinkConformance(check, subject: \#(name.name)ConformanceSubject(folder: folder))
                        if case .notApplicable(let reason) = outcome { try Test.cancel(Comment(rawValue: reason)) }
                    }
                }

                """#)
    }
}
