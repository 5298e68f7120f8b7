import Foundation
public import RetentionCore

extension ConnectorFactory {
    /// `type: rest` — a CRM described by a manifest file (config/connectors/*.yaml).
    public static var rest: ConnectorFactory {
        ConnectorFactory(
            spec: RESTCRMConnector.spec,
            check: { settings, context in _ = try RESTCRMConnector.loadManifest(settings: settings, context: context) },
            writableFields: { settings, context in
                Set(try RESTCRMConnector.loadManifest(settings: settings, context: context).update?.fields.keys ?? [:].keys)
            }
        ) { settings, context in
            let manifest = try RESTCRMConnector.loadManifest(settings: settings, context: context)
            let client = try RESTHTTPClient(configuration: manifest.http, log: context.log, sharedBudget: context.rateBudget)
            let connector = RESTCRMConnector(manifest: manifest, client: client, context: context)
            return ConnectorInstance(
                source: connector, writer: manifest.canWrite ? connector : nil,
                shutdown: { try? await client.shutdown() }
            )
        }
    }
}

extension RESTCRMConnector {
    public static let spec = ConnectorSpec(
        type: "rest",
        summary: "a REST CRM described by a manifest (HubSpot, Salesforce, Pipedrive, or your own)",
        capabilities: [.source, .writeBack],
        fields: [
            FieldSpec("manifest", .string, required: true, "the manifest file, relative to the config file's folder (../connectors/hubspot.yaml)"),
        ]
    )

    /// Reads and decodes the manifest named by `settings.manifest`. Errors name the manifest file,
    /// line and key.
    public static func loadManifest(settings: ConfigNode, context: ConnectorContext) throws -> Manifest {
        try spec.validate(settings)
        guard let pathNode = settings["manifest"] else { throw settings.error("config.missing", "manifest is required") }
        let url = context.resolveConfigPath(try pathNode.string())
        guard let load = context.loadConfigFile else {
            throw pathNode.error("config.unsupported", "manifests cannot be loaded here")
        }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw pathNode.error("config.not_found", "manifest \(url.path) does not exist")
        }
        return try Manifest(config: try load(url))
    }
}
