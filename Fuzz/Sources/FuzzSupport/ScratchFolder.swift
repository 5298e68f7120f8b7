import Foundation

/// A folder of this process's own under the temporary directory, for targets whose entry point reads a
/// file. Every input overwrites the same few files, so the folder stays small.
public struct ScratchFolder: Sendable {
    public let url: URL

    public init(_ name: String) {
        let base = ProcessInfo.processInfo.environment["LETHE_FUZZ_SCRATCH"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory
        url = base.appendingPathComponent("lethe-fuzz-\(name)-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to `name` in the folder (replacing it) and returns its URL.
    @discardableResult
    public func write(_ bytes: some Sequence<UInt8>, to name: String) -> URL {
        let file = url.appendingPathComponent(name)
        let folder = file.deletingLastPathComponent()
        if folder.path != url.path {
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        do {
            try Data(bytes).write(to: file)
        } catch {
            fatalError("cannot write the scratch file \(file.path): \(error)")
        }
        return file
    }
}

/// The repository's root, found from this file's path (Fuzz/Sources/FuzzSupport/), for shipped files
/// a target reads once at start.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
