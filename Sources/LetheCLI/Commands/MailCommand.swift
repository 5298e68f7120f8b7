import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import SyncCoordinator

struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Check the mail set-up: render a notice template, and send it to yourself.",
        subcommands: [Test.self]
    )

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a notice template with sample values (no customer data); with --to, send it through the configured transport.",
            discussion: """
                Without --to, prints the subject and the text part. With --to, delivers one message through \
                `mail:` (LETHE_MAIL_TRANSPORT: file or smtp, with its TLS and login) and prints the receipt: \
                the way to check SMTP credentials and certificates before the first run. Its links are \
                signed like real ones but name no record, so following them changes nothing. Exit 1 when \
                the transport refuses (the SMTP reply code is shown), 2 on configuration errors.
                """
        )

        @OptionGroup var global: GlobalOptions
        @Option(help: "Send the sample to this address (yours).") var to: String?
        @Option(help: "The template (default: the first rule's notice template).") var template: String?
        @Option(help: "The template language: ko or en.") var locale = "ko"

        struct Report: Encodable {
            var template: String
            var subject: String
            var sent: Bool
            var receipt: String?
        }

        func run() async throws {
            let workspace = try Workspace(options: global)
            let sinks = try workspace.sinks()
            let policies = workspace.configuration.policies.values.sorted { $0.name < $1.name }
            let name = template ?? policies.lazy.flatMap(\.rules).compactMap(\.notice?.template).first ?? "marketing-extension"
            let rule = policies.lazy.flatMap(\.rules).first { $0.notice?.template == name || $0.reconfirm?.template == name }
            let kind: NoticeKind = rule?.reconfirm?.template == name ? .reconfirm : .extension
            let now = workspace.clock.now()
            let zone = policies.first?.zone ?? TimeZone(identifier: "Asia/Seoul")!
            let formatter = DateFormatter()
            formatter.timeZone = zone
            formatter.dateFormat = "yyyy-MM-dd"
            let expiry = now.addingTimeInterval(30 * 86_400)
            var values = [
                "name": locale == "en" ? "Test Person" : "홍길동",
                "expiry": formatter.string(from: expiry), "confirm_by": formatter.string(from: expiry),
                "consented_at": formatter.string(from: now.addingTimeInterval(-700 * 86_400)),
                "purpose": rule?.name ?? "marketing", "legal_basis": rule?.legalBasis ?? "",
                "fields": rule?.erase.map(\.field).joined(separator: ", ") ?? "", "sender": sinks.sender,
            ]
            if let links = sinks.links {
                for action in ConsentAction.actions(for: kind) {
                    values["\(action.rawValue)_link"] = links.link(ConsentToken(
                        connector: "mail-test", reference: "mail-test", rule: rule?.name ?? "marketing", cycle: expiry, action: action, validUntil: expiry))
                }
            }
            let rendered = try sinks.renderer.render(template: name, locale: locale, values: values, kind: kind)
            var report = Report(template: name, subject: rendered.subject, sent: false)
            let output = workspace.environment.output
            if let to {
                guard let sink = sinks.notices else {
                    throw GenericLetheError(code: "config.no_mail", category: .config, message: "no mail transport is configured (mail: in the config)")
                }
                report.receipt = try await sink.deliver(Notice(
                    operationID: "mail-test-\(UUID().uuidString.lowercased())", recipient: to, recipientName: values["name"], sender: sinks.sender,
                    subject: rendered.subject, textBody: rendered.body, htmlBody: rendered.html, date: now,
                    headers: ["List-Unsubscribe": "<mailto:\(sinks.sender)?subject=unsubscribe>"]))
                report.sent = true
            }
            if global.json {
                output.out(JSONOutput.line(report))
                return
            }
            output.out("Subject: \(rendered.subject)\n\n\(rendered.body)")
            if rendered.html != nil { output.out("(an HTML part is rendered too)") }
            if let receipt = report.receipt { output.out("sent with \(workspace.configuration.mail?.type ?? "mail"): \(receipt)") }
        }
    }
}
