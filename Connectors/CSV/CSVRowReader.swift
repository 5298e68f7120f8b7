import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file in 1 MiB chunks and hands out its rows one at a time, in constant memory (one chunk
/// plus the longest row).
///
/// A span returned by `next()` is valid until the following call; its bytes are read with
/// `withBytes`.
final class CSVRowReader {
    static let chunkSize = 1 << 20
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    let path: String
    private let handle: FileHandle
    private let skipsByteOrderMark: Bool
    private var scanner: CSVRowScanner
    private var atEnd = false
    private var startedReading = false
    /// The UTF-8 byte order mark when the file starts with one and `skipsByteOrderMark` was asked.
    private(set) var byteOrderMarkBytes: [UInt8] = []

    /// Opens `path`. A missing file is a permanent `csv.file_missing`, anything else a transient I/O error.
    init(path: String, delimiter: UInt8, skipByteOrderMark: Bool) throws(CSVConnectorError) {
        self.path = path
        self.handle = try Self.openHandle(path)
        self.skipsByteOrderMark = skipByteOrderMark
        self.scanner = CSVRowScanner(delimiter: delimiter)
    }

    deinit {
        try? handle.close()
    }

    static func openHandle(_ path: String) throws(CSVConnectorError) -> FileHandle {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let number = errno
            if number == ENOENT { throw .fileMissing(path) }
            throw .io("cannot open", path, errno: number)
        }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    /// Reads up to one chunk; an empty result means the end of the file.
    static func readChunk(_ handle: FileHandle, path: String) throws(CSVConnectorError) -> Data {
        do {
            return try handle.read(upToCount: chunkSize) ?? Data()
        } catch {
            throw .io("cannot read", path)
        }
    }

    /// The next row (blank lines included), or nil at the end of the file.
    func next() throws(CSVConnectorError) -> CSVRowSpan? {
        while true {
            if let row = scanner.nextRow(isFinal: atEnd) { return row }
            if atEnd { return nil }
            let chunk = try Self.readChunk(handle, path: path)
            if chunk.isEmpty {
                atEnd = true
                continue
            }
            scanner.append(chunk)
            if !startedReading {
                startedReading = true
                if skipsByteOrderMark && scanner.buffer.starts(with: Self.byteOrderMark) {
                    byteOrderMarkBytes = Self.byteOrderMark
                    scanner.skipPrefix(Self.byteOrderMark.count)
                }
            }
        }
    }

    /// Calls `body` with the scanner's buffer, which the offsets of the last span index.
    func withBytes<R, Failure: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> R) throws(Failure) -> R {
        try scanner.buffer.withUnsafeBufferPointer(body)
    }

    /// Decides `encoding: auto` for a whole file: UTF-8 when every byte is valid UTF-8, else CP949.
    static func detectEncoding(path: String) throws(CSVConnectorError) -> CSVTextEncoding {
        let handle = try openHandle(path)
        defer { try? handle.close() }
        var validator = UTF8Validator()
        while true {
            let chunk = try readChunk(handle, path: path)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { validator.feed($0) }
            if !validator.isValid { return .cp949 }
        }
        return validator.isComplete ? .utf8 : .cp949
    }
}
