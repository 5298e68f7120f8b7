import ArgumentParser
import Foundation
import RetentionCore
import RetentionStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension AuditCommand {
    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the audit log's head now, record it in the log and print it (one JSON line).",
            discussion: """
                Keep the line outside the state (another machine, a ticket, syslog): `lethe audit verify --checkpoint \
                FILE` then shows entries removed or the log rewritten up to it. --output replaces FILE atomically \
                (mode 0600); --syslog sends the line to syslog (tag lethe-audit, facility user).
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Write the checkpoint to this file (replaced atomically, mode 0600) instead of stdout.")
        var output: String?
        @Flag(help: "Send the checkpoint to syslog (tag lethe-audit) instead of stdout.")
        var syslog = false

        func run() async throws {
            let workspace = try Workspace(options: global)
            let checkpoint = try await workspace.openStore().appendAuditCheckpoint(at: workspace.clock.now())
            let line = checkpoint.jsonLine
            let console = workspace.environment.output
            if let output {
                // The checkpoint is in the log already: a file that cannot be written loses nothing.
                if let failure = Self.replace(output, with: line + "\n") {
                    let reason = String(cString: strerror(failure))
                    throw StoreError(code: "audit.checkpoint_write", message: "cannot write the checkpoint to \(output): \(reason)")
                }
                console.err("wrote the checkpoint of entry \(checkpoint.seq) to \(output)")
            }
            if syslog {
                Self.sendToSyslog(line)
                console.err("sent the checkpoint of entry \(checkpoint.seq) to syslog")
            }
            if (output == nil && !syslog) || global.json { console.out(line) }
        }

        /// Writes `text` to a new 0600 file beside `path`, flushes it and renames it over `path`:
        /// readers see the old file or the whole new one. Returns the errno of a failure.
        static func replace(_ path: String, with text: String) -> Int32? {
            let temporary = path + ".tmp-\(getpid())"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { return errno }
            var failure: Int32 = 0
            let bytes = Array(text.utf8)
            var offset = 0
            while failure == 0, offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if written < 0, errno != EINTR { failure = errno } else if written > 0 { offset += written }
            }
            if failure == 0, fchmod(descriptor, 0o600) != 0 || fsync(descriptor) != 0 { failure = errno }
            close(descriptor)
            if failure == 0, rename(temporary, path) != 0 { failure = errno }
            guard failure == 0 else {
                unlink(temporary)
                return failure
            }
            return nil
        }

        /// syslog(3), facility user, priority notice, tag `lethe-audit`.
        static func sendToSyslog(_ line: String) {
            openlog(tag, LOG_PID, LOG_USER)
            line.withCString { text in withVaList([text]) { vsyslog(LOG_NOTICE, "%s", $0) } }
            closelog()
        }

        /// openlog(3) keeps the pointer: the tag lives for the whole process.
        nonisolated(unsafe) private static let tag = strdup("lethe-audit")
    }

    struct Pubkey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the public key that signs audit checkpoints (base64 of the raw Ed25519 key).",
            discussion: """
                Keep it outside the state and pass it to `lethe audit verify --checkpoint FILE --pubkey KEY`. --json \
                prints {"key": its id, "publicKey": base64}; the id is what checkpoints name as their key.
                """
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let workspace = try Workspace(options: global)
            let key = try await workspace.openStore().auditPublicKey()
            let output = workspace.environment.output
            if global.json {
                output.out(JSONOutput.line(["key": key.id, "publicKey": key.base64]))
            } else {
                output.out(key.base64)
            }
        }
    }
}
