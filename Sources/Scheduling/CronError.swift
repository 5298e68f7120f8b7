public import RetentionCore

/// A cron expression that could not be read. `field` names the part at fault (`minute`, `hour`,
/// `day-of-month`, `month`, `day-of-week`), or is empty when the expression as a whole is wrong
/// (wrong number of fields, unknown macro). The message quotes at most 40 characters of the input.
public struct CronError: LetheError, Equatable {
    /// `cron.syntax` for text that cannot be read, `cron.range` for a value outside its field's
    /// range, `cron.never` for an expression that is well formed but can never fire.
    public var code: String
    public var field: String
    public var problem: String

    public var category: ErrorCategory { .config }
    public var message: String { field.isEmpty ? problem : "\(field): \(problem)" }

    public init(code: String, field: String, problem: String) {
        self.code = code
        self.field = field
        self.problem = problem
    }
}
