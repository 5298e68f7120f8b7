import Foundation
@testable import LetheCLI
import RetentionCore
import RetentionStore
import Testing

/// `lethe report`: a month of the example's enforcement, read back from the audit log.
@Suite struct ReportCommandTests {
    static let monthEnd = "2026-12-01T00:00:00+09:00"
    static let december = "2026-12-03T09:00:00+09:00"
    static let later = "2026-12-20T09:00:00+09:00"

    /// The summary lines of a CSV report, by the key in brackets (`destroyed`, `erased`, …).
    static func summary(_ csv: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in csv.components(separatedBy: "\r\n") {
            guard let open = line.lastIndex(of: "("), let close = line.lastIndex(of: ")"), open < close,
                  line[line.index(after: close)...].hasPrefix(","), let count = Int(line[line.index(close, offsetBy: 2)...]) else { continue }
            counts[String(line[line.index(after: open)..<close])] = count
        }
        return counts
    }

    /// The data lines of one titled section (its heading line excluded).
    static func section(_ title: String, of csv: String) -> [String] {
        let lines = csv.components(separatedBy: "\r\n")
        guard let start = lines.firstIndex(where: { $0.contains("[\(title)") }) else { return [] }
        let rest = lines[(start + 2)...]
        return Array(rest.prefix { !$0.isEmpty })
    }

    static func report(_ harness: CLIHarness, month: String, format: String = "csv", asOf: String = later) async -> CLIHarness.Result {
        await harness.run(["report", "--month", month, "--format", format, "--as-of", asOf])
    }

    @Test func countsOfTheMonthMatchItsSyncsAndTheRegister() async throws {
        let harness = try CLIHarness()
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        let batch = try #require(first.json["approvalBatch"] as? String)
        #expect(await harness.run(["approve", batch, "--by", "kim", "--as-of", asOf]).status == 0)
        let second = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(second.status == 0)
        let deleted = try #require(second.json["deleted"] as? Int)
        #expect(deleted > 0)

        let report = await Self.report(harness, month: "2026-11")
        #expect(report.status == 0, "\(report.stderr)")
        let counts = Self.summary(report.stdout)
        #expect(counts["destroyed"] == deleted)
        #expect(counts["erased"] == (first.json["fieldsErased"] as? Int ?? -1) + (second.json["fieldsErased"] as? Int ?? -1))
        #expect(counts["notified"] == (first.json["noticesSent"] as? Int ?? -1) + (second.json["noticesSent"] as? Int ?? -1))
        #expect(counts["approvalsGranted"] == 1)
        #expect(counts["overduePending"] == 0, "everything due was destroyed within the month")
        let register = Self.section("파기 관리대장", of: report.stdout)
        #expect(register.count == deleted + (counts["erased"] ?? 0), "the month's rows of the destruction register are attached")
        let approvals = Self.section("파기 승인", of: report.stdout)
        #expect(approvals.count == 1)
        #expect(approvals.first?.hasPrefix("\(batch),contacts,") == true)
        #expect(approvals.first?.contains(",kim,") == true, "the approver is named")
        let actions = Self.section("처리 내역", of: report.stdout)
        let deletes = actions.filter { $0.contains("(delete)") }.compactMap { Int($0.split(separator: ",").last ?? "") }
        #expect(deletes.reduce(0, +) == deleted, "the per-purpose lines add up to the total")

        for other in ["2026-10", "2026-12"] {
            let empty = Self.summary(await Self.report(harness, month: other).stdout)
            #expect(empty["destroyed"] == 0 && empty["erased"] == 0 && empty["notified"] == 0 && empty["approvalsGranted"] == 0,
                    "nothing of November in \(other)")
        }
    }

    @Test func overdueDestructionsOpenAtTheMonthsEndAndHowTheyEnded() async throws {
        let harness = try CLIHarness()
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        let batch = try #require(first.json["approvalBatch"] as? String)
        let status = await harness.run(["status", "--as-of", Self.monthEnd, "--json"])
        let open = try #require((status.json["overdueDestructions"] as? [String: Int])?["contacts"])
        #expect(open > 0)

        let before = Self.summary(await Self.report(harness, month: "2026-11", asOf: Self.monthEnd).stdout)
        #expect(before["overduePending"] == open, "pending past expiry + destroyWithin at the month's end, as status counts them")
        #expect(before["destroyed"] == 0)

        #expect(await harness.run(["approve", batch, "--by", "kim", "--as-of", Self.december]).status == 0)
        let december = await harness.run(["sync", "--as-of", Self.december, "--json"])
        let deleted = try #require(december.json["deleted"] as? Int)

        let november = await Self.report(harness, month: "2026-11")
        let counts = Self.summary(november.stdout)
        #expect(counts["overduePending"] == open)
        #expect(counts["destroyed"] == 0, "December's deletes are not November's")
        let overdue = Self.section("기한 경과 파기", of: november.stdout).filter { $0.contains("(pending)") }
        #expect(overdue.count == open)
        #expect(overdue.allSatisfy { $0.contains("awaiting approval of batch \(batch)") && $0.contains("approved by kim") },
                "each says it waited for the batch and was destroyed after kim approved it")

        let next = Self.summary(await Self.report(harness, month: "2026-12").stdout)
        #expect(next["destroyed"] == deleted)
        #expect((next["overdueLate"] ?? 0) >= open, "destroyed in December, later than due")
        #expect(next["approvalsGranted"] == 1)
    }

    @Test func theHTMLIsSelfContainedBilingualAndHoldsNoPersonalData() async throws {
        let harness = try CLIHarness()
        let id = "C000788"
        #expect(await harness.run(["hold", "add", "--connector", "contacts", "--reason", "litigation", "--as-of", asOf, id]).status == 0)
        #expect(await harness.run(["sync", "--as-of", asOf]).status == 3)
        let report = await Self.report(harness, month: "2026-11", format: "html")
        #expect(report.status == 0, "\(report.stderr)")
        let html = report.stdout
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for heading in ["요약 (summary)", "법적 보존 조치 (legal holds", "파기 관리대장 (destruction register)", "@page { size: A4"] {
            #expect(html.contains(heading))
        }
        for external in ["<link", "<script", "src=", "url(", "@import", "http://", "https://"] {
            #expect(!html.contains(external), "no external asset (\(external))")
        }
        #expect(html.contains("litigation"), "the hold is listed")
        let fixture = try String(contentsOf: CLIHarness.repository.appendingPathComponent("config/examples/contacts.csv"), encoding: .utf8)
        var personal: Set<String> = [id]
        for line in fixture.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count > 3 else { continue }
            for cell in cells[1...3] where cell.count >= 3 && !cell.hasPrefix("\"") { personal.insert(cell) }
        }
        #expect(personal.count > 1000)
        let bytes = Data(html.utf8)
        let leaked = personal.filter { bytes.range(of: Data($0.utf8)) != nil }
        #expect(leaked.isEmpty, "names, e-mails, phones or ids of the fixture in the report: \(leaked.count)")
    }

    @Test(arguments: ["2026-13", "2026-00", "2026-1", "26-11", "november", "2026-11-01", "２０２６-11", ""])
    func aMonthThatIsNotYYYYMMIsABadUsage(month: String) async throws {
        let harness = try CLIHarness()
        let file = harness.root.appendingPathComponent("report.html")
        let result = await harness.run(["report", "--month", month, "--output", file.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("YYYY-MM"))
        #expect(!FileManager.default.fileExists(atPath: file.path), "nothing written")
    }

    @Test func pdfWithoutWeasyPrintNamesThePackageAndWritesNothing() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-empty-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let harness = try CLIHarness(variables: ["PATH": empty.path])
        let file = harness.root.appendingPathComponent("report.pdf")
        let result = await harness.run(["report", "--month", "2026-11", "--format", "pdf", "--output", file.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("weasyprint"))
        #expect(result.stderr.contains("apt-get install weasyprint"))
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test func pdfIsRenderedFromTheHTMLByWeasyPrint() async throws {
        // A stand-in with WeasyPrint's command line (`weasyprint INPUT OUTPUT`): it checks it got the report's HTML.
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-fake-weasyprint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let script = bin.appendingPathComponent("weasyprint")
        try """
            #!/bin/sh
            grep -q '파기 관리대장 (destruction register)' "$1" || exit 9
            printf '%%PDF-1.7\\n%%fake\\n' > "$2"
            """.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let harness = try CLIHarness(variables: ["PATH": "\(bin.path):/usr/bin:/bin"])
        let file = harness.root.appendingPathComponent("report.pdf")
        let result = await harness.run(["report", "--month", "2026-11", "--format", "pdf", "--output", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: file).starts(with: Data("%PDF".utf8)))
    }

    static let systemPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    static let weasyPrintInstalled = (try? PDFRenderer(path: systemPath)) != nil

    @Test(.enabled(if: weasyPrintInstalled, "weasyprint is not installed (apt-get install weasyprint): real PDF rendering not checked"))
    func pdfFromTheInstalledWeasyPrint() async throws {
        let harness = try CLIHarness(variables: ["PATH": Self.systemPath])
        let file = harness.root.appendingPathComponent("report.pdf")
        let result = await harness.run(["report", "--month", "2026-11", "--format", "pdf", "--output", file.path, "--as-of", Self.later])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: file).starts(with: Data("%PDF".utf8)))
        if PDFRenderer.hasKoreanFont(path: Self.systemPath) == false {
            #expect(result.stderr.contains("fonts-nanum"), "a PDF without Korean glyphs says which package to install")
        }
    }
}

/// `ComplianceReport` on an audit log written by hand: month edges in the policy's zone, overdue rules.
@Suite struct ComplianceReportTests {
    static let seoul = TimeZone(identifier: "Asia/Seoul")!

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func done(_ kind: String, _ id: String, at: String, expiry: String, batch: String? = nil) -> AuditDraft {
        var detail = ["kind": kind, "rules": "marketing", "legalBasis": "basis", "expiry": expiry, "operator": batch == nil ? "lethe (automatic)" : "kim"]
        if let batch { detail["batch"] = batch }
        return AuditDraft(at: Self.at(at), event: "operation.done", connector: "contacts", reference: "r-\(id)", rule: "marketing",
                          operation: id, detail: detail)
    }

    static func step(_ event: String, _ id: String, at: String, _ detail: [String: String] = [:]) -> AuditDraft {
        AuditDraft(at: Self.at(at), event: event, connector: "contacts", reference: "r-\(id)", rule: "*", operation: id, detail: detail)
    }

    static func report(_ drafts: [AuditDraft], now: String = "2026-12-20T00:00:00Z") async throws -> ComplianceReport {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteStateStore(path: folder.appendingPathComponent("lethe.sqlite"))
        try await store.appendAudit(drafts)
        return try await ComplianceReport.load(
            from: store, month: try ReportMonth(parsing: "2026-11", zone: seoul), now: at(now), destroyWithin: ["contacts": Period(days: 5)])
    }

    @Test func theMonthRunsFromTheFirstToTheFirstInThePolicysZone() async throws {
        let report = try await Self.report([
            Self.done("delete", "a", at: "2026-10-31T14:59:59Z", expiry: "2026-10-30T00:00:00Z"),  // Oct 31 23:59:59 KST
            Self.done("delete", "b", at: "2026-10-31T15:00:00Z", expiry: "2026-10-30T00:00:00Z"),  // Nov 1 00:00 KST
            Self.done("delete", "c", at: "2026-11-30T14:59:59Z", expiry: "2026-11-29T00:00:00Z"),  // Nov 30 23:59:59 KST
            Self.done("delete", "d", at: "2026-11-30T15:00:00Z", expiry: "2026-11-29T00:00:00Z"),  // Dec 1 00:00 KST
        ])
        #expect(report.summary.destroyed == 2)
        #expect(report.actions.map(\.count) == [2])
        #expect(report.overdue.isEmpty, "each within 5 days of its expiry")
    }

    @Test func lateAndOpenDestructionsWithTheirOutcome() async throws {
        let report = try await Self.report([
            Self.done("erase-fields", "late", at: "2026-11-20T00:00:00Z", expiry: "2026-11-10T00:00:00Z", batch: "contacts-1"),
            Self.done("erase-fields", "ontime", at: "2026-11-20T00:00:00Z", expiry: "2026-11-18T00:00:00Z"),
            Self.step("operation.queued", "dead", at: "2026-11-02T00:00:00Z", ["kind": "delete", "status": "pending", "cycle": "2026-11-01T00:00:00Z"]),
            Self.step("operation.retry", "dead", at: "2026-11-03T00:00:00Z", ["kind": "delete", "code": "rest.http_503"]),
            Self.step("operation.dead", "dead", at: "2026-11-04T00:00:00Z", ["kind": "delete", "code": "rest.http_403"]),
            Self.step("operation.retried", "dead", at: "2026-12-02T00:00:00Z", ["operator": "lee"]),
            Self.step("operation.done", "dead", at: "2026-12-02T01:00:00Z", ["kind": "delete", "expiry": "2026-11-01T00:00:00Z"]),
            Self.step("operation.queued", "notyet", at: "2026-11-02T00:00:00Z", ["kind": "delete", "status": "pending", "cycle": "2026-11-28T00:00:00Z"]),
            Self.step("operation.queued", "gone", at: "2026-11-02T00:00:00Z", ["kind": "delete", "status": "pending", "cycle": "2026-11-01T00:00:00Z"]),
            Self.step("operation.cancelled", "gone", at: "2026-11-10T00:00:00Z", ["kind": "delete", "reason": "held"]),
            Self.step("operation.queued", "notify", at: "2026-11-02T00:00:00Z", ["kind": "notify", "status": "pending", "cycle": "2026-11-01T00:00:00Z"]),
            AuditDraft(at: Self.at("2026-11-05T00:00:00Z"), event: "hold.added", connector: "contacts", reference: "r-h", detail: ["operator": "park", "reason": "litigation"]),
            AuditDraft(at: Self.at("2026-11-06T00:00:00Z"), event: "hold.removed", connector: "contacts", reference: "r-h", detail: ["operator": "park"]),
        ])
        #expect(report.summary.erased == 2)
        #expect(report.summary.deadLettered == 1)
        #expect(report.actions.contains { $0.action == "dead:delete:rest.http_403" && $0.count == 1 })
        #expect(report.summary.holdsPlaced == 1 && report.summary.holdsLifted == 1)
        #expect(report.holds.map(\.operatorName) == ["park", "park"])
        #expect(report.overdue.map(\.operation) == ["dead", "late"], "the late erasure and the delete dead at the month's end, nothing else")
        let late = try #require(report.overdue.first { $0.operation == "late" })
        #expect(late.status == "destroyed-late" && late.daysLate == 5 && late.resolution.contains("batch contacts-1 by kim"))
        let open = try #require(report.overdue.first { $0.operation == "dead" })
        #expect(open.status == "pending")
        #expect(open.resolution.contains("dead-lettered: rest.http_403"))
        #expect(open.resolution.contains("destroyed 2026-12-02 10:00"), "what became of it, in the policy's zone")
        #expect(open.destroyedAt == Self.at("2026-12-02T01:00:00Z"))
    }

    @Test func theCurrentMonthIsJudgedAtNow() async throws {
        let drafts = [
            Self.step("operation.queued", "x", at: "2026-11-02T00:00:00Z", ["kind": "delete", "status": "awaiting-approval", "cycle": "2026-11-08T00:00:00Z", "batch": "contacts-1"]),
        ]
        #expect(try await Self.report(drafts, now: "2026-11-12T00:00:00Z").overdue.isEmpty, "not due yet on the 12th")
        let report = try await Self.report(drafts, now: "2026-11-14T00:00:00Z")
        #expect(report.overdue.first?.resolution.hasPrefix("승인 대기 (awaiting approval of batch contacts-1)") == true)
    }
}
