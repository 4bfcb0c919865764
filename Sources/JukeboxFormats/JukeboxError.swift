import Foundation

/// The one error type users see: a file or field, and what is wrong with it, on one line.
public struct JukeboxError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let subject: String?
    public let message: String

    public init(_ subject: String?, _ message: String) {
        self.subject = subject
        self.message = message
    }

    public init(_ message: String) { self.init(nil, message) }

    public var description: String {
        guard let subject else { return message }
        return "\(subject): \(message)"
    }

    public var errorDescription: String? { description }

    /// The same problem located inside `file`: "file: field: message".
    public func within(_ file: String) -> JukeboxError {
        JukeboxError(file, description)
    }

    /// The same problem, attributed to `subject` if it had none yet.
    public func about(_ subject: String) -> JukeboxError {
        self.subject == nil ? JukeboxError(subject, message) : self
    }
}
