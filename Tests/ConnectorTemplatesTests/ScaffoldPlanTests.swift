import Foundation
import ConnectorTemplates
import Testing

/// A package like Lethe's, reduced to the lines the scaffold reads.
enum MiniPackage {
    static let manifest = """
        let package = Package(
            targets: [
                .target(
                    name: "LetheCLI",
                    dependencies: [
                        "CSVConnector",
                        // new-connector: cli dependencies
                    ]
                ),
                .target(name: "CSVConnector", dependencies: ["RetentionCore"], path: "Connectors/CSV"),
                // new-connector: targets
                .testTarget(name: "CSVConnectorTests", dependencies: ["CSVConnector"]),
                // new-connector: tests
            ]
        )

        """
    static let registry = """
        import CSVConnector
        // new-connector: imports
        import RetentionCore

        enum BuiltinConnectors {
            static let registry = ConnectorRegistry([
                .csv,
                // new-connector: factories
            ])
        }

        """
    static let paths: Set<String> = [
        "Connectors/CSV", "Tests/CSVConnectorTests", "Tests/ConnectorConformance",
        // A test folder left behind by a removed connector.
        "Tests/OldConnectorTests",
    ]

    static func plan(_ name: String, _ kind: ConnectorKind = .source, manifest: String = manifest, registry: String = registry)
        throws(ScaffoldError) -> ScaffoldPlan
    {
        try ConnectorTemplates.plan(name: name, kind: kind, packageText: manifest, registryText: registry, existingPaths: paths)
    }
}

@Suite struct ScaffoldPlanTests {
    @Test func aSourceGetsItsFilesAndTest() throws {
        let plan = try MiniPackage.plan("Zoho")
        #expect(plan.files.map(\.path).sorted() == [
            "Connectors/Zoho/ConnectorFactory+Zoho.swift", "Connectors/Zoho/README.md",
            "Connectors/Zoho/ZohoConfiguration.swift", "Connectors/Zoho/ZohoConnector.swift", "Connectors/Zoho/ZohoError.swift",
            "Tests/ZohoConnectorTests/ZohoConformanceTests.swift",
        ])
        let type = try #require(plan.files.first { $0.path.hasSuffix("/ZohoConnector.swift") }).contents
        #expect(type.contains("struct ZohoConnector: RecordSource, RecordWriter {"))
        for requirement in ["check()", "pull(_:)", "read(ids:)", "apply(_:)"] {
            #expect(type.contains("ZohoError.notImplemented(\"\(requirement)\")"))
        }
        let factory = try #require(plan.files.first { $0.path.hasSuffix("ConnectorFactory+Zoho.swift") }).contents
        #expect(factory.contains("public static var zoho: ConnectorFactory {"))
        #expect(factory.contains("ConnectorInstance(source: connector, writer: connector)"))
        let test = try #require(plan.files.first { $0.path.hasPrefix("Tests/") }).contents
        #expect(test.contains("@Test(arguments: ConformanceCheck.allCases)"))
        #expect(test.contains("try await runConformance(check, subject: ZohoConformanceSubject(folder: folder))"))
        let configuration = try #require(plan.files.first { $0.path.hasSuffix("ZohoConfiguration.swift") }).contents
        #expect(configuration.contains("type: \"zoho\""))
        #expect(configuration.contains("capabilities: [.source, .writeBack]"))
        let error = try #require(plan.files.first { $0.path.hasSuffix("ZohoError.swift") }).contents
        #expect(error.contains("public struct ZohoError: ConnectorFailure, Equatable {"))
        #expect(error.contains("code: \"zoho.not_implemented\""))
        #expect(error.contains("message: \"ZohoConnector.\\(requirement) is not implemented yet (Connectors/Zoho/ZohoConnector.swift)\""))
    }

    @Test func aSinkGetsANoticeSinkAndTheSinkSuite() throws {
        let plan = try MiniPackage.plan("KakaoTalk", .sink)
        #expect(plan.files.map(\.path).contains("Connectors/KakaoTalk/KakaoTalkSink.swift"))
        let type = try #require(plan.files.first { $0.path.hasSuffix("/KakaoTalkSink.swift") }).contents
        #expect(type.contains("struct KakaoTalkSink: NoticeSink {"))
        #expect(type.contains("KakaoTalkError.notImplemented(\"deliver(_:)\")"))
        let factory = try #require(plan.files.first { $0.path.hasSuffix("ConnectorFactory+KakaoTalk.swift") }).contents
        #expect(factory.contains("public static var kakaoTalk: ConnectorFactory {"))
        #expect(factory.contains("ConnectorInstance(noticeSink:"))
        let test = try #require(plan.files.first { $0.path == "Tests/KakaoTalkSinkTests/KakaoTalkConformanceTests.swift" }).contents
        #expect(test.contains("@Test(arguments: SinkConformanceCheck.noticeChecks)"))
        #expect(test.contains("struct KakaoTalkConformanceSubject: NoticeSinkConformanceSubject {"))
        let configuration = try #require(plan.files.first { $0.path.hasSuffix("KakaoTalkConfiguration.swift") }).contents
        #expect(configuration.contains("type: \"kakao-talk\""))
        #expect(configuration.contains("capabilities: [.notices]"))
    }

    @Test func theManifestAndTheRegistryGetTheirLinesAboveTheMarkers() throws {
        let plan = try MiniPackage.plan("Zoho")
        #expect(plan.edits.map(\.path) == ["Package.swift", "Sources/LetheCLI/BuiltinConnectors.swift"])
        #expect(plan.edits[0].contents == """
            let package = Package(
                targets: [
                    .target(
                        name: "LetheCLI",
                        dependencies: [
                            "CSVConnector",
                            "ZohoConnector",
                            // new-connector: cli dependencies
                        ]
                    ),
                    .target(name: "CSVConnector", dependencies: ["RetentionCore"], path: "Connectors/CSV"),
                    .target(name: "ZohoConnector", dependencies: ["RetentionCore"], path: "Connectors/Zoho", exclude: ["README.md"], swiftSettings: swiftSettings),
                    // new-connector: targets
                    .testTarget(name: "CSVConnectorTests", dependencies: ["CSVConnector"]),
                    .testTarget(name: "ZohoConnectorTests", dependencies: ["ZohoConnector", "RetentionCore", "ConnectorConformance"], swiftSettings: swiftSettings),
                    // new-connector: tests
                ]
            )

            """)
        #expect(plan.edits[1].contents == """
            import CSVConnector
            import ZohoConnector
            // new-connector: imports
            import RetentionCore

            enum BuiltinConnectors {
                static let registry = ConnectorRegistry([
                    .csv,
                    .zoho,
                    // new-connector: factories
                ])
            }

            """)
    }

    @Test func aSecondConnectorKeepsTheFirst() throws {
        let first = try MiniPackage.plan("Zoho")
        let second = try MiniPackage.plan("Kakao", .sink, manifest: first.edits[0].contents, registry: first.edits[1].contents)
        #expect(second.edits[0].contents.contains("\"ZohoConnector\",\n"))
        #expect(second.edits[0].contents.contains("\"KakaoSink\",\n"))
        #expect(second.edits[1].contents.contains("        .zoho,\n        .kakao,\n"))
    }

    @Test(arguments: [
        ("CSV", "Connectors/CSV already exists"),
        ("Csv", "Connectors/CSV already exists"),
        ("Old", "Tests/OldConnectorTests already exists"),
    ])
    func anExistingFolderChangesNothing(_ name: String, _ detail: String) {
        #expect(throws: ScaffoldError(code: "scaffold.exists", message: "a connector named \(name) exists: \(detail); nothing was changed")) {
            try MiniPackage.plan(name)
        }
    }

    @Test func anExistingTargetOrFactoryChangesNothing() throws {
        let first = try MiniPackage.plan("Zoho")
        // The folder is gone (a half-removed connector), but the manifest still names its target.
        #expect(throws: ScaffoldError.self) {
            try MiniPackage.plan("Zoho", manifest: first.edits[0].contents, registry: first.edits[1].contents)
        }
        // A factory of the same name from another connector (`.zoho` offered by a differently named target).
        let registry = MiniPackage.registry.replacingOccurrences(of: "    .csv,\n", with: "    .csv,\n    .zoho,\n")
        do {
            _ = try MiniPackage.plan("Zoho", registry: registry)
            Issue.record("a registered factory was not detected")
        } catch {
            #expect(error.code == "scaffold.exists")
            #expect(error.message.contains(".zoho"))
        }
    }

    @Test func aMissingMarkerIsAClearErrorNamingTheFile() {
        let manifest = MiniPackage.manifest.replacingOccurrences(of: "// new-connector: tests\n", with: "")
        #expect(throws: ScaffoldError(
            code: "scaffold.marker_missing",
            message: "Package.swift has no '// new-connector: tests' line: put it on a line of its own where the new lines belong")
        ) {
            try MiniPackage.plan("Zoho", manifest: manifest)
        }
        let registry = MiniPackage.registry.replacingOccurrences(of: "// new-connector: imports\n", with: "")
        do {
            _ = try MiniPackage.plan("Zoho", registry: registry)
            Issue.record("a missing marker was not detected")
        } catch {
            #expect(error.message.hasPrefix("Sources/LetheCLI/BuiltinConnectors.swift has no '// new-connector: imports' line"))
        }
    }

    @Test func theRealManifestAndRegistryCarryEveryMarker() throws {
        // Run from the package folder (swift test does): the shipped files must accept a scaffold.
        let root = try #require(PackageRoot.url)
        let plan = try ConnectorTemplates.plan(
            name: "Zoho", kind: .source,
            packageText: try PackageRoot.read(root, "Package.swift"),
            registryText: try PackageRoot.read(root, "Sources/LetheCLI/BuiltinConnectors.swift"),
            existingPaths: [])
        #expect(plan.edits[0].contents.contains(#"                "ZohoConnector","#))
        #expect(plan.edits[1].contents.contains("        .zoho,\n        // new-connector: factories"))
    }
}
