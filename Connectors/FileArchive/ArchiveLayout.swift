import Foundation

/// Where entries live: `<connector>/<YYYY-MM>.jsonl` (or `.jsonl.enc` when encrypted) under the
/// archive folder, by the UTC month of `archivedAt`, and `MANIFEST.sha256` at the top.
enum ArchiveLayout {
    static let manifestName = "MANIFEST.sha256"
    static let plainExtension = ".jsonl"
    static let encryptedExtension = ".jsonl.enc"

    /// The UTC month of `date`, as `YYYY-MM`.
    static func month(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: date)
        let year = String(parts.year ?? 1970)
        let month = String(parts.month ?? 1)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + (month.count == 1 ? "0" : "")
            + month
    }

    /// `<connector>/<YYYY-MM>.jsonl[.enc]`.
    static func relativePath(connector: String, month: String, encrypted: Bool) -> String {
        "\(connector)/\(month)\(encrypted ? encryptedExtension : plainExtension)"
    }

    /// Whether a file name is an archive data file, and whether it is encrypted.
    static func dataFileKind(_ name: String) -> (isData: Bool, encrypted: Bool) {
        guard !name.hasPrefix(".") else { return (false, false) }
        if name.hasSuffix(encryptedExtension) { return (true, true) }
        return (name.hasSuffix(plainExtension), false)
    }

    /// Letters, digits, `.`, `_` and `-`, not starting with a dot: safe as one folder name.
    static func isSafeConnectorName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 100, !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
            default: false
            }
        }
    }

    /// The data files under `root` as sorted relative paths (`connector/month.jsonl`), one level deep.
    static func dataFiles(under root: String) -> [String] {
        let manager = FileManager.default
        guard let connectors = try? manager.contentsOfDirectory(atPath: root) else { return [] }
        var result: [String] = []
        for connector in connectors where isSafeConnectorName(connector) {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: root + "/" + connector, isDirectory: &isDirectory), isDirectory.boolValue,
                let files = try? manager.contentsOfDirectory(atPath: root + "/" + connector)
            else { continue }
            result += files.filter { dataFileKind($0).isData }.map { "\(connector)/\($0)" }
        }
        return result.sorted()
    }
}
