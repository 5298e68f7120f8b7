public import Foundation
import NIOSSL
public import PostgresNIO
import RetentionStore

/// `LETHE_STORE_URL` read: `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
///
/// Errors name the part that is wrong and never repeat the password.
public struct PostgresStoreURL: Sendable, Equatable {
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Never TLS.
        case disable
        /// TLS when the server offers it (the default), else plain.
        case prefer
        /// TLS or no connection.
        case require
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public init(host: String, port: Int = 5432, user: String, password: String?, database: String, sslMode: SSLMode = .prefer) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// Whether `text` names a PostgreSQL store (its scheme is `postgres` or `postgresql`).
    public static func isPostgres(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws {
        func bad(_ part: String, _ problem: String) -> StoreError {
            StoreError(code: "store.url", message: "LETHE_STORE_URL: \(part) \(problem) (expected postgres://user[:password]@host:port/database[?sslmode=disable|prefer|require])")
        }
        guard let schemeEnd = text.range(of: "://") else { throw bad("the scheme", "is missing") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else { throw bad("the scheme '\(scheme)'", "is not postgres") }
        var rest = text[schemeEnd.upperBound...]
        var query = ""
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        guard let at = rest.lastIndex(of: "@") else { throw bad("the user", "is missing (user@host)") }
        let credentials = rest[..<at]
        let location = rest[rest.index(after: at)...]
        let userPart: Substring
        if let colon = credentials.firstIndex(of: ":") {
            userPart = credentials[..<colon]
            guard let decoded = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding else {
                throw bad("the password", "is not valid percent-encoding")
            }
            password = decoded
        } else {
            userPart = credentials
            password = nil
        }
        guard let decodedUser = String(userPart).removingPercentEncoding, !decodedUser.isEmpty else { throw bad("the user", "is empty or badly encoded") }
        user = decodedUser
        guard let slash = location.firstIndex(of: "/") else { throw bad("the database", "is missing (host:port/database)") }
        let hostPort = location[..<slash]
        guard let decodedDatabase = String(location[location.index(after: slash)...]).removingPercentEncoding, !decodedDatabase.isEmpty,
              !decodedDatabase.contains("/") else {
            throw bad("the database", "is missing or not one name")
        }
        database = decodedDatabase
        var hostText = Substring(hostPort)
        var portNumber = 5432
        if hostText.hasPrefix("[") {
            guard let close = hostText.firstIndex(of: "]") else { throw bad("the host", "has an unclosed '['") }
            let after = hostText[hostText.index(after: close)...]
            hostText = hostText[hostText.index(after: hostText.startIndex)..<close]
            if after.hasPrefix(":") {
                guard let number = Int(after.dropFirst()), (1...65535).contains(number) else { throw bad("the port '\(after.dropFirst())'", "is not a port number") }
                portNumber = number
            } else if !after.isEmpty {
                throw bad("the host", "has text after ']'")
            }
        } else if let colon = hostText.lastIndex(of: ":") {
            let portText = hostText[hostText.index(after: colon)...]
            guard let number = Int(portText), (1...65535).contains(number) else { throw bad("the port '\(portText)'", "is not a port number") }
            portNumber = number
            hostText = hostText[..<colon]
        }
        guard !hostText.isEmpty else { throw bad("the host", "is missing") }
        host = String(hostText)
        port = portNumber
        sslMode = .prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            guard name == "sslmode" else { throw bad("the parameter '\(name)'", "is not known (only sslmode is)") }
            guard let mode = SSLMode(rawValue: value) else {
                throw bad("sslmode '\(value)'", "is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        }
    }

    /// The URL without its password, for messages.
    public var redacted: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// The configuration of a single connection to the same database.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// PostgresNIO's client configuration for this URL.
    public var configuration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}
