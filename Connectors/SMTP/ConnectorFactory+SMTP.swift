import Foundation
public import RetentionCore

extension ConnectorFactory {
    /// `type: smtp`: a `NoticeSink` sending each notice by SMTP over one kept-alive libcurl
    /// connection. The receipt is the message's `Message-ID`.
    public static var smtp: ConnectorFactory {
        ConnectorFactory(spec: SMTPConfiguration.spec, check: { settings, _ in _ = try SMTPConfiguration(settings: settings) }) {
            settings, context in
            let configuration = try SMTPConfiguration(settings: settings)
            let caFile = configuration.caFile.map { context.resolvePath($0).path }
            let transport = try SMTPTransport(configuration: configuration, caFile: caFile)
            let sink = SMTPNoticeSink(
                transport: transport,
                limiter: configuration.ratePerMinute.map(SendingRateLimiter.init(perMinute:)),
                fallbackSender: configuration.from
            )
            return ConnectorInstance(noticeSink: sink, shutdown: { await transport.close() })
        }
    }
}
