public import Foundation

/// "Now", injected so that `--as-of` is true everywhere. Nothing in Lethe calls `Date()` directly.
public protocol LetheClock: Sendable {
    func now() -> Date
}

public struct SystemClock: LetheClock {
    public init() {}
    public func now() -> Date { Date() }
}

public struct FixedClock: LetheClock {
    public var instant: Date
    public init(_ instant: Date) { self.instant = instant }
    public func now() -> Date { instant }
}

public enum LogLevel: String, Sendable, Comparable {
    case debug, info, notice, warning, error

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .notice: 2
        case .warning: 3
        case .error: 4
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// A log function. Messages and metadata must never carry personal data: use pseudonymous
/// references, counts and line numbers.
public typealias LogFunction = @Sendable (_ level: LogLevel, _ message: String, _ metadata: [String: String]) -> Void

/// Everything a connector may use from the outside world. Connectors never read the environment,
/// the clock or create loggers themselves.
public struct ConnectorContext: Sendable {
    /// The connector's name in config (`contacts`, `hubspot`).
    public var name: String
    public var clock: any LetheClock
    public var log: LogFunction
    /// Where Lethe keeps its state; connectors may keep files under it.
    public var stateDirectory: URL
    /// The folder of the config file, for resolving relative paths.
    public var configDirectory: URL
    /// Reads another config file (a connector's manifest) into a located tree, with the same
    /// `${VAR}` substitution as the main file. `nil` where no loader is available.
    public var loadConfigFile: (@Sendable (URL) throws -> ConfigNode)?
    /// The request budget shared with every other client of the same CRM account (other connectors,
    /// processes and hub instances on the same state); `nil`: only the connector's own budget applies.
    public var rateBudget: (any SharedRateBudget)?

    public init(
        name: String, clock: any LetheClock, log: @escaping LogFunction, stateDirectory: URL, configDirectory: URL,
        loadConfigFile: (@Sendable (URL) throws -> ConfigNode)? = nil, rateBudget: (any SharedRateBudget)? = nil
    ) {
        self.loadConfigFile = loadConfigFile
        self.rateBudget = rateBudget
        self.name = name
        self.clock = clock
        self.log = log
        self.stateDirectory = stateDirectory
        self.configDirectory = configDirectory
    }

    /// A path from config relative to the config file's folder (manifests, like policy files).
    public func resolveConfigPath(_ path: String) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        return configDirectory.appendingPathComponent(path).standardized
    }

    /// A path from config: absolute, or relative to the current directory.
    public func resolvePath(_ path: String) -> URL {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
    }
}

/// What a factory builds: any of the four roles.
public struct ConnectorInstance: Sendable {
    public var source: (any RecordSource)?
    public var writer: (any RecordWriter)?
    public var noticeSink: (any NoticeSink)?
    public var archiveSink: (any ArchiveSink)?
    /// Releases what the connector holds open (HTTP connections); called once when done.
    public var shutdown: (@Sendable () async -> Void)?

    public init(
        source: (any RecordSource)? = nil, writer: (any RecordWriter)? = nil, noticeSink: (any NoticeSink)? = nil,
        archiveSink: (any ArchiveSink)? = nil, shutdown: (@Sendable () async -> Void)? = nil
    ) {
        self.shutdown = shutdown
        self.source = source
        self.writer = writer
        self.noticeSink = noticeSink
        self.archiveSink = archiveSink
    }
}

/// How a connector type is registered: its spec and a builder. Each connector offers one as
/// `extension ConnectorFactory { static var csv: Self }`; `BuiltinConnectors` lists them.
public struct ConnectorFactory: Sendable {
    public var spec: ConnectorSpec
    public var make: @Sendable (_ settings: ConfigNode, _ context: ConnectorContext) throws -> ConnectorInstance
    /// Checks what `spec` cannot see (a manifest file the settings name) without connecting.
    public var check: (@Sendable (_ settings: ConfigNode, _ context: ConnectorContext) throws -> Void)?
    /// The canonical fields this connector can write back (CSV: its header's columns; REST: the
    /// manifest's `update.fields`), so `lethe config validate` can tell a policy that writes a field the
    /// source cannot hold before an operation is dead-lettered. nil: unknown (for example, the file
    /// does not exist yet).
    public var writableFields: (@Sendable (_ settings: ConfigNode, _ context: ConnectorContext) throws -> Set<String>?)?

    public init(
        spec: ConnectorSpec, check: (@Sendable (ConfigNode, ConnectorContext) throws -> Void)? = nil,
        writableFields: (@Sendable (ConfigNode, ConnectorContext) throws -> Set<String>?)? = nil,
        make: @escaping @Sendable (ConfigNode, ConnectorContext) throws -> ConnectorInstance
    ) {
        self.spec = spec
        self.check = check
        self.writableFields = writableFields
        self.make = make
    }

    public var type: String { spec.type }
}

/// The connector types known to this build, by their config `type`. Immutable: built once from a list.
public struct ConnectorRegistry: Sendable {
    public let factories: [ConnectorFactory]

    public init(_ factories: [ConnectorFactory]) {
        self.factories = factories
    }

    public func factory(for type: String) -> ConnectorFactory? {
        factories.first { $0.type == type }
    }
}
