// swift-tools-version:6.1
// Micro-benchmarks of Lethe's hot paths, kept apart from the main package so that its build (and CI's)
// never compiles the benchmark harness: `cd Benchmarks && swift package benchmark`.
import PackageDescription

let package = Package(
    name: "LetheBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named: a path dependency is otherwise known by its folder's name, which differs between clones.
        .package(name: "lethe", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RetentionCore", package: "lethe"),
                .product(name: "RetentionStore", package: "lethe"),
                .product(name: "CSVConnector", package: "lethe"),
                .product(name: "RetentionTesting", package: "lethe"),
            ],
            path: "Benchmarks/HotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
