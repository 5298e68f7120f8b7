import Crypto
public import Foundation

/// The references earlier versions gave records (HMAC-SHA256 of the connector and the record id under
/// the installation's secret, 10 bytes in hex). Such a reference does not carry its record's key, so
/// records stored then are found through `legacy_refs`, and a record an earlier version destroyed is
/// recognised by it when its id comes back.
package struct LegacyReferences: Sendable {
    private let key: Data

    package init(secret: Data) {
        key = secret
    }

    package func reference(connector: String, recordID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(connector)\u{1F}\(recordID)".utf8), using: SymmetricKey(data: key))
        return "r-" + Data(mac).prefix(10).hexString
    }
}
