import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RetentionCore

extension RESTHTTPClient {
    /// The token request of an OAuth2 configuration: a form POST to `tokenURL`, reading
    /// `access_token` and `expires_in`. Errors name the status and the OAuth2 `error` code only.
    static func tokenFetcher(
        settings: HTTPAuth.OAuth2Settings,
        configuration: HTTPConfiguration,
        client: HTTPClient,
        counters: HTTPLocked<HTTPStatistics>
    ) -> OAuth2TokenSource.Fetch {
        let url = settings.tokenURL.hasPrefix("/") ? configuration.baseURL + settings.tokenURL : settings.tokenURL
        var form: [(String, String)] = [
            ("grant_type", settings.grant == .clientCredentials ? "client_credentials" : "refresh_token"),
        ]
        if let clientID = settings.clientID { form.append(("client_id", clientID)) }
        if let secret = settings.clientSecret { form.append(("client_secret", secret)) }
        if settings.grant == .refreshToken, let refreshToken = settings.refreshToken { form.append(("refresh_token", refreshToken)) }
        if let scope = settings.scope { form.append(("scope", scope)) }
        let body = form.map { formEncode($0.0) + "=" + formEncode($0.1) }.joined(separator: "&")
        let timeout = timeAmount(configuration.timeout)
        return {
            counters.withLock { $0.tokenRequests += 1 }
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "User-Agent", value: "lethe-rest-crm")
            request.body = .bytes(ByteBuffer(string: body))
            let status: Int
            let data: Data
            do {
                let response = try await client.execute(request, timeout: timeout)
                status = Int(response.status.code)
                data = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                let kind = (error as? HTTPClientError)?.shortDescription ?? String(describing: type(of: error))
                throw RESTCRMConnectorError.authFailed("token endpoint unreachable (\(kind))", isTransient: true)
            }
            let document = try? JSONValue.parse(data)
            guard (200..<300).contains(status) else {
                var oauthCode = ""
                if case .object(let members)? = document, let code = members["error"]?.text {
                    oauthCode = " (\(code.prefix(60)))"
                }
                let transient = status >= 500 || status == 429 || status == 408
                throw RESTCRMConnectorError.authFailed("the token endpoint answered \(status)\(oauthCode)", isTransient: transient)
            }
            guard case .object(let members)? = document, let token = members["access_token"]?.text, !token.isEmpty else {
                throw RESTCRMConnectorError.authFailed("the token endpoint's answer has no access_token", isTransient: false)
            }
            let lifetime = members["expires_in"]?.text.flatMap(Double.init).flatMap { $0 > 0 ? HTTPTime.duration(seconds: $0) : nil }
            return (token, lifetime)
        }
    }
}
