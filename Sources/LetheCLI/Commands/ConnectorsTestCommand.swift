import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import SyncCoordinator

/// `lethe connectors test`: the read-only checks of a connector against the live (or sandbox) system
/// it is configured for — nothing is written to the source or to the state.
struct ConnectorsTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Check configured connectors against their live or sandbox system, read-only: auth, list, dates, reads by id.",
        discussion: """
            For each connector (or --connector NAME): checks access (credentials, file), lists records to the \
            end or to --limit, reads every record's dates as the policy does (missing, unparseable and future \
            dates are counted by reason), reads one record by id and a batch of up to 100 ids with one that \
            does not exist. Prints counts and the first problems (by position in the list, never a field value). \
            Changes nothing: no write to the source, no state. Exit 1 when a check fails.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Test only this connector.") var connector: String?
    @Option(name: .long, help: "List at most this many records (default 10000; 0: to the end).") var limit: Int = 10_000

    struct Check: Encodable {
        var name: String
        var ok: Bool
        var detail: String
    }

    struct Report: Encodable {
        var connector: String
        var ok: Bool
        var records: Int
        var pages: Int
        var complete: Bool
        var quarantined: [String: Int]
        var problems: [String]
        var checks: [Check]
    }

    func run() async throws {
        let workspace = try Workspace(options: global)
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
        var reports: [Report] = []
        for configured in try workspace.connectors(named: connector) {
            let runtime = try workspace.runtime(configured)
            reports.append(await Self.test(runtime, limit: limit, now: workspace.clock.now()))
            await runtime.shutdown?()
        }
        let output = workspace.environment.output
        if global.json {
            output.out(JSONOutput.line(["connectors": reports]))
        } else {
            for report in reports { output.out(Self.text(report)) }
        }
        if reports.contains(where: { !$0.ok }) { throw ExitStatus.operationalFailure.exitCode }
    }

    static func test(_ runtime: ConnectorRuntime, limit: Int, now: Date) async -> Report {
        var report = Report(connector: runtime.name, ok: true, records: 0, pages: 0, complete: false, quarantined: [:], problems: [], checks: [])
        func record(_ name: String, _ ok: Bool, _ detail: String) {
            report.checks.append(Check(name: name, ok: ok, detail: detail))
            if !ok { report.ok = false }
        }
        func describe(_ error: any Error) -> String {
            (error as? any LetheError).map { "\($0.code): \($0.message)" } ?? "\(type(of: error))"
        }
        do {
            try await runtime.source.check()
            record("access", true, "credentials and configuration accepted")
        } catch {
            record("access", false, describe(error))
            return report
        }
        // List to the end (or the limit), reading every record's dates as the policy does.
        let layout = PolicyLayout(runtime.policy)
        var sample: [String] = []
        var seen = Set<String>()
        var duplicates = 0
        do {
            listing: for try await batch in runtime.source.pull(PullRequest(full: true)) {
                report.pages += 1
                for source in batch.records {
                    report.records += 1
                    if !source.id.isEmpty, !seen.insert(source.id).inserted {
                        // The sync quarantines every row of an id listed twice: a finding, not a fault.
                        duplicates += 1
                        report.quarantined["duplicate_id", default: 0] += 1
                    }
                    if case .quarantined(let reason) = runtime.policy.interpret(runtime.policy.facts(of: source, layout: layout), layout: layout, now: now) {
                        report.quarantined[reason.code, default: 0] += 1
                        if report.problems.count < 10 {
                            let place = source.line.map { "line \($0)" } ?? "record #\(report.records)"
                            report.problems.append("\(place): \(reason.code)")
                        }
                    } else if sample.count < 100, !source.id.isEmpty {
                        sample.append(source.id)
                    }
                    if limit > 0, report.records >= limit { break listing }
                }
            }
            report.complete = limit == 0 || report.records < limit
            let reach = report.complete ? "to the end" : "to the limit of \(limit)"
            record("list", true, "\(report.records) records in \(report.pages) pages, \(reach)" + (duplicates > 0 ? "; \(duplicates) ids listed again" : ""))
        } catch {
            record("list", false, "after \(report.records) records in \(report.pages) pages: \(describe(error))")
        }
        let unreadable = report.quarantined.values.reduce(0, +)
        record("dates", true, unreadable == 0 ? "every record's dates read" : "\(unreadable) records would be quarantined (never deleted): "
            + report.quarantined.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        guard let first = sample.first else {
            record("read by id", report.records == 0, report.records == 0 ? "nothing to read: the list is empty" : "no valid record to read back")
            return report
        }
        do {
            let one = try await runtime.source.read(ids: [first])
            record("read by id", one.map(\.id) == [first], one.map(\.id) == [first] ? "a listed record read back by its id" : "reading a listed id returned \(one.count) records")
        } catch {
            record("read by id", false, describe(error))
        }
        // An id that does not exist, shaped like the listed ones (a CRM may refuse a malformed id).
        let missing = first.allSatisfy(\.isNumber) ? "999999937" : "lethe-connectors-test-\(UUID().uuidString.prefix(8).lowercased())"
        var refusedUnknown = false
        do {
            let many: [SourceRecord]
            do {
                many = try await runtime.source.read(ids: sample + [missing])
            } catch let error as any LetheError where error.category == .permanent {
                refusedUnknown = true
                many = try await runtime.source.read(ids: sample)
            }
            let ids = Set(many.map(\.id))
            let ok = ids == Set(sample)
            let unknown = refusedUnknown ? "the CRM refused the request with an unknown id in it (read again without it)" : "an unknown id left out"
            let detail = ok ? "\(sample.count) listed ids read back in one batch; \(unknown)"
                : "asked \(sample.count) listed ids and one unknown: got \(ids.intersection(sample).count) of them"
                    + (ids.contains(missing) ? " and the unknown one" : "")
            record("batch read", ok, detail)
        } catch {
            record("batch read", false, describe(error))
        }
        return report
    }

    static func text(_ report: Report) -> String {
        var lines = ["\(report.connector): \(report.ok ? "OK" : "FAILED")"]
        for check in report.checks { lines.append("  \(check.ok ? "ok  " : "FAIL") \(check.name): \(check.detail)") }
        if !report.problems.isEmpty { lines.append("  first problems: " + report.problems.joined(separator: "; ")) }
        return lines.joined(separator: "\n")
    }
}
