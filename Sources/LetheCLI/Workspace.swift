import Foundation
import LetheConfig
import PostgresStore
import PrivateFiles
import RetentionCore
import RetentionStore
import SyncCoordinator

/// A loaded configuration and the things built from it, for one command.
struct Workspace {
    let configuration: LetheConfiguration
    let environment: CommandEnvironment
    let clock: any LetheClock
    let log: LogFunction
    let registry = BuiltinConnectors.registry
    /// The request budgets shared with every client of the same CRM account, kept in the state: given
    /// to the connectors (which may be built first) and bound to the store when `openStore` opens it.
    let rateBudget = DeferredRateBudget()

    /// Loads and validates the config. Config errors name file, line and key (exit 2).
    init(options: GlobalOptions) throws {
        let environment = CommandEnvironment.current
        self.environment = environment
        let file = URL(fileURLWithPath: options.config)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ConfigError(code: "config.not_found", location: nil, key: "", problem: "config file \(options.config) does not exist (use --config PATH)")
        }
        configuration = try ConfigLoader(environment: environment.variables).load(file: file)
        try configuration.validate(registry: registry)
        let zone = configuration.policies.values.first?.zone ?? TimeZone(identifier: "Asia/Seoul")!
        clock = try options.clock(zone: zone)
        let output = environment.output
        let threshold: LogLevel = options.verbose ? .info : .warning
        log = LogFormat(environment: environment.variables).function(output: output, threshold: threshold)
    }

    var configDirectory: URL { configuration.file.deletingLastPathComponent() }

    /// `templates/` beside the config file, or beside its folder (config/examples/*.yaml share config/templates).
    var templatesDirectory: URL {
        let beside = configDirectory.appendingPathComponent("templates")
        if FileManager.default.fileExists(atPath: beside.path) { return beside }
        let parent = configDirectory.deletingLastPathComponent().appendingPathComponent("templates")
        return FileManager.default.fileExists(atPath: parent.path) ? parent : beside
    }

    func stateDirectory() throws -> URL {
        let path = try configuration.stateDirectory.string()
        return path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
    }

    /// Opens the state: PostgreSQL when `state.url` (`LETHE_STORE_URL`) names a database, else the
    /// SQLite file in the state folder. The state folder (with PostgreSQL: this instance's own files —
    /// outbox, archive, locks) and everything in it is the owner's alone (folders 0700, files 0600):
    /// looser modes left by other tools or an older version are tightened first.
    func openStore() async throws -> any StateStore {
        let folder = try stateDirectory()
        do {
            try PrivateFiles.makeFolder(folder.path)
            let tightened = try PrivateFiles.tighten(folder.path)
            if !tightened.isEmpty {
                log(.warning, "state files were readable by others: restricted to their owner", ["files": String(tightened.count)])
            }
        } catch {
            throw StoreError(code: "store.permissions", message: error.description)
        }
        let store: any StateStore
        if let url = try postgresURL() {
            store = try await PostgresStateStore.open(url: url)
        } else {
            store = try SQLiteStateStore(path: folder.appendingPathComponent("lethe.sqlite"))
        }
        rateBudget.attach(store)
        return store
    }

    /// The PostgreSQL database `state.url` (`LETHE_STORE_URL`) names; nil for the SQLite state.
    func postgresURL() throws -> PostgresStoreURL? {
        guard let text = try configuration.storeURL() else { return nil }
        do {
            return try PostgresStoreURL(text)
        } catch let error as StoreError {
            throw (configuration.stateURL ?? configuration.stateDirectory).error("config.store_url", error.message)
        }
    }

    /// Refuses secrets too short to resist guessing (`lethe run` and `lethe sync` check them before
    /// anything listens or changes). Unset secrets are not checked: an unset admin token keeps the
    /// admin API off, an unset link secret is generated.
    func checkSecrets() throws(ConfigError) {
        for name in ["LETHE_ADMIN_TOKEN", "LETHE_LINK_SECRET", "LETHE_METRICS_TOKEN"] {
            guard let secret = environment.variables[name], !secret.isEmpty, secret.utf8.count < Self.minimumSecretLength else { continue }
            throw ConfigError(
                code: "config.weak_secret", location: nil, key: name,
                problem: "is \(secret.utf8.count) bytes; a secret must be at least \(Self.minimumSecretLength) bytes (e.g. `openssl rand -base64 32`)")
        }
    }

    static let minimumSecretLength = 32

    func context(for name: String) throws -> ConnectorContext {
        let loader = ConfigLoader(environment: environment.variables)
        return ConnectorContext(
            name: name, clock: clock, log: log, stateDirectory: try stateDirectory(), configDirectory: configDirectory,
            loadConfigFile: { url in try loader.loadTree(file: url) }, rateBudget: rateBudget
        )
    }

    func connectors(named name: String?) throws -> [ConnectorConfiguration] {
        guard let name else { return configuration.connectors }
        let matching = configuration.connectors.filter { $0.name == name }
        guard !matching.isEmpty else {
            let known = configuration.connectors.map(\.name).joined(separator: ", ")
            throw ConfigError(code: "config.unknown_connector", location: nil, key: "--connector", problem: "no connector named '\(name)' (configured: \(known))")
        }
        return matching
    }

    func policy(for connector: ConnectorConfiguration) throws -> Policy {
        guard let policy = configuration.policies[connector.policy] else {
            throw ConfigError(code: "config.unknown_policy", location: connector.location, key: "policy", problem: "no policy named '\(connector.policy)'")
        }
        return policy
    }

    func runtime(_ connector: ConnectorConfiguration) throws -> ConnectorRuntime {
        guard let factory = registry.factory(for: connector.type) else {
            throw ConfigError(code: "config.unknown_type", location: connector.location, key: "type", problem: "unknown connector type '\(connector.type)'")
        }
        let context = try context(for: connector.name)
        let instance = try factory.make(connector.settings, context)
        // Say it before the first expiry dead-letters it (`lethe config validate` refuses it outright).
        for written in Self.unwritableFields(connector: connector, policy: try policy(for: connector), context: context) {
            log(.warning, "the policy writes a field this connector cannot write; those operations will be dead-lettered (see lethe config validate)",
                ["connector": connector.name, "field": written.field])
        }
        guard let source = instance.source else {
            throw ConfigError(code: "config.not_a_source", location: connector.location, key: "type", problem: "connector type '\(connector.type)' cannot read records")
        }
        return ConnectorRuntime(
            name: connector.name,
            policy: try policy(for: connector),
            safety: .init(maxDeletesPerRun: connector.safety.maxDeletesPerRun, maxDeleteFraction: connector.safety.maxDeleteFraction),
            source: source,
            writer: instance.writer,
            shutdown: instance.shutdown,
            settingsFingerprint: connector.type + "\u{1F}" + connector.settings.canonicalText
        )
    }

    /// The fields `policy` writes that the connector cannot hold (CSV header, REST `update.fields`);
    /// empty when the connector cannot tell (no such check, or a file that does not exist yet).
    static func unwritableFields(connector: ConnectorConfiguration, policy: Policy, context: ConnectorContext) -> [Policy.WrittenField] {
        guard let writable = BuiltinConnectors.registry.factory(for: connector.type)?.writableFields,
            let fields = try? writable(connector.settings, context)
        else { return [] }
        return policy.writtenFields.filter { !fields.contains($0.field) }
    }

    func sinks(store: (any StateStore)? = nil) throws -> SinkSet {
        var notices: (any NoticeSink)?
        var archive: (any ArchiveSink)?
        var sender = "lethe@localhost"
        if let mail = configuration.mail, let factory = registry.factory(for: mail.type) {
            notices = try factory.make(mail.settings, try context(for: "mail")).noticeSink
            sender = mail.from ?? sender
        }
        // The archive is built only when a policy archives, so its warnings concern only those who use it.
        let archives = configuration.policies.values.contains { $0.action == .archiveThenDelete }
        if archives, let archiveConfig = configuration.archive, let factory = registry.factory(for: archiveConfig.type) {
            archive = try factory.make(archiveConfig.settings, try context(for: "archive")).archiveSink
        }
        return SinkSet(
            notices: notices, archive: archive, sender: sender,
            renderer: NoticeRenderer(templatesDirectory: templatesDirectory), links: try linkSigner(store: store)
        )
    }

    /// The signer of consent links: `LETHE_LINK_SECRET`, or a secret generated once and kept in the
    /// state — in PostgreSQL's database (shared by every instance), else in the state folder
    /// (`link-secret`, mode 0600). Links point at `LETHE_PUBLIC_URL`.
    func linkSigner(store: (any StateStore)? = nil) throws -> ConsentLinkSigner {
        let variables = environment.variables
        let port = variables["LETHE_HTTP_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "8080"
        let base = variables["LETHE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:\(port)"
        if let secret = variables["LETHE_LINK_SECRET"], !secret.isEmpty {
            return ConsentLinkSigner(secret: Data(secret.utf8), baseURL: base)
        }
        if let postgres = store as? PostgresStateStore { return ConsentLinkSigner(secret: postgres.linkSecret, baseURL: base) }
        let folder = try stateDirectory()
        let file = folder.appendingPathComponent("link-secret")
        if let existing = try? Data(contentsOf: file), existing.count >= 32 {
            return ConsentLinkSigner(secret: existing, baseURL: base)
        }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        do {
            try PrivateFiles.makeFolder(folder.path)
            // A short or empty file (a write cut off) is replaced; another process may create it first.
            if FileManager.default.fileExists(atPath: file.path) { try? FileManager.default.removeItem(at: file) }
            try PrivateFiles.write(secret, toNew: file.path)
        } catch where error.errno == EEXIST {
            if let existing = try? Data(contentsOf: file), existing.count >= 32 { return ConsentLinkSigner(secret: existing, baseURL: base) }
            throw StoreError(code: "store.secret", message: error.description)
        } catch {
            throw StoreError(code: "store.secret", message: error.description)
        }
        return ConsentLinkSigner(secret: Data(secret), baseURL: base)
    }

    func coordinator(store: any StateStore) throws -> SyncCoordinator {
        var retry = RetryPolicy()
        if let text = environment.variables["LETHE_RETRY_DEADLINE_SECONDS"], !text.isEmpty {
            guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 else {
                throw ConfigError(code: "config.environment", location: nil, key: "LETHE_RETRY_DEADLINE_SECONDS", problem: "must be a number of seconds (0 to 86400)")
            }
            retry.runDeadline = .milliseconds(Int64(seconds * 1000))
        }
        var coordinator = SyncCoordinator(store: store, sinks: try sinks(store: store), clock: clock, log: log, retry: retry)
        // With PostgreSQL, every instance sharing the database excludes the others (an advisory lock);
        // else the processes sharing this state folder do (a file lock).
        if store is PostgresStateStore, let url = try postgresURL() {
            coordinator.runLock = PostgresRunLock(url: url)
        } else {
            coordinator.runLock = FileRunLock(folder: try stateDirectory().appendingPathComponent("locks"))
        }
        if let text = environment.variables["LETHE_LOCK_WAIT_SECONDS"], !text.isEmpty {
            guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 else {
                throw ConfigError(code: "config.environment", location: nil, key: "LETHE_LOCK_WAIT_SECONDS", problem: "must be a number of seconds (0 to 86400)")
            }
            coordinator.lockWait = .milliseconds(Int64(seconds * 1000))
        }
        return coordinator
    }

    var operatorName: String {
        environment.variables["USER"] ?? environment.variables["LOGNAME"] ?? "unknown"
    }
}
