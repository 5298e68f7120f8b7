// swift-tools-version:6.1
// libFuzzer targets for Lethe's parsers, kept apart from the main package so that `swift build`,
// `make test` and CI's main build never compile them. Built with the fuzzer and address sanitizers
// by scripts/fuzz.sh (`make fuzz`): one executable per target, each with a seed corpus in corpus/<target>/.
import PackageDescription

let package = Package(
    name: "LetheFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named: a path dependency is otherwise known by its folder's name, which differs between clones.
        .package(name: "lethe", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        .executableTarget(
            name: "FuzzCSVReader",
            dependencies: [
                "FuzzSupport",
                .product(name: "CSVConnector", package: "lethe"),
                .product(name: "RetentionCore", package: "lethe"),
            ]
        ),
        .executableTarget(
            name: "FuzzDateParser",
            dependencies: ["FuzzSupport", .product(name: "RetentionCore", package: "lethe")]
        ),
        .executableTarget(
            name: "FuzzConfigLoader",
            dependencies: [
                "FuzzSupport",
                .product(name: "LetheConfig", package: "lethe"),
                .product(name: "RetentionCore", package: "lethe"),
                .product(name: "CSVConnector", package: "lethe"),
                .product(name: "RESTCRMConnector", package: "lethe"),
            ]
        ),
        .executableTarget(
            name: "FuzzManifest",
            dependencies: [
                "FuzzSupport",
                .product(name: "LetheConfig", package: "lethe"),
                .product(name: "RetentionCore", package: "lethe"),
                .product(name: "RESTCRMConnector", package: "lethe"),
            ]
        ),
        .executableTarget(
            name: "FuzzWebhook",
            dependencies: [
                "FuzzSupport",
                .product(name: "WebhookIntake", package: "lethe"),
                .product(name: "RetentionCore", package: "lethe"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)
