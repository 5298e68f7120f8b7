/// Why a scaffold was refused. Nothing is written when one is thrown.
public struct ScaffoldError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable: `scaffold.bad_name`, `scaffold.exists`, `scaffold.bad_kind`, `scaffold.marker_missing`,
    /// `scaffold.marker_repeated`.
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
