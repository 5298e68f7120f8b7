#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files and folders only their owner may read, written durably: what Lethe keeps in its state folder
/// and outboxes (the database, secrets, locks, mail, archive copies) and the files it rewrites (a CSV)
/// hold keys or personal data.
///
/// A durable replacement is one shape everywhere: a temporary file beside the target
/// (`.<name>.lethe-<UUID>.tmp`, created with `O_EXCL`), written, fsynced, renamed over the target, then
/// the folder fsynced. An interrupted one leaves only such a temporary file, which the next write to
/// the same place removes (`removeLeftovers`).
///
/// Everything is created with its final mode (`open` with `O_CREAT | O_EXCL` and 0600, `mkdir` with
/// 0700), then given exactly that mode on the open descriptor whatever the umask — never created
/// looser and tightened afterwards. Failures are errors, never ignored.
public enum PrivateFiles {
    static let fileMode: mode_t = 0o600
    static let folderMode: mode_t = 0o700

    /// Creates `path` and its missing parents (each 0700); an existing `path` whose mode lets group
    /// or others in is tightened to 0700. Existing parents are left as they are.
    public static func makeFolder(_ path: String) throws(PrivateFileError) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else { throw PrivateFileError("not a folder", path, errno: ENOTDIR) }
            if status.st_mode & 0o077 != 0, chmod(path, folderMode) != 0 { throw PrivateFileError("cannot restrict", path, errno: errno) }
            return
        }
        let parent = Self.parent(of: path)
        if !parent.isEmpty, parent != path, stat(parent, &status) != 0 { try makeFolder(parent) }
        guard mkdir(path, folderMode) == 0 || errno == EEXIST else { throw PrivateFileError("cannot create the folder", path, errno: errno) }
        if chmod(path, folderMode) != 0 { throw PrivateFileError("cannot restrict", path, errno: errno) }
    }

    /// Opens a new file (it must not exist) for writing, mode 0600; the caller closes the descriptor.
    public static func createNew(_ path: String) throws(PrivateFileError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else { throw PrivateFileError("cannot create", path, errno: errno) }
        guard fchmod(descriptor, fileMode) == 0 else {
            let number = errno
            close(descriptor)
            unlink(path)
            throw PrivateFileError("cannot restrict", path, errno: number)
        }
        return descriptor
    }

    /// Creates `path` (it must not exist) holding `bytes`, mode 0600, fsynced when `sync`.
    public static func write(_ bytes: [UInt8], toNew path: String, sync: Bool = true) throws(PrivateFileError) {
        let descriptor = try createNew(path)
        defer { close(descriptor) }
        try writeAll(bytes, to: descriptor, path: path)
        guard !sync || fsync(descriptor) == 0 else { throw PrivateFileError("cannot fsync", path, errno: errno) }
    }

    /// Writes all of `bytes` to an open descriptor.
    public static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(PrivateFileError) {
        let failure: PrivateFileError? = bytes.withUnsafeBytes { buffer in
            do throws(PrivateFileError) {
                try writeAll(buffer, to: descriptor, path: path)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String) throws(PrivateFileError) {
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw PrivateFileError("cannot write", path, errno: errno)
            }
            offset += written
        }
    }

    // MARK: Durable replacement

    /// The name of a temporary file beside `path`: `.<name>.lethe-<UUID>.tmp`.
    public static func temporaryPath(near path: String) -> String {
        let folder = parent(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let prefix = folder.isEmpty ? "" : (folder == "/" ? "/" : folder + "/")
        return prefix + ".\(name).lethe-\(randomHex()).tmp"
    }

    /// Whether `name` (in the same folder) is a temporary file of a replacement of `fileName`, or of
    /// any file when `fileName` is nil.
    public static func isTemporary(_ name: String, of fileName: String? = nil) -> Bool {
        guard name.hasPrefix("."), name.hasSuffix(".tmp"), name.contains(".lethe-") else { return false }
        guard let fileName else { return true }
        return name.hasPrefix(".\(fileName).lethe-")
    }

    /// Creates a new temporary file beside `path` with exactly `mode` (0600 unless said otherwise:
    /// a rewritten file keeps its own mode). The caller closes the descriptor.
    public static func createTemporary(near path: String, mode: UInt32 = 0o600) throws(PrivateFileError) -> (path: String, descriptor: Int32) {
        let temporary = temporaryPath(near: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else { throw PrivateFileError("cannot create a temporary file next to", path, errno: errno) }
        guard fchmod(descriptor, mode_t(mode)) == 0 else {
            let number = errno
            close(descriptor)
            unlink(temporary)
            throw PrivateFileError("cannot restrict a temporary file next to", path, errno: number)
        }
        return (temporary, descriptor)
    }

    public static func sync(_ descriptor: Int32, path: String) throws(PrivateFileError) {
        guard fsync(descriptor) == 0 else { throw PrivateFileError("cannot fsync", path, errno: errno) }
    }

    /// Renames a durable temporary file over `path` (the rename is atomic); the folder is not synced.
    public static func rename(_ temporary: String, over path: String) throws(PrivateFileError) {
        guard systemRename(temporary, path) == 0 else { throw PrivateFileError("cannot replace", path, errno: errno) }
    }

    /// Fsyncs a folder, so that a rename or a new file in it survives a crash.
    public static func syncFolder(_ folder: String) throws(PrivateFileError) {
        let descriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw PrivateFileError("cannot open", folder, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw PrivateFileError("cannot fsync", folder, errno: errno) }
    }

    /// The folder a path is in.
    public static func folder(of path: String) -> String {
        let folder = parent(of: path)
        return folder.isEmpty ? "." : folder
    }

    /// Replaces `path` with `bytes` durably (temporary file with `mode`, fsync, rename, folder fsync);
    /// on failure the target is unchanged and no temporary file is left.
    public static func replace(_ path: String, with bytes: [UInt8], mode: UInt32 = 0o600) throws(PrivateFileError) {
        let (temporary, descriptor) = try createTemporary(near: path, mode: mode)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do throws(PrivateFileError) {
            try writeAll(bytes, to: descriptor, path: temporary)
            try sync(descriptor, path: temporary)
        } catch {
            close(descriptor)
            throw error
        }
        close(descriptor)
        try rename(temporary, over: path)
        renamed = true
        try syncFolder(folder(of: path))
    }

    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<32).map { _ in digits[Int(generator.next() % 16)] }, as: UTF8.self)
    }

    /// Creates an empty file with mode 0600 unless `path` exists (a database about to be opened: SQLite
    /// gives its `-wal` and `-shm` files the mode of the database file).
    public static func ensureFile(_ path: String) throws(PrivateFileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if descriptor < 0 {
            guard errno == EEXIST else { throw PrivateFileError("cannot create", path, errno: errno) }
            return
        }
        defer { close(descriptor) }
        guard fchmod(descriptor, fileMode) == 0 else { throw PrivateFileError("cannot restrict", path, errno: errno) }
    }

    /// Tightens `root` and everything under it: folders to 0700, files to 0600, where group or others
    /// had any access (symbolic links are not followed). Returns the paths changed.
    @discardableResult
    public static func tighten(_ root: String) throws(PrivateFileError) -> [String] {
        var changed: [String] = []
        try tighten(root, changed: &changed)
        return changed
    }

    private static func tighten(_ path: String, changed: inout [String]) throws(PrivateFileError) {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw PrivateFileError("cannot inspect", path, errno: errno)
        }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFDIR || kind == S_IFREG else { return }
        if status.st_mode & 0o077 != 0 {
            guard chmod(path, status.st_mode & 0o700) == 0 else { throw PrivateFileError("cannot restrict", path, errno: errno) }
            changed.append(path)
        }
        guard kind == S_IFDIR else { return }
        for name in try entries(of: path) { try tighten(path + "/" + name, changed: &changed) }
    }

    /// The names in a folder (without `.` and `..`).
    public static func entries(of folder: String) throws(PrivateFileError) -> [String] {
        guard let directory = opendir(folder) else { throw PrivateFileError("cannot list", folder, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes the temporary files an interrupted write left in `folder` (names `isLeftover` accepts,
    /// regular files last modified at least `minimumAge` seconds ago). Returns the names removed.
    public static func removeLeftovers(
        in folder: String, minimumAge: Int = 0, where isLeftover: (String) -> Bool
    ) -> [String] {
        guard let names = try? entries(of: folder) else { return [] }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var removed: [String] = []
        for name in names where isLeftover(name) {
            let path = folder + "/" + name
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            guard Int(now.tv_sec) - Int(status.st_mtim.tv_sec) >= minimumAge else { continue }
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed.sorted()
    }

    /// Runs `body` holding an exclusive `flock` on the folder itself (no lock file is created):
    /// writers of one folder from several processes take turns.
    public static func withFolderLock<T>(_ folder: String, _ body: () throws -> T) throws -> T {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw PrivateFileError("cannot open", folder, errno: errno) }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw PrivateFileError("cannot lock", folder, errno: errno) }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }
}

/// A file could not be created, written or restricted.
public struct PrivateFileError: Error, CustomStringConvertible, Sendable {
    public var action: String
    public var path: String
    public var errno: Int32

    public init(_ action: String, _ path: String, errno: Int32) {
        self.action = action
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(action) \(path): \(String(cString: strerror(errno)))" }
}

@inline(__always)
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

@inline(__always)
private func systemRename(_ from: String, _ to: String) -> Int32 {
    rename(from, to)
}
