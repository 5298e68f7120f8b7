import Foundation
import RetentionCore

/// The sending side the connector needs; `RESTHTTPClient` is the real one.
protocol HTTPSending: Sendable {
    func send(_ request: HTTPRequestSpec, expectJSON: Bool) async throws -> HTTPResult
    func errorCode(in body: Data) -> String?
    func failure(for request: HTTPRequestSpec, result: HTTPResult) -> RESTCRMConnectorError
}

extension RESTHTTPClient: HTTPSending {}

/// A CRM reached over REST as its manifest describes: a `RecordSource` (full and incremental
/// pulls, re-reads) and a `RecordWriter` (deletes, single or batched, and field updates).
///
/// Guarantees: a pull reads every page before it ends (so deletes never run while paging by
/// offset); the same id is yielded once per pull; a record the manifest marks deleted
/// (`absentWhen`) counts as absent; deleting what is gone is `.alreadyGone`; only the fields an
/// operation changes are written. Nothing it logs or throws holds a token, a field value or an id.
final class RESTCRMConnector: RecordSource, RecordWriter, Sendable {
    let manifest: Manifest
    let client: any HTTPSending
    let context: ConnectorContext
    let lookups: LookupCache

    init(manifest: Manifest, client: any HTTPSending, context: ConnectorContext) {
        self.manifest = manifest
        self.client = client
        self.context = context
        self.lookups = LookupCache()
    }

    // MARK: Source

    func check() async throws {
        var variables = TemplateVariables()
        variables["pageSize"] = .integer(1)
        let request = manifest.list.endpoint.request(variables)
        let result = try await client.send(request, expectJSON: true)
        guard (200..<300).contains(result.status) else { throw client.failure(for: request, result: result) }
    }

    /// Pages are read at most two ahead of the consumer (bounded memory whatever the CRM's size).
    func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error> {
        let buffer = PageBuffer(capacity: 2)
        let producer = Task {
            do {
                try await self.pull(request) { batch in try await buffer.put(batch) }
                await buffer.finish(nil)
            } catch {
                await buffer.finish(error)
            }
        }
        return AsyncThrowingStream(unfolding: {
            try await withTaskCancellationHandler {
                try await buffer.take()
            } onCancel: {
                producer.cancel()
            }
        })
    }

    private func pull(_ request: PullRequest, emit: @Sendable (RecordBatch) async throws -> Void) async throws {
        let tables = try await optionTables()
        var state = PullState(watermark: request.watermark)
        if !request.full, let incremental = manifest.incremental, let watermark = request.watermark {
            try await pullIncremental(incremental, since: watermark, tables: tables, state: &state, emit: emit)
        } else {
            try await walk(manifest.list, variables: TemplateVariables(), tables: tables, state: &state) { records, state in
                try await emit(RecordBatch(records: records, watermark: state.watermark))
                return true
            }
        }
        context.log(.info, "rest pull finished", ["connector": context.name, "records": String(state.seen.count), "pages": String(state.pages)])
    }

    /// Incremental pulls: ascending queries restart at the cap from the greatest value seen;
    /// descending lists stop at the first record not newer than the watermark.
    private func pullIncremental(
        _ incremental: IncrementalSpec, since watermark: String, tables: [String: OptionTable], state: inout PullState,
        emit: @Sendable (RecordBatch) async throws -> Void
    ) async throws {
        let field = incremental.field
        let since = Self.instant(watermark)
        var boundary = watermark
        while true {
            var variables = TemplateVariables()
            variables["watermark"] = .string(incremental.render(boundary))
            var returned = 0
            var capped = false
            try await walk(incremental.list, variables: variables, tables: tables, state: &state) { records, state in
                returned += records.count
                if incremental.order == .descending, let since {
                    let newer = records.prefix { record in
                        guard let value = record.value(field), let instant = Self.instant(value) else { return true }
                        return instant > since
                    }
                    try await emit(RecordBatch(records: Array(newer), watermark: state.watermark))
                    return newer.count == records.count
                }
                try await emit(RecordBatch(records: records, watermark: state.watermark))
                if let cap = incremental.cap, returned + incremental.list.pageSize > cap {
                    capped = true
                    return false
                }
                return true
            }
            guard capped else { return }
            guard let next = state.watermark, next != boundary else {
                throw RESTCRMConnectorError(
                    code: "rest.incremental_cap",
                    message: "more than \(incremental.cap ?? 0) records share one \(field) value: cannot page past the provider's cap",
                    isTransient: false)
            }
            boundary = next
        }
    }

    /// What a pull has seen so far.
    struct PullState: Sendable {
        var watermark: String?
        /// Ids yielded (not marked deleted).
        var seen: Set<String> = []
        var pages = 0
    }

    /// Reads every page of `list`, mapping records and calling `page` with the new ones (ids not
    /// seen before in this pull, not marked deleted) until it returns false or the pages end.
    ///
    /// A list that does not advance fails the pull (`rest.pagination_loop`), so nothing is judged
    /// from it: a request repeated within one walk (the same cursor, URL or page), a page that brings
    /// no id not already listed in this walk, or more than `maxPages` pages.
    private func walk(
        _ list: ListSpec, variables base: TemplateVariables, tables: [String: OptionTable], state: inout PullState,
        page: ([SourceRecord], PullState) async throws -> Bool
    ) async throws {
        var requested: Set<String> = []
        var walked = 0
        var listedHere: Set<String> = []
        var variables = base
        variables["pageSize"] = .integer(list.pageSize)
        var offset = 0
        var number = 1
        if case .page(let start) = list.pagination { number = start }
        variables["offset"] = .integer(0)
        variables["page"] = .integer(number)
        var request = list.endpoint.request(variables)
        while true {
            try Task.checkCancellation()
            guard requested.insert(request.identity).inserted else {
                throw Self.paginationLoop("the list asked for a page it had already read (a repeated cursor or URL)")
            }
            walked += 1
            guard walked <= list.maxPages else {
                throw Self.paginationLoop("the list did not end within maxPages (\(list.maxPages)) pages")
            }
            let body = try await fetch(request)
            state.pages += 1
            let elements = try manifest.mapping.elements(of: body.json)
            var fresh: [SourceRecord] = []
            var newOnPage = elements.isEmpty
            for element in elements {
                let record = manifest.mapping.record(element, lookups: tables)
                if record.id.isEmpty || listedHere.insert(record.id).inserted { newOnPage = true }
                if let absent = manifest.absentWhen, absent.isMet(element) { continue }
                if !record.id.isEmpty {
                    guard state.seen.insert(record.id).inserted else { continue }
                }
                if let field = manifest.incremental?.field, let value = record.value(field) {
                    state.watermark = Self.later(state.watermark, value)
                }
                fresh.append(record)
            }
            guard newOnPage else {
                throw Self.paginationLoop("a page brought no record the list had not already returned")
            }
            guard try await page(fresh, state) else { return }
            if let stop = list.stop, stop.isMet(body.json) { return }
            switch list.pagination.next(after: body.json, headers: body.result, count: elements.count, offset: offset, page: number, pageSize: list.pageSize) {
            case .done:
                return
            case .loop(let detail):
                throw Self.paginationLoop(detail)
            case .url(let next):
                let rendered = list.endpoint.request(variables)
                request = HTTPRequestSpec(method: "GET", path: next, headers: rendered.headers)
            case .variables(let cursor, let nextOffset, let nextPage):
                if let cursor { variables["cursor"] = .string(cursor) }
                if let nextOffset {
                    offset = nextOffset
                    variables["offset"] = .integer(nextOffset)
                }
                if let nextPage {
                    number = nextPage
                    variables["page"] = .integer(nextPage)
                }
                request = list.endpoint.request(variables)
            }
        }
    }

    static func paginationLoop(_ detail: String) -> RESTCRMConnectorError {
        RESTCRMConnectorError(code: "rest.pagination_loop", message: "the pull stopped: \(detail)", isTransient: false)
    }

    func read(ids: [String]) async throws -> [SourceRecord] {
        guard !ids.isEmpty else { return [] }
        let tables = try await optionTables()
        if let batch = manifest.readBatch {
            var records: [SourceRecord] = []
            for start in stride(from: 0, to: ids.count, by: batch.max) {
                let chunk = Array(ids[start..<min(start + batch.max, ids.count)])
                records += try await readBatch(chunk, spec: batch, tables: tables)
            }
            return records
        }
        guard let one = manifest.readOne else {
            throw RESTCRMConnectorError(code: "rest.cannot_read", message: "the manifest declares no read request: records cannot be re-checked", isTransient: false)
        }
        return try await concurrentMap(ids) { id in try await self.readOne(id, spec: one, tables: tables) }.compactMap { $0 }
    }

    private func readBatch(_ ids: [String], spec: ReadSpec, tables: [String: OptionTable]) async throws -> [SourceRecord] {
        var variables = TemplateVariables()
        variables["ids"] = .array(ids.map(JSONValue.string))
        let request = spec.endpoint.request(variables)
        let result = try await client.send(request, expectJSON: true)
        // 207 Multi-Status (HubSpot: some ids missing) carries the found records like a 200. Gone is a
        // per-record fact: an answer that fails as a whole (a 404 for a mistyped route or an API version
        // the account lacks) is a failure of the request, never a verdict on its ids.
        guard (200..<300).contains(result.status) else { throw client.failure(for: request, result: result) }
        let json = try RecordMapping.document(result.body)
        let found = spec.records.map { $0.evaluate(json) } ?? json
        guard case .array(let elements)? = found else {
            if case .null? = found { return [] }
            throw RESTCRMConnectorError.badBody("no record array in a batch read")
        }
        let wanted = Set(ids)
        return elements.compactMap { element in
            guard case .object = element else { return nil }
            if let absent = manifest.absentWhen, absent.isMet(element) { return nil }
            let record = manifest.mapping.record(element, lookups: tables)
            return wanted.contains(record.id) ? record : nil
        }
    }

    private func readOne(_ id: String, spec: ReadSpec, tables: [String: OptionTable]) async throws -> SourceRecord? {
        var variables = TemplateVariables()
        variables["id"] = .string(id)
        let request = spec.endpoint.request(variables)
        let result = try await client.send(request, expectJSON: true)
        guard (200..<300).contains(result.status) else {
            if isGone(result) { return nil }
            throw client.failure(for: request, result: result)
        }
        let json = try RecordMapping.document(result.body)
        guard let element = spec.records.map({ $0.evaluate(json) }) ?? json, case .object = element else { return nil }
        if let absent = manifest.absentWhen, absent.isMet(element) { return nil }
        return manifest.mapping.record(element, lookups: tables)
    }

    // MARK: Shared

    struct Page {
        var result: HTTPResult
        var json: JSONValue
    }

    /// Sends a request and parses its 2xx JSON body; anything else is the client's failure.
    func fetch(_ request: HTTPRequestSpec) async throws -> Page {
        let result = try await client.send(request, expectJSON: true)
        guard (200..<300).contains(result.status) else { throw client.failure(for: request, result: result) }
        return Page(result: result, json: try RecordMapping.document(result.body))
    }

    /// A 404/410 or a provider code the manifest lists under `gone`.
    func isGone(_ result: HTTPResult) -> Bool {
        if manifest.gone.statuses.contains(result.status) { return true }
        guard !(200..<300).contains(result.status), let code = client.errorCode(in: result.body) else { return false }
        return manifest.gone.codes.contains(code)
    }

    /// The option tables of the manifest's lookups, read once per connector.
    func optionTables() async throws -> [String: OptionTable] {
        guard !manifest.lookups.isEmpty else { return [:] }
        return try await lookups.tables {
            var tables: [String: OptionTable] = [:]
            let keys = self.lookupKeys()
            for (name, spec) in self.manifest.lookups {
                tables[name] = try await self.readLookup(spec, keys: keys[name] ?? [])
            }
            return tables
        }
    }

    /// The field keys each lookup must resolve: read paths and write names of the fields using it.
    /// A nested read path (`custom_fields.<key>`, Pipedrive v2) also names its last key.
    private func lookupKeys() -> [String: Set<String>] {
        var keys: [String: Set<String>] = [:]
        for field in manifest.mapping.fields.values {
            guard let lookup = field.options else { continue }
            let path = field.path.description
            keys[lookup, default: []].insert(path)
            if let last = path.split(separator: ".").last, !last.contains("[") {
                keys[lookup, default: []].insert(String(last))
            }
        }
        for field in manifest.update?.fields.values ?? [:].values {
            if let lookup = field.options { keys[lookup, default: []].insert(field.name) }
        }
        return keys
    }

    private func readLookup(_ spec: LookupSpec, keys: Set<String>) async throws -> OptionTable {
        var table = OptionTable()
        var variables = TemplateVariables()
        variables["pageSize"] = .integer(500)
        variables["offset"] = .integer(0)
        var offset = 0
        var request = spec.endpoint.request(variables)
        var requested: Set<String> = []
        for _ in 0..<1000 {
            guard requested.insert(request.identity).inserted else {
                throw Self.paginationLoop("the lookup asked for a page it had already read (a repeated cursor or URL)")
            }
            let page = try await fetch(request)
            let found = spec.records.map { $0.evaluate(page.json) } ?? page.json
            guard case .array(let definitions)? = found else { break }
            for definition in definitions {
                guard let key = spec.key.evaluate(definition)?.text, keys.contains(key),
                    case .array(let options)? = spec.options.evaluate(definition)
                else { continue }
                for option in options {
                    if let id = spec.id.evaluate(option)?.text, let label = spec.label.evaluate(option)?.text {
                        table.labels[id] = label
                    }
                }
            }
            switch spec.pagination.next(after: page.json, headers: page.result, count: definitions.count, offset: offset, page: 1, pageSize: 500) {
            case .done: return table
            case .loop(let detail): throw Self.paginationLoop(detail)
            case .url(let next): request = HTTPRequestSpec(method: "GET", path: next)
            case .variables(let cursor, let nextOffset, _):
                if let cursor {
                    variables["cursor"] = .string(cursor)
                } else if let nextOffset {
                    offset = nextOffset
                    variables["offset"] = .integer(nextOffset)
                } else {
                    return table
                }
                request = spec.endpoint.request(variables)
            }
        }
        return table
    }

    /// Runs `body` for every element, at most a few at a time (the client bounds the requests).
    func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
        try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            let width = 8
            while next < min(width, items.count) {
                let index = next
                group.addTask { (index, try await body(items[index])) }
                next += 1
            }
            while let (index, value) = try await group.next() {
                results[index] = value
                if next < items.count {
                    let item = next
                    group.addTask { (item, try await body(items[item])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }

    static func instant(_ text: String) -> Date? {
        DateParser(zone: TimeZone(secondsFromGMT: 0)!).parse(text)
    }

    /// The later of two date-times (by instant; unparseable values never win).
    static func later(_ current: String?, _ candidate: String) -> String {
        guard let candidateInstant = instant(candidate) else { return current ?? candidate }
        guard let current, let currentInstant = instant(current) else { return candidate }
        return candidateInstant > currentInstant ? candidate : current
    }
}

/// A bounded hand-over between the page reader and the consumer: `put` waits while `capacity`
/// batches are waiting; `take` returns nil after the end, or throws the reader's error.
actor PageBuffer {
    private var batches: [RecordBatch] = []
    private var ended = false
    private var failure: (any Error)?
    private var waitingTaker: CheckedContinuation<Void, Never>?
    private var waitingPutter: CheckedContinuation<Void, Never>?
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func put(_ batch: RecordBatch) async throws {
        while batches.count >= capacity, !ended {
            await withCheckedContinuation { waitingPutter = $0 }
            try Task.checkCancellation()
        }
        batches.append(batch)
        resume(&waitingTaker)
    }

    func finish(_ error: (any Error)?) {
        ended = true
        failure = error
        resume(&waitingTaker)
    }

    func take() async throws -> RecordBatch? {
        while batches.isEmpty, !ended {
            await withCheckedContinuation { waitingTaker = $0 }
        }
        if !batches.isEmpty {
            let batch = batches.removeFirst()
            resume(&waitingPutter)
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// Ends the hand-over early (the consumer stopped): a waiting reader resumes and stops.
    func cancel() {
        ended = true
        resume(&waitingPutter)
        resume(&waitingTaker)
    }

    private func resume(_ waiter: inout CheckedContinuation<Void, Never>?) {
        waiter?.resume()
        waiter = nil
    }
}

/// Option tables, loaded once (single flight) and kept for the connector's life.
actor LookupCache {
    private var loaded: [String: OptionTable]?
    private var loading: Task<[String: OptionTable], any Error>?

    func tables(_ load: @escaping @Sendable () async throws -> [String: OptionTable]) async throws -> [String: OptionTable] {
        if let loaded { return loaded }
        if let loading { return try await loading.value }
        let task = Task { try await load() }
        loading = task
        do {
            let tables = try await task.value
            loaded = tables
            loading = nil
            return tables
        } catch {
            loading = nil
            throw error
        }
    }
}

extension RESTCRMConnector {
    /// The manifest declares an incremental pull (`lethe sync --incremental`, scheduled incremental runs).
    var supportsIncrementalPull: Bool { manifest.incremental != nil }
}
