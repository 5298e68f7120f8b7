import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

extension RESTHTTPClient {
    /// The full URL of a request, auth query parameter included. Never logged.
    ///
    /// A path starting with `/` is appended to `baseURL`, except when `baseURL` has a path prefix and
    /// the path already starts with it (Salesforce's `nextRecordsUrl`): then it goes after the
    /// origin. An absolute URL must be on the base URL's origin, so credentials never leave it.
    func url(for request: HTTPRequestSpec) throws(RESTCRMConnectorError) -> String {
        var text = try resolve(request.path, summary: request.summary)
        var items = request.query
        if case .apiKeyQuery(let name, let value) = configuration.auth { items.append((name, value)) }
        if !items.isEmpty {
            let encoded = items.map { Self.formEncode($0.name) + "=" + Self.formEncode($0.value) }.joined(separator: "&")
            text += (text.contains("?") ? "&" : "?") + encoded
        }
        return text
    }

    /// A path or absolute URL, resolved against `baseURL`.
    func resolve(_ path: String, summary: String) throws(RESTCRMConnectorError) -> String {
        let base = configuration.baseURL
        let origin = Self.origin(of: base)
        let prefix = String(base.dropFirst(origin.count))
        if HTTPConfiguration.isHTTPURL(path) {
            guard Self.origin(of: path).lowercased() == origin.lowercased() else {
                throw RESTCRMConnectorError(
                    code: "rest.bad_url", message: "\(summary): the URL is not on the base URL's host", isTransient: false
                )
            }
            return path
        }
        if path.hasPrefix("/") {
            if !prefix.isEmpty, path == prefix || path.hasPrefix(prefix + "/") || path.hasPrefix(prefix + "?") {
                return origin + path
            }
            return base + path
        }
        return base + "/" + path
    }

    /// `scheme://host[:port]` of an http(s) URL.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(url[..<schemeEnd.upperBound]) + authority
    }

    /// Percent-encoding of a query or form component: everything but RFC 3986 unreserved characters.
    static func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// One attempt: the request with default, own and auth headers, and its whole body.
    func attempt(_ request: HTTPRequestSpec, url: String, token: String?) async throws -> HTTPResult {
        counters.withLock { $0.requests += 1 }
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = HTTPMethod(rawValue: request.method.uppercased())
        outgoing.headers = headers(for: request, token: token)
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(outgoing, timeout: Self.timeAmount(configuration.timeout))
        let buffer = try await response.body.collect(upTo: maxBodyBytes)
        return HTTPResult(
            status: Int(response.status.code),
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: Data(buffer.readableBytesView)
        )
    }

    func headers(for request: HTTPRequestSpec, token: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in configuration.headers { headers.replaceOrAdd(name: name, value: value) }
        for (name, value) in request.headers { headers.replaceOrAdd(name: name, value: value) }
        if request.body != nil, !headers.contains(name: "Content-Type") {
            headers.add(name: "Content-Type", value: "application/json")
        }
        if !headers.contains(name: "User-Agent") { headers.add(name: "User-Agent", value: "lethe-rest-crm") }
        switch configuration.auth {
        case .none, .apiKeyQuery:
            break
        case .bearer(let value):
            headers.replaceOrAdd(name: "Authorization", value: "Bearer \(value)")
        case .apiKeyHeader(let name, let value):
            headers.replaceOrAdd(name: name, value: value)
        case .basic(let username, let password):
            let encoded = Data("\(username):\(password)".utf8).base64EncodedString()
            headers.replaceOrAdd(name: "Authorization", value: "Basic \(encoded)")
        case .oauth2:
            if let token { headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)") }
        }
        return headers
    }

    /// A failed attempt with no answer: retried when the network or the provider may recover,
    /// thrown when retrying cannot help.
    func transportDecision(_ error: any Error, request: HTTPRequestSpec) throws(RESTCRMConnectorError) -> Decision {
        let summary = request.summary
        if error is NIOTooManyBytesError {
            throw RESTCRMConnectorError(
                code: "rest.body_too_large", message: "\(summary): the answer is larger than \(maxBodyBytes >> 20) MiB",
                isTransient: false
            )
        }
        if let clientError = error as? HTTPClientError, Self.permanentClientErrors.contains(clientError.shortDescription) {
            // `shortDescription` never carries associated values (an invalid header value could be a token).
            throw RESTCRMConnectorError(
                code: "rest.bad_request", message: "\(summary) cannot be sent (\(clientError.shortDescription))", isTransient: false
            )
        }
        if let tlsError = error as? NIOSSLError, case .handshakeFailed = tlsError {
            throw RESTCRMConnectorError(code: "rest.tls", message: "\(summary): TLS handshake failed (check tls.caFile)", isTransient: false)
        }
        if error is NIOSSLExtraError {
            throw RESTCRMConnectorError(code: "rest.tls", message: "\(summary): TLS certificate refused (check tls.caFile)", isTransient: false)
        }
        let kind: String
        if let clientError = error as? HTTPClientError {
            kind = clientError.shortDescription
        } else {
            kind = String(String(describing: error).prefix { $0 != "?" }.prefix(160))
        }
        return .retry(
            wait: nil,
            failure: RESTCRMConnectorError(code: "rest.network", message: "\(summary) failed: \(kind)", isTransient: true)
        )
    }

    private static let permanentClientErrors: Set<String> = [
        HTTPClientError.invalidURL, .emptyHost, .emptyScheme, .missingSocketPath, .alreadyShutdown, .unsupportedScheme(""),
        .invalidHeaderFieldNames([]), .invalidHeaderFieldValues([]), .traceRequestWithBody,
    ].reduce(into: []) { $0.insert($1.shortDescription) }
}
