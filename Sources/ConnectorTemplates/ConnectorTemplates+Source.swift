extension ConnectorTemplates {
    /// The conforming type of a source: every requirement throws a "not implemented" error.
    static func sourceType(_ name: ConnectorName) -> GeneratedFile {
        GeneratedFile(
            path: "\(name.folder)/\(name.target).swift",
            contents: #"""
                import RetentionCore

                /// Reads \#(name.name) records and applies deletes and erasures to them.
                ///
                /// Contracts (`swift test --filter \#(name.testTarget)` runs the conformance suite on them):
                /// - `pull` yields every record exactly once per full pull, in batches, in bounded memory; a
                ///   failure ends the stream with an error. No field value is ever logged.
                /// - `read(ids:)` returns the current version of the given records; ids that no longer exist
                ///   are absent.
                /// - `apply` is idempotent (deleting what is gone is `.alreadyGone`, erasing what is erased is
                ///   `.applied`) and returns one outcome per operation, in order; a thrown error means none of
                ///   the operations was applied.
                struct \#(name.target): RecordSource, RecordWriter {
                    let configuration: \#(name.name)Configuration
                    let log: LogFunction

                    func check() async throws {
                        throw \#(name.name)Error.notImplemented("check()")
                    }

                    func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error> {
                        AsyncThrowingStream { $0.finish(throwing: \#(name.name)Error.notImplemented("pull(_:)")) }
                    }

                    func read(ids: [String]) async throws -> [SourceRecord] {
                        throw \#(name.name)Error.notImplemented("read(ids:)")
                    }

                    func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
                        throw \#(name.name)Error.notImplemented("apply(_:)")
                    }
                }

                """#)
    }

    static func sourceFactory(_ name: ConnectorName) -> GeneratedFile {
        GeneratedFile(
            path: "\(name.folder)/ConnectorFactory+\(name.name).swift",
            contents: #"""
                public import RetentionCore

                extension ConnectorFactory {
                    /// `type: \#(name.configType)`: a source of \#(name.name) records with write-back (deletes, erasures).
                    public static var \#(name.factory): ConnectorFactory {
                        ConnectorFactory(spec: \#(name.name)Configuration.spec) { settings, context in
                            let configuration = try \#(name.name)Configuration(settings: settings)
                            let connector = \#(name.target)(configuration: configuration, log: context.log)
                            return ConnectorInstance(source: connector, writer: connector)
                        }
                    }
                }

                """#)
    }

    static func sourceTest(_ name: ConnectorName) -> GeneratedFile {
        GeneratedFile(
            path: "\(name.testFolder)/\(name.name)ConformanceTests.swift",
            contents: #"""
                import ConnectorConformance
                import Foundation
                import RetentionCore
                import Testing
                import \#(name.target)

                /// A `\#(name.configType)` connector built through its factory, as `lethe` builds it, whose source
                /// holds exactly the seeded records.
                struct \#(name.name)ConformanceSubject: ConformanceSubject {
                    let folder: URL

                    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance {
                        // Put `records` where the connector reads them (a fake server, a sandbox account, a
                        // file under `folder`) and point the settings at it: every call needs a fresh place.
                        let settings = ConfigNode(value: .mapping([]), location: nil, keyPath: "settings")
                        let context = ConnectorContext(
                            name: "\#(name.configType)", clock: FixedClock(Date(timeIntervalSince1970: 1_750_000_000)),
                            log: { _, _, _ in }, stateDirectory: folder, configDirectory: folder)
                        return try ConnectorFactory.\#(name.factory).make(settings, context)
                    }

                    // The checks that change the system behind the connector or make it fail (a record
                    // changed after the listing, a batch answer leaving ids out, 429, 503, timeouts) need
                    // `makeUnderTest(seededWith:)` to return a `SourceUnderTest` with a `ConformanceBackend`
                    // for that system; until then each fails saying so. A check the connector cannot run
                    // goes in `exclusions`, with the reason written out.
                    // var exclusions: [ConformanceCheck: String] { [.batchAnswerLeavingIDsOutDeletesOnlyTheRest: "why"] }

                    /// The tokens and keys the connector uses: no error it reports may contain one.
                    var secrets: [String] { [] }
                }

                @Suite struct \#(name.name)ConformanceTests {
                    /// Every check of the connector conformance suite; a failure names its check.
                    @Test(arguments: ConformanceCheck.allCases)
                    func conformance(_ check: ConformanceCheck) async throws {
                        let folder = FileManager.default.temporaryDirectory
                            .appendingPathComponent("\#(name.configType)-conformance-\(UUID().uuidString)")
                        defer { try? FileManager.default.removeItem(at: folder) }
                        try await runConformance(check, subject: \#(name.name)ConformanceSubject(folder: folder))
                    }
                }

                """#)
    }
}
