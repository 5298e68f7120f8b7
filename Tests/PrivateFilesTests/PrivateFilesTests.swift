import Foundation
import PrivateFiles
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Folders 0700 and files 0600 right after creation, whatever the umask; looser modes tightened.
@Suite(.serialized) struct PrivateFilesTests {
    static func mode(_ path: String) -> mode_t {
        var status = stat()
        _ = lstat(path, &status)
        return status.st_mode & 0o7777
    }

    static func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("lethe-private-\(UUID().uuidString)").path
    }

    /// Runs `body` with a permissive umask, as a careless service manager would set it.
    static func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
        let previous = umask(mask)
        defer { umask(previous) }
        return try body()
    }

    @Test(arguments: [mode_t(0o000), 0o022, 0o002])
    func foldersAndFilesAreTheOwnersAloneFromTheirCreation(mask: mode_t) throws {
        let root = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.withUmask(mask) {
            try PrivateFiles.makeFolder(root + "/state/outbox")
            try PrivateFiles.write(Array("secret".utf8), toNew: root + "/state/link-secret")
            try PrivateFiles.ensureFile(root + "/state/lethe.sqlite")
        }
        #expect(Self.mode(root) == 0o700 && Self.mode(root + "/state") == 0o700 && Self.mode(root + "/state/outbox") == 0o700)
        #expect(Self.mode(root + "/state/link-secret") == 0o600)
        #expect(Self.mode(root + "/state/lethe.sqlite") == 0o600)
        #expect(throws: PrivateFileError.self, "an existing file is never overwritten") {
            try PrivateFiles.write(Array("other".utf8), toNew: root + "/state/link-secret")
        }
        #expect(try String(contentsOfFile: root + "/state/link-secret", encoding: .utf8) == "secret")
    }

    @Test func looserModesAreTightenedAndNothingElseChanges() throws {
        let root = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/outbox", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        FileManager.default.createFile(atPath: root + "/outbox/op-1.eml", contents: Data("x".utf8), attributes: [.posixPermissions: 0o640])
        FileManager.default.createFile(atPath: root + "/lethe.sqlite", contents: Data(), attributes: [.posixPermissions: 0o644])
        FileManager.default.createFile(atPath: root + "/locked", contents: Data(), attributes: [.posixPermissions: 0o400])
        chmod(root, 0o755)
        let changed = try PrivateFiles.tighten(root)
        #expect(Set(changed) == [root, root + "/outbox", root + "/outbox/op-1.eml", root + "/lethe.sqlite"])
        #expect(Self.mode(root) == 0o700 && Self.mode(root + "/outbox") == 0o700)
        #expect(Self.mode(root + "/outbox/op-1.eml") == 0o600 && Self.mode(root + "/lethe.sqlite") == 0o600)
        #expect(Self.mode(root + "/locked") == 0o400, "the owner's own bits are kept")
        #expect(try PrivateFiles.tighten(root).isEmpty, "nothing left to tighten")
    }

    @Test func anExistingFolderIsTightenedButItsParentsAreNot() throws {
        let root = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        chmod(root, 0o755)
        try PrivateFiles.makeFolder(root + "/state")
        #expect(Self.mode(root + "/state") == 0o700)
        #expect(Self.mode(root) == 0o755, "a parent that exists is someone else's business")
        #expect(throws: PrivateFileError.self) { try PrivateFiles.makeFolder("/proc/lethe-cannot-exist/state") }
    }

    @Test func aReplacementIsAtomicPrivateAndLeavesNoTemporaryFile() throws {
        let root = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try PrivateFiles.makeFolder(root)
        let target = root + "/data.csv"
        FileManager.default.createFile(atPath: target, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644])
        try PrivateFiles.replace(target, with: Array("new".utf8), mode: 0o640)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "new")
        #expect(Self.mode(target) == 0o640, "the mode asked for, exactly")
        try PrivateFiles.replace(root + "/secret", with: Array("s".utf8))
        #expect(Self.mode(root + "/secret") == 0o600)
        #expect(try PrivateFiles.entries(of: root).sorted() == ["data.csv", "secret"], "no temporary file left")
        #expect(throws: PrivateFileError.self, "a missing folder fails, loudly") {
            try PrivateFiles.replace(root + "/missing/file", with: [1])
        }
        let temporary = PrivateFiles.temporaryPath(near: target)
        let name = String(temporary.split(separator: "/").last!)
        #expect(temporary.hasPrefix(root + "/.data.csv.lethe-") && temporary.hasSuffix(".tmp"))
        #expect(PrivateFiles.isTemporary(name) && PrivateFiles.isTemporary(name, of: "data.csv"))
        #expect(!PrivateFiles.isTemporary(name, of: "other.csv") && !PrivateFiles.isTemporary("data.csv"))
    }

    @Test func onlyLeftoversOldEnoughAreRemoved() throws {
        let root = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try PrivateFiles.makeFolder(root)
        for name in [".op-1.eml.A.tmp", ".op-2.eml.B.tmp", "op-3.eml"] {
            FileManager.default.createFile(atPath: root + "/" + name, contents: Data("x".utf8))
        }
        var old = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, root + "/.op-1.eml.A.tmp", &old, 0)
        let isTemporary: (String) -> Bool = { $0.hasPrefix(".op-") && $0.hasSuffix(".tmp") }
        #expect(PrivateFiles.removeLeftovers(in: root, minimumAge: 3600, where: isTemporary) == [".op-1.eml.A.tmp"], "a fresh one may be another process's write")
        #expect(PrivateFiles.removeLeftovers(in: root, where: isTemporary) == [".op-2.eml.B.tmp"])
        #expect(FileManager.default.fileExists(atPath: root + "/op-3.eml"))
    }
}
