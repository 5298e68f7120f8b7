import CSVConnector
import FileArchiveSink
import FileMailSink
import RESTCRMConnector
import SMTPSink
// new-connector: imports
import RetentionCore

/// Every connector type this build knows, in one list. Adding a connector = one line here.
enum BuiltinConnectors {
    static let registry = ConnectorRegistry([
        .csv,
        .rest,
        .fileMail,
        .smtp,
        .fileArchive,
        // new-connector: factories
    ])
}
