#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files and folders only their owner may read: what Lethe keeps in its state folder and outboxes
/// (the database, secrets, locks, mail, archive copies) holds keys or personal data.
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
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw PrivateFileError("cannot write", path, errno: errno)
            }
            offset += written
        }
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
