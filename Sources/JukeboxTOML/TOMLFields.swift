import Foundation
import TOMLKit

/// A TOML file that cannot be used (a studio theme or preset, an import's labels.toml): one line naming the
/// file, the field and what is wrong.
public struct TOMLFileError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var field: String
    public var message: String

    public init(_ file: String, _ field: String, _ message: String) {
        (self.file, self.field, self.message) = (file, field, message)
    }

    public var description: String { field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)" }
}

/// Typed, checked reads from one TOML table of a small hand-written file (TOMLKit parses; this names what is
/// wrong). Every read says which field it was and what was expected, so errors read "FILE: FIELD: …".
public struct TOMLFields {
    public let file: String
    public let table: TOMLTable
    /// "" at the top; "title." inside [title]; "song[2]." in the third [[song]].
    public let path: String

    /// Parses `text`; a syntax error names the line and column.
    public static func parse(_ text: String, file: String) throws -> TOMLFields {
        if let problem = TOMLKeyCheck.problem(in: text) { throw TOMLFileError(file, "line \(problem.line), column \(problem.column)", problem.message) }
        do {
            return TOMLFields(file: file, table: try TOMLTable(string: text), path: "")
        } catch let error as TOMLParseError {
            let at = error.source.begin
            throw TOMLFileError(file, "line \(at.line), column \(at.column)", error.description)
        }
    }

    /// Reads a whole file; a missing or unreadable file is an error naming it.
    public static func read(_ file: String) throws -> TOMLFields {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw TOMLFileError(file, "", FileManager.default.fileExists(atPath: file) ? "cannot be read" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TOMLFileError(file, "", "is not UTF-8 text") }
        return try parse(text, file: file)
    }

    public func name(_ key: String) -> String { path + key }

    public func error(_ key: String, _ message: String) -> TOMLFileError { TOMLFileError(file, name(key), message) }

    /// Fails on the first key (in sorted order) that is not one of `known`.
    public func rejectUnknown(_ known: [String]) throws {
        for key in table.keys.sorted() where !known.contains(key) {
            throw error(key, "unknown field (known: \(known.joined(separator: ", ")))")
        }
    }

    public func string(_ key: String) throws -> String? {
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw error(key, "expected a string, found \(v.type)") }
        return s
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let v = table[key] else { return nil }
        guard let b = v.bool else { throw error(key, "expected true or false, found \(v.type)") }
        return b
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = table[key] else { return nil }
        guard let i = v.int else { throw error(key, "expected an integer, found \(v.type)") }
        guard range.contains(i) else { throw error(key, "\(i) is outside \(range.lowerBound)…\(range.upperBound)") }
        return i
    }

    /// An integer or a float, within `range`.
    public func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let v = table[key] else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else { throw error(key, "expected a number, found \(v.type)") }
        guard d.isFinite, range.contains(d) else { throw error(key, "\(d) is outside \(range.lowerBound)…\(range.upperBound)") }
        return d
    }

    public func numbers(_ key: String, in range: ClosedRange<Double>) throws -> [Double]? {
        guard let v = table[key] else { return nil }
        guard let array = v.array else { throw error(key, "expected an array of numbers, found \(v.type)") }
        return try array.enumerated().map { i, item in
            guard let d = item.double ?? item.int.map(Double.init) else {
                throw error("\(key)[\(i)]", "expected a number, found \(item.type)")
            }
            guard d.isFinite, range.contains(d) else {
                throw error("\(key)[\(i)]", "\(d) is outside \(range.lowerBound)…\(range.upperBound)")
            }
            return d
        }
    }

    /// The keys present, in sorted order.
    public var keys: [String] { table.keys.sorted() }

    /// An array of tables (`[[key]]` sections), each read as its own table.
    public func tables(_ key: String) throws -> [TOMLFields]? {
        guard let v = table[key] else { return nil }
        guard let array = v.array else { throw error(key, "expected [[\(name(key))]] sections, found \(v.type)") }
        return try array.enumerated().map { i, item in
            guard let t = item.table else { throw error("\(key)[\(i)]", "expected a table, found \(item.type)") }
            return TOMLFields(file: file, table: t, path: name(key) + "[\(i)].")
        }
    }

    public func table(_ key: String) throws -> TOMLFields? {
        guard let v = table[key] else { return nil }
        guard let t = v.table else { throw error(key, "expected a table ([\(name(key))]), found \(v.type)") }
        return TOMLFields(file: file, table: t, path: name(key) + ".")
    }
}
