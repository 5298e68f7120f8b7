// swift-tools-version:6.1
import PackageDescription

/// One settings block for every target (see docs/architecture.md).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "lethe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lethe", targets: ["lethe"]),
        .library(name: "RetentionCore", targets: ["RetentionCore"]),
        .library(name: "RetentionTesting", targets: ["RetentionTesting"]),
        // For the micro-benchmarks package (Benchmarks/) and outside packages.
        .library(name: "RetentionStore", targets: ["RetentionStore"]),
        .library(name: "CSVConnector", targets: ["CSVConnector"]),
        .library(name: "ConnectorConformance", targets: ["ConnectorConformance"]),
        // For the fuzz targets (Fuzz/), a package of their own.
        .library(name: "LetheConfig", targets: ["LetheConfig"]),
        .library(name: "RESTCRMConnector", targets: ["RESTCRMConnector"]),
        .library(name: "WebhookIntake", targets: ["WebhookIntake"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // MARK: Core and services
        .target(name: "RetentionCore", swiftSettings: swiftSettings),
        .target(name: "PrivateFiles", swiftSettings: swiftSettings),
        .target(
            name: "LetheConfig",
            dependencies: ["RetentionCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(name: "MailComposer", dependencies: ["RetentionCore"], swiftSettings: swiftSettings),
        .target(
            name: "RetentionStore",
            dependencies: [
                "RetentionCore", "PrivateFiles",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL store: a target of its own, so that what uses RetentionStore alone (the fuzz and
        // benchmark packages) does not build postgres-nio.
        .target(
            name: "PostgresStore",
            dependencies: [
                "RetentionCore", "RetentionStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SyncCoordinator",
            dependencies: [
                "RetentionCore", "RetentionStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "Scheduling", dependencies: ["RetentionCore"], swiftSettings: swiftSettings),
        .target(
            name: "WebhookIntake",
            dependencies: ["RetentionCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HubServer",
            dependencies: [
                "RetentionCore", "RetentionStore", "SyncCoordinator", "Scheduling",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LetheCLI",
            dependencies: [
                "RetentionCore", "LetheConfig", "RetentionStore", "PostgresStore", "SyncCoordinator", "Scheduling", "WebhookIntake", "HubServer", "PrivateFiles",
                "CSVConnector", "FileArchiveSink", "FileMailSink", "RESTCRMConnector", "SMTPSink",
                // new-connector: cli dependencies
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "lethe", dependencies: ["LetheCLI"], swiftSettings: swiftSettings),

        // MARK: Connectors (each depends on RetentionCore, PrivateFiles and its own libraries only)
        .target(name: "CSVConnector", dependencies: ["RetentionCore", "PrivateFiles"], path: "Connectors/CSV", exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(
            name: "RESTCRMConnector",
            dependencies: [
                "RetentionCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Connectors/RESTCRM",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FileArchiveSink",
            dependencies: ["RetentionCore", "PrivateFiles", .product(name: "Crypto", package: "swift-crypto")],
            path: "Connectors/FileArchive",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "SMTPSink",
            dependencies: ["RetentionCore", "MailComposer", "CCurl"],
            path: "Connectors/SMTP",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FileMailSink",
            dependencies: ["RetentionCore", "MailComposer", "PrivateFiles"],
            path: "Connectors/FileMail",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // new-connector: targets

        // MARK: Test kits
        .target(name: "RetentionTesting", dependencies: ["RetentionCore"], path: "Tests/RetentionTesting", swiftSettings: swiftSettings),
        .target(
            name: "ConnectorConformance",
            dependencies: ["RetentionCore"],
            path: "Tests/ConnectorConformance",
            swiftSettings: swiftSettings
        ),
        // Reading back the messages a notice sink produced (file mail, SMTP), for their conformance runs.
        .target(name: "MailTesting", dependencies: ["ConnectorConformance", "MailComposer"], path: "Tests/MailTesting", swiftSettings: swiftSettings),

        // MARK: Tooling: `swift package --allow-writing-to-package-directory new-connector --name Zoho --kind source`
        // The plugin compiles Sources/ConnectorTemplates through a symbolic link (a plugin cannot depend on a library).
        .target(name: "ConnectorTemplates", swiftSettings: swiftSettings),
        .plugin(
            name: "ConnectorScaffold",
            capability: .command(
                intent: .custom(verb: "new-connector", description: "Lays out a new connector target, its conformance test and its registration"),
                permissions: [.writeToPackageDirectory(reason: "Writes Connectors/<Name>/, its test target, and lines in Package.swift and BuiltinConnectors.swift")]
            )
        ),

        // MARK: Tests
        .testTarget(
            name: "RetentionCoreTests",
            dependencies: ["RetentionCore", "RetentionTesting", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LetheConfigTests", dependencies: ["LetheConfig", "RetentionCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RetentionStoreTests",
            dependencies: ["RetentionStore", "RetentionCore", "RetentionTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // One suite of store behaviour, run against SQLite and PostgreSQL (LETHE_TEST_POSTGRES_URL; skipped, with the reason, without it),
        // and executors sharing one state's outbox.
        .testTarget(
            name: "StateStoreConformanceTests",
            dependencies: [
                "RetentionStore", "PostgresStore", "RetentionCore", "SyncCoordinator", "RetentionTesting",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SyncCoordinatorTests",
            dependencies: ["SyncCoordinator", "RetentionStore", "RetentionCore", "RetentionTesting", "LetheConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CSVConnectorTests",
            dependencies: ["CSVConnector", "RetentionCore", "RetentionTesting", "ConnectorConformance"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RESTCRMConnectorTests",
            dependencies: [
                "RESTCRMConnector", "RetentionCore", "ConnectorConformance", "LetheConfig", "RetentionTesting", "RetentionStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SMTPSinkTests",
            dependencies: ["SMTPSink", "MailComposer", "RetentionCore", "RetentionTesting", "ConnectorConformance", "MailTesting"],
            exclude: ["smtpd.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling", "RetentionCore", "RetentionTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "WebhookIntakeTests", dependencies: ["WebhookIntake", "RetentionCore", "RetentionTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HubServerTests",
            dependencies: [
                "HubServer", "RetentionCore", "RetentionStore", "SyncCoordinator", "RetentionTesting", "Scheduling", "LetheConfig",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PrivateFilesTests", dependencies: ["PrivateFiles"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FileArchiveTests",
            dependencies: ["FileArchiveSink", "RetentionCore", "RetentionTesting", "ConnectorConformance"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FileMailTests",
            dependencies: ["FileMailSink", "MailComposer", "RetentionCore", "RetentionTesting", "ConnectorConformance", "MailTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LetheCLITests",
            dependencies: [
                "LetheCLI", "RetentionCore", "RetentionStore", "PostgresStore", "MailComposer", "RetentionTesting", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ConnectorTemplatesTests", dependencies: ["ConnectorTemplates"], swiftSettings: swiftSettings),
        // new-connector: tests
    ]
)
