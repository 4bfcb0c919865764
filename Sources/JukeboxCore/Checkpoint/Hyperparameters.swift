import Foundation

/// The reference's hyperparameters, kept under their own names exactly as config.json stores them.
/// Accessors throw a one-line error naming the file and the key when a value is missing or mistyped.
public struct Hyperparameters: @unchecked Sendable {
    public let values: [String: Any]
    /// Where these came from, for error messages.
    public let source: String

    public init(_ values: [String: Any], source: String) {
        self.values = values
        self.source = source
    }

    private func fail(_ key: String, _ why: String) -> JukeboxError {
        JukeboxError(source, "hyperparameter \(key) \(why)")
    }

    public func has(_ key: String) -> Bool {
        guard let v = values[key] else { return false }
        return !(v is NSNull)
    }

    public func int(_ key: String) throws -> Int {
        guard let v = values[key] else { throw fail(key, "is missing") }
        guard let n = v as? NSNumber, Double(n.intValue) == n.doubleValue else {
            throw fail(key, "should be an integer, found \(v)")
        }
        return n.intValue
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard values.keys.contains(key) else { throw fail(key, "is missing") }
        return has(key) ? try int(key) : nil
    }

    public func double(_ key: String) throws -> Double {
        guard let v = values[key] else { throw fail(key, "is missing") }
        guard let n = v as? NSNumber else { throw fail(key, "should be a number, found \(v)") }
        return n.doubleValue
    }

    public func optionalDouble(_ key: String) throws -> Double? {
        guard values.keys.contains(key) else { throw fail(key, "is missing") }
        return has(key) ? try double(key) : nil
    }

    public func bool(_ key: String) throws -> Bool {
        guard let v = values[key] else { throw fail(key, "is missing") }
        guard let n = v as? NSNumber else { throw fail(key, "should be true or false, found \(v)") }
        return n.boolValue
    }

    public func ints(_ key: String) throws -> [Int] {
        guard let v = values[key] else { throw fail(key, "is missing") }
        guard let a = v as? [Any] else { throw fail(key, "should be a list of integers, found \(v)") }
        return try a.map {
            guard let n = $0 as? NSNumber else { throw fail(key, "should be a list of integers, found \(v)") }
            return n.intValue
        }
    }

    /// An int or a list of ints (y_bins is a pair for labelled priors, 0 for the VQ-VAE).
    public func intOrInts(_ key: String) throws -> [Int] {
        guard let v = values[key] else { throw fail(key, "is missing") }
        if v is [Any] { return try ints(key) }
        return [try int(key)]
    }

    public func string(_ key: String) throws -> String {
        guard let v = values[key] else { throw fail(key, "is missing") }
        guard let s = v as? String else { throw fail(key, "should be a string, found \(v)") }
        return s
    }

    /// A copy with some values replaced (presets and tests).
    public func with(_ changes: [String: Any]) -> Hyperparameters {
        Hyperparameters(values.merging(changes) { _, new in new }, source: source)
    }
}
