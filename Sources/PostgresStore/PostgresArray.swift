import Foundation
import NIOCore
import PostgresNIO

/// A one-dimensional PostgreSQL array whose elements may be NULL, in the binary format, for the
/// multi-row statements of the bulk paths (`UNNEST` of one array a column). PostgresNIO's own arrays
/// take no NULL element.
struct NullableArray<Element: PostgresArrayEncodable>: PostgresEncodable {
    var values: [Element?]

    init(_ values: [Element?]) { self.values = values }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        // Dimensions, whether any element is NULL, the element type; then the length and lower bound of
        // the one dimension, and each element as its length (-1: NULL) and bytes.
        buffer.writeInteger(values.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(values.contains { $0 == nil } ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !values.isEmpty else { return }
        buffer.writeInteger(Int32(values.count), as: Int32.self)
        buffer.writeInteger(1, as: Int32.self)
        for value in values {
            guard let value else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let start = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            try value.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - start - 4), at: start, as: Int32.self)
        }
    }
}

extension Data {
    /// The bytes as a value of a `BYTEA[]` array.
    var buffer: ByteBuffer { ByteBuffer(bytes: self) }
}
