/// The request URI as HubSpot signs it in v3 signatures.
///
/// HubSpot's "Validating requests" guide (v3): decode the URL-encoded characters of this table in the request
/// URI before signing, and only these: `%3A` `:`, `%2F` `/`, `%3F` `?`, `%40` `@`, `%21` `!`, `%24` `$`,
/// `%27` `'`, `%28` `(`, `%29` `)`, `%2A` `*`, `%2C` `,`, `%3B` `;`. Every other escape (`%20`, `%26`, `%3D`,
/// `%25`, …) stays as sent. Decoding is one pass, so `%253A` stays `%253A`; hex digits may be either case
/// (they are equivalent in percent-encoding).
enum HubSpotURI {
    static let decoded: [String: Character] = [
        "3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$",
        "27": "'", "28": "(", "29": ")", "2A": "*", "2C": ",", "3B": ";",
    ]

    static func decodeForSignature(_ uri: String) -> String {
        var result = ""
        result.reserveCapacity(uri.utf8.count)
        var index = uri.startIndex
        while index < uri.endIndex {
            let character = uri[index]
            if character == "%",
                let first = uri.index(index, offsetBy: 1, limitedBy: uri.endIndex), first < uri.endIndex,
                let second = uri.index(first, offsetBy: 1, limitedBy: uri.endIndex), second < uri.endIndex,
                let replacement = decoded[String([uri[first], uri[second]]).uppercased()]
            {
                result.append(replacement)
                index = uri.index(after: second)
            } else {
                result.append(character)
                index = uri.index(after: index)
            }
        }
        return result
    }
}
