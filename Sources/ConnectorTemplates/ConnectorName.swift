/// A new connector's name (`Zoho`, `FileMail`) and every name derived from it.
public struct ConnectorName: Sendable, Equatable {
    /// UpperCamelCase, as given: the folder under `Connectors/`.
    public let name: String
    public let kind: ConnectorKind

    /// Accepts an UpperCamelCase Swift identifier of ASCII letters and digits (2 to 40 characters)
    /// that does not already end in the kind's suffix (`Connector`, `Sink`).
    public init(_ name: String, kind: ConnectorKind) throws(ScaffoldError) {
        func refuse(_ why: String) -> ScaffoldError {
            ScaffoldError(code: "scaffold.bad_name", message: "'\(name)' cannot name a connector: \(why)")
        }
        guard (2...40).contains(name.count) else { throw refuse("use 2 to 40 characters") }
        guard let first = name.unicodeScalars.first, ("A"..."Z").contains(first) else {
            throw refuse("start with an uppercase ASCII letter (UpperCamelCase, like Zoho or FileMail)")
        }
        guard name.unicodeScalars.allSatisfy(Self.isLetterOrDigit) else {
            throw refuse("use ASCII letters and digits only (UpperCamelCase, like Zoho or FileMail)")
        }
        for suffix in ["Connector", "Sink", "Source"] where name.hasSuffix(suffix) {
            throw refuse("leave out '\(suffix)': the target is named \(name.dropLast(suffix.count))\(kind.suffix)")
        }
        self.name = name
        self.kind = kind
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// The SwiftPM target and the conforming type: `ZohoConnector`, `ZohoSink`.
    public var target: String { name + kind.suffix }
    /// The test target: `ZohoConnectorTests`.
    public var testTarget: String { target + "Tests" }
    /// `Connectors/Zoho`.
    public var folder: String { "Connectors/\(name)" }
    /// `Tests/ZohoConnectorTests`.
    public var testFolder: String { "Tests/\(testTarget)" }
    /// The factory's static property: `zoho`, `fileMail`, `csv`, `httpMail`.
    public var factory: String {
        let scalars = Array(name.unicodeScalars)
        var leading = 0
        while leading < scalars.count, ("A"..."Z").contains(scalars[leading]) { leading += 1 }
        // In a run of capitals followed by a lowercase letter, the last capital starts the next word.
        if leading > 1, leading < scalars.count, ("a"..."z").contains(scalars[leading]) { leading -= 1 }
        leading = max(leading, 1)
        return String(name.prefix(leading)).lowercased() + String(name.dropFirst(leading))
    }
    /// The `type:` in config: `zoho`, `file-mail`, `http-mail`.
    public var configType: String {
        let scalars = Array(name.unicodeScalars)
        var result = ""
        for (index, scalar) in scalars.enumerated() {
            let isUpper = ("A"..."Z").contains(scalar)
            if isUpper, index > 0 {
                let previousLower = !("A"..."Z").contains(scalars[index - 1])
                let nextLower = index + 1 < scalars.count && ("a"..."z").contains(scalars[index + 1])
                if previousLower || nextLower { result += "-" }
            }
            result.unicodeScalars.append(scalar)
        }
        return result.lowercased()
    }
    /// The prefix of the connector's error codes: `zoho`, `filemail`.
    public var errorPrefix: String { name.lowercased() }
}
