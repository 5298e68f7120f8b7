import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A month's compliance report: destructions, erasures, extensions and notices by connector, purpose and legal basis; "
            + "overdue destructions and their outcome; legal holds; approvals; the month's destruction register.",
        discussion: """
            The month runs from the 1st 00:00 to the next 1st 00:00 in the policy's time zone. Records appear by their \
            pseudonymous reference only. --format pdf renders the HTML with WeasyPrint (Debian package `weasyprint`); \
            without it the command exits 2 and writes nothing.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "The month, YYYY-MM (in the policy's time zone).") var month: String
    @Option(help: "html, csv (UTF-8 with BOM for Excel), pdf or json.") var format: String = "html"
    @Option(help: "Write to this file instead of stdout.") var output: String?

    func run() async throws {
        let format = global.json ? "json" : format
        guard ["html", "csv", "pdf", "json"].contains(format) else {
            throw ValidationError("--format: '\(format)' is not one of html, csv, pdf, json")
        }
        let workspace = try Workspace(options: global)
        let zone = workspace.configuration.policies.values.first?.zone ?? TimeZone(identifier: "Asia/Seoul")!
        let month = try ReportMonth(parsing: self.month, zone: zone)
        // Found before anything is read, so a missing renderer costs nothing and writes nothing.
        let renderer = format == "pdf" ? try PDFRenderer(path: workspace.environment.variables["PATH"]) : nil
        var grace: [String: Period] = [:]
        for connector in workspace.configuration.connectors {
            grace[connector.name] = try workspace.policy(for: connector).destroyWithin
        }
        let report = try await ComplianceReport.load(
            from: try await workspace.openStore(), month: month, now: workspace.clock.now(), destroyWithin: grace)
        let data: Data
        switch format {
        case "csv": data = report.csv()
        case "json": data = Data((JSONOutput.line(report) + "\n").utf8)
        case "pdf":
            if PDFRenderer.hasKoreanFont(path: workspace.environment.variables["PATH"]) == false {
                workspace.environment.output.err(PDFRenderer.koreanFontWarning)
            }
            data = try renderer!.render(html: report.html(), environment: workspace.environment.variables)
        default: data = Data(report.html().utf8)
        }
        let out = workspace.environment.output
        guard let output else { return out.write(data) }
        try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        out.err("wrote the \(month.label) report (\(format), \(report.register.count) register rows) to \(output)")
    }
}
