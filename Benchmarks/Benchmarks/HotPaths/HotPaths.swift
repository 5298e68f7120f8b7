import Benchmark
import CSVConnector
import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting

/// The paths every row of a sync goes through, 10,000 rows at a time: reading rows from a CSV file,
/// parsing dates, reading a record's policy facts, evaluating a record, and writing compact state rows.
/// Names have no spaces: the stored thresholds are files named after them.
let benchmarks: @Sendable () -> Void = {
    // Times on a shared 2-core machine vary by a fifth from run to run: a quarter is tolerated; the
    // allocation counts are exact.
    let tolerated = BenchmarkThresholds(relative: [.p50: 25.0, .p90: 25.0])
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(5),
        thresholds: [.wallClock: tolerated, .mallocCountTotal: .default])
    let rows = 10_000
    let policy = Policy.krPIPA
    let layout = PolicyLayout(policy)
    let now = DateParser(zone: policy.zone).parse("2026-11-29T09:00:00+09:00")!
    let records = (0..<rows).map { index in
        record(id: "C\(index)", created: ["2021-04-17 18:23:31", "2024-09-01T21:46:04+09:00", "2026/03/21", "2023-05-03"][index % 4],
               purpose: ["payment", "payment;marketing", "dispute;marketing", "marketing"][index % 4], consent: index % 3 == 0 ? "Y" : "N",
               email: "user\(index)@example.com", interests: index % 2 == 0 ? "golf, wine" : "")
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-bench-\(UUID().uuidString).csv")
    var text = "id,name,email,phone,created_at,purpose,marketing_consent,interests,consent_extended_at\n"
    for record in records {
        let fields = record.fields
        text += "\(record.id),고객,\(fields["email"] ?? ""),010-0000-0000,\(fields["created_at"] ?? ""),\(fields["purpose"] ?? ""),"
            + "\(fields["marketing_consent"] ?? ""),\"\(fields["interests"] ?? "")\",\n"
    }
    try? text.write(to: file, atomically: true, encoding: .utf8)

    Benchmark("csv-rows-read-10k") { benchmark in
        for _ in benchmark.scaledIterations {
            let source = CSVConnector(configuration: CSVConnectorConfiguration(path: file), batchSize: 5_000)
            var count = 0
            for try await batch in source.pull(PullRequest()) { count += batch.records.count }
            blackHole(count)
        }
    }

    Benchmark("dates-parsed-10k") { benchmark in
        let parser = DateParser(zone: policy.zone)
        for _ in benchmark.scaledIterations {
            for record in records { blackHole(parser.parse(record.fields["created_at"] ?? "")) }
        }
    }

    Benchmark("facts-read-and-evaluated-10k") { benchmark in
        for _ in benchmark.scaledIterations {
            for record in records {
                let facts = policy.facts(of: record, layout: layout)
                let decision = policy.evaluate(policy.interpret(facts, layout: layout, now: now), previous: nil, held: false, now: now)
                blackHole(policy.nextChange(facts, layout: layout, held: false, now: now))
                blackHole(decision)
            }
        }
    }

    Benchmark("state-rows-written-10k") { benchmark in
        for _ in benchmark.scaledIterations {
            benchmark.stopMeasurement()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-bench-\(UUID().uuidString)")
            let store = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
            let upserts = records.map { record in
                RecordUpsert(
                    key: store.fingerprints.key(connector: "c", id: record.id), reference: store.reference(connector: "c", recordID: record.id),
                    recordID: record.id, digest: 7, facts: policy.facts(of: record, layout: layout), line: 2,
                    state: LifecycleState(phase: .active), nextDue: now, reason: nil, isNew: true)
            }
            benchmark.startMeasurement()
            try await store.write(connector: "c", RecordWrites(at: now, upserts: upserts))
            benchmark.stopMeasurement()
            try? FileManager.default.removeItem(at: directory)
        }
    }
}
