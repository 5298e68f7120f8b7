import Foundation
public import RetentionCore

extension ConnectorFactory {
    /// `type: csv`: a `RecordSource` and `RecordWriter` over one CSV file (see `CSVConnector`).
    /// Settings are checked when the connector is built; the file itself is checked by `check()`.
    public static var csv: ConnectorFactory {
        ConnectorFactory(
            spec: CSVConnectorConfiguration.spec,
            writableFields: { settings, context in
                // The header's columns, by canonical name; unknown while the file does not exist.
                let configuration = try CSVConnectorConfiguration(settings: settings, context: context)
                guard FileManager.default.fileExists(atPath: configuration.path.path) else { return nil }
                return try CSVDocument.canonicalColumns(configuration)
            }
        ) { settings, context in
            let configuration = try CSVConnectorConfiguration(settings: settings, context: context)
            let connector = CSVConnector(configuration: configuration, log: context.log)
            return ConnectorInstance(source: connector, writer: connector)
        }
    }
}
