import Foundation
import RetentionCore

/// `alerts:`.
extension LetheConfigurationDecoder {
    static let alertKeys: Set<String> = ["to", "from", "sink", "digestAbove", "locale"]

    /// `to` (a list of addresses, or one text of comma-separated addresses so that it can come from
    /// one variable; empty: alerts off), `from`, `sink` (a transport of `mail:`: its `type`, or a key
    /// of its `transports:`; default: the one notices use), `digestAbove` (0 or more) and `locale`
    /// (`ko`, `en`, `both`). `mailNode` is the `mail:` block, `mail` what was decoded from it.
    func decodeAlerts(_ node: ConfigNode, mailNode: ConfigNode?, mail: SinkConfiguration?, issues: inout ConfigIssues) -> AlertsConfiguration? {
        let reader = MappingReader(node, allowed: Self.alertKeys, issues: &issues)
        let recipients = issues.attempt { () throws(ConfigError) in try alertRecipients(reader) } ?? []
        let sender = issues.attempt { () throws(ConfigError) -> String? in
            guard let from = reader.optional("from") else { return nil }
            let text = try from.string().trimmingCharacters(in: .whitespaces)
            guard text.isEmpty || Self.isAddress(text) else {
                throw from.error("config.alerts_address", "'\(text)' is not an e-mail address (local@domain)")
            }
            return text.isEmpty ? nil : text
        } ?? nil
        var digestAbove = AlertsConfiguration.defaultDigestAbove
        if let node = reader.optional("digestAbove") {
            _ = issues.attempt { () throws(ConfigError) in
                let value = try node.int()
                guard value >= 0 else { throw node.error("config.range", "must be 0 or more (0: every check's alerts go in one digest)") }
                digestAbove = value
            }
        }
        var languages = ["ko", "en"]
        if let node = reader.optional("locale") {
            _ = issues.attempt { () throws(ConfigError) in
                switch try node.string().trimmingCharacters(in: .whitespaces).lowercased() {
                case "ko": languages = ["ko"]
                case "en": languages = ["en"]
                case "both", "": languages = ["ko", "en"]
                case let other: throw node.error("config.alerts_locale", "unknown locale '\(other)' (known: ko, en, both)")
                }
            }
        }
        let sink = issues.attempt { () throws(ConfigError) in try alertSink(reader, node: node, mailNode: mailNode, mail: mail) } ?? nil
        guard !recipients.isEmpty, let (sink, sinkNode) = sink else { return nil }
        var alerts = AlertsConfiguration(
            recipients: recipients, sender: sender, sink: sink, digestAbove: digestAbove, languages: languages, location: node.location)
        alerts.sinkNode = sinkNode
        return alerts
    }

    private func alertRecipients(_ reader: MappingReader) throws(ConfigError) -> [String] {
        guard let node = reader.optional("to") else { return [] }
        var found: [(text: String, node: ConfigNode)] = []
        if case .sequence(let items) = node.value {
            for item in items {
                found.append((try item.string().trimmingCharacters(in: .whitespaces), item))
            }
        } else {
            for part in try node.string().split(separator: ",") {
                found.append((part.trimmingCharacters(in: .whitespaces), node))
            }
        }
        var addresses: [String] = []
        for (text, item) in found where !text.isEmpty {
            guard Self.isAddress(text) else {
                throw item.error("config.alerts_address", "'\(text)' is not an e-mail address (local@domain)")
            }
            if !addresses.contains(text) { addresses.append(text) }
        }
        return addresses
    }

    /// The transport `sink` names, and its node when it is not the one notices use.
    private func alertSink(_ reader: MappingReader, node: ConfigNode, mailNode: ConfigNode?, mail: SinkConfiguration?) throws(ConfigError)
        -> (SinkConfiguration, ConfigNode?)?
    {
        let sinkNode = reader.optional("sink")
        let name = try sinkNode?.string().trimmingCharacters(in: .whitespaces) ?? ""
        guard let mailNode else {
            throw (sinkNode ?? node).error("config.alerts_sink", "alerts are sent through a mail transport: configure `mail:` first")
        }
        // A `mail:` that did not decode has its own errors.
        guard let mail else { return nil }
        let chosen = mail.type == "file-mail" ? ["file", "file-mail"] : [mail.type]
        if name.isEmpty || chosen.contains(name) { return (mail, nil) }
        let transports = mailNode["transports"]
        let names = (try? transports?.entries().map(\.key)) ?? []
        guard let settings = transports?[name] ?? (name == "file-mail" ? transports?["file"] : nil), let sinkNode else {
            let known = (names.isEmpty ? chosen : names).joined(separator: ", ")
            throw (sinkNode ?? node).error("config.alerts_sink", "no mail transport named '\(name)' (configured: \(known))")
        }
        var sink = SinkConfiguration(type: name == "file" ? "file-mail" : name, from: mail.from, settings: settings, location: sinkNode.location)
        sink.keyPath = sinkNode.keyPath
        sink.typeNode = sinkNode
        return (sink, sinkNode)
    }

    /// `local@domain`: one `@`, both sides non-empty, no spaces, controls, quotes, brackets, commas or semicolons.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else {
            return false
        }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && !"<>()[]\\,;:\"".unicodeScalars.contains(scalar)
        }
    }
}
