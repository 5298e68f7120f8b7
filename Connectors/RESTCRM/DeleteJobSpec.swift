import Foundation
import RetentionCore

/// `delete.job:` — permanent deletes through an asynchronous bulk job, Salesforce Bulk API 2.0
/// ingest with operation `hardDelete`: create the job, upload the ids as CSV, close it, poll it until
/// it ends, then read its per-record results. Used in `permanent` mode only, so one manifest can
/// offer a soft delete (`one`/`batch`) and this one, and `mode` picks.
///
/// ```yaml
/// job:
///   type: salesforce-bulk-2.0        # the job protocol (the only one so far)
///   path: /services/data/v60.0/jobs/ingest
///   object: Contact
///   operation: hardDelete             # the only one accepted; needs the "Bulk API Hard Delete" permission
///   max: 10000                        # ids per job
///   poll: {initial: 1s, max: 15s, timeout: 10m}
///   gone: [ENTITY_IS_DELETED, INVALID_CROSS_REFERENCE_KEY]   # per-record errors that mean already gone
/// ```
struct DeleteJobSpec: Sendable, Equatable {
    enum Kind: String, Sendable { case salesforceBulk2 = "salesforce-bulk-2.0" }

    var kind: Kind
    /// The ingest resource, relative to `baseURL`; a job is `path/{jobId}`.
    var path: String
    var object: String
    var operation: String
    var max: Int
    /// The first wait between two status checks, doubled up to `pollMax`.
    var pollInitial: Duration
    var pollMax: Duration
    /// How long one job is waited for; past it the job's ids fail (transient) and are retried later.
    var timeout: Duration
    /// Error codes (the part of `sf__Error` before the first `:`) that mean the record is already gone.
    var gone: Set<String>

    init(config node: ConfigNode) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: ["type", "path", "object", "operation", "max", "poll", "gone"])
        guard let typeNode = node["type"] else { throw node.error("config.missing", "type is required (salesforce-bulk-2.0)") }
        kind = try IncrementalSpec.choice(typeNode, default: .salesforceBulk2)
        guard let pathNode = node["path"] else { throw node.error("config.missing", "path is required") }
        path = try pathNode.string()
        while path.hasSuffix("/") { path.removeLast() }
        guard path.hasPrefix("/") || path.hasPrefix("https://") || path.hasPrefix("http://") else {
            throw pathNode.error("config.path", "a path starts with / (relative to baseURL) or is an absolute URL")
        }
        guard let objectNode = node["object"] else { throw node.error("config.missing", "object is required (e.g. Contact)") }
        object = try objectNode.string()
        operation = try node["operation"]?.string() ?? "hardDelete"
        // A job's `delete` would be a soft delete reported as permanent: only `hardDelete` is accepted.
        guard operation == "hardDelete" else {
            throw node["operation"]!.error("config.choice", "operation is hardDelete (a job deletes permanently)")
        }
        max = try node["max"]?.int() ?? 10_000
        guard max > 0 else { throw node["max"]!.error("config.range", "max must be positive") }
        pollInitial = .seconds(1)
        pollMax = .seconds(15)
        timeout = .seconds(600)
        if let poll = node["poll"] {
            try poll.rejectUnknownKeys(allowed: ["initial", "max", "timeout"])
            if let child = poll["initial"] { pollInitial = try child.positiveHTTPDuration() }
            if let child = poll["max"] {
                pollMax = try child.positiveHTTPDuration()
                guard pollMax >= pollInitial else { throw child.error("config.range", "must not be less than initial") }
            } else {
                pollMax = Swift.max(pollMax, pollInitial)
            }
            if let child = poll["timeout"] { timeout = try child.positiveHTTPDuration() }
        }
        gone = Set(try node["gone"]?.items().map { item throws(ConfigError) in try item.string() }
            ?? ["ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"])
    }

    /// What the destruction register says of a record this job deleted.
    var method: String { "hard delete (Bulk API 2.0)" }
}
