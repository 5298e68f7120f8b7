import Foundation
public import RetentionCore

extension ConnectorFactory {
    /// `type: file-mail`: a `NoticeSink` writing one `<operationID>.eml` per notice into `directory`.
    public static var fileMail: ConnectorFactory {
        ConnectorFactory(spec: FileMailConfiguration.spec) { settings, context in
            let configuration = try FileMailConfiguration(settings: settings)
            let sink = FileMailSink(directory: context.resolvePath(configuration.directory), log: context.log)
            return ConnectorInstance(noticeSink: sink)
        }
    }
}
