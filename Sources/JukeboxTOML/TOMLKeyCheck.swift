import Foundation

/// Keys and table headers checked before the text reaches TOMLKit's parser (toml++), which asserts, that
/// is aborts, on some malformed keys (`[}name]`) instead of reporting them. The files read here are a few
/// flat tables of `key = value` lines: every key and header is bare (A-Z a-z 0-9 _ -) or quoted, dotted at
/// most. Of values only the brackets are checked (toml++ also aborts on a `}` where an array expects a
/// value: `[0.9, }]`); the rest, and everything inside multi-line strings (a preset's lyrics), is left to
/// the parser.
public enum TOMLKeyCheck {
    /// The first line (and its column) whose key or header is malformed, with what is wrong; nil when all are well formed.
    public static func problem(in text: String) -> (line: Int, column: Int, message: String)? {
        var inMultiline: String? = nil
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if let delimiter = inMultiline {
                if line.components(separatedBy: delimiter).count % 2 == 0 { inMultiline = nil }
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let column = line.prefix { $0 == " " || $0 == "\t" }.count + 1
            if trimmed.hasPrefix("[") {
                guard header(trimmed) else { return (index + 1, column, "a table header must be [name] with a bare or quoted name") }
                continue
            }
            guard let equals = assignment(trimmed) else {
                return (index + 1, column, "expected key = value")
            }
            guard dottedKey(String(trimmed[..<equals])) else {
                return (index + 1, column, "a key must be bare (letters, digits, _ and -) or quoted")
            }
            let value = trimmed[trimmed.index(after: equals)...]
            let scanned = scanValue(value)
            if let offset = scanned.strayBrace {
                return (index + 1, column + trimmed.distance(from: trimmed.startIndex, to: equals) + 1 + offset,
                        "a } that closes no { (inside [ ] a value is expected)")
            }
            inMultiline = scanned.openMultiline
        }
        return nil
    }

    /// One pass over a value, outside its strings: the offset of the first `}` that closes no `{` opened before
    /// it on the line, and the delimiter of a multi-line string the value opens and does not close on its line.
    /// Quotes inside a one-line string (`"'''"`) open nothing, and braces inside strings are text.
    public static func scanValue(_ value: Substring) -> (strayBrace: Int?, openMultiline: String?) {
        let chars = Array(value)
        func at(_ k: Int, _ d: String) -> Bool { k + 3 <= chars.count && String(chars[k..<(k + 3)]) == d }
        var open: [Character] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "#" { break }
            if let d = [String(repeating: "\"", count: 3), String(repeating: "'", count: 3)].first(where: { at(i, $0) }) {
                var k = i + 3
                while k < chars.count && !at(k, d) { k += 1 }
                if k >= chars.count { return (nil, d) }
                i = k + 3
                continue
            }
            switch c {
            case "\"", "'":
                var k = i + 1
                while k < chars.count && chars[k] != c { k += c == "\"" && chars[k] == "\\" ? 2 : 1 }
                i = k + 1
                continue
            case "[", "{": open.append(c)
            case "]": if open.last == "[" { open.removeLast() }
            case "}":
                guard open.last == "{" else { return (i, nil) }
                open.removeLast()
            default: break
            }
            i += 1
        }
        return (nil, nil)
    }

    /// Where the `=` of `key = value` is: the first one outside a quoted key.
    private static func assignment(_ line: String) -> String.Index? {
        var quote: Character? = nil
        for i in line.indices {
            let c = line[i]
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == "=" { return i }
        }
        return nil
    }

    private static func header(_ line: String) -> Bool {
        var body = line
        if let hash = body.firstIndex(of: "#"), !body[..<hash].contains("\"") { body = String(body[..<hash]) }
        body = body.trimmingCharacters(in: .whitespaces)
        let double = body.hasPrefix("[[") && body.hasSuffix("]]")
        guard double || (body.hasPrefix("[") && body.hasSuffix("]")), body.count > (double ? 4 : 2) else { return false }
        return dottedKey(String(body.dropFirst(double ? 2 : 1).dropLast(double ? 2 : 1)))
    }

    private static func dottedKey(_ text: String) -> Bool {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        while true {
            guard let first = rest.first else { return false }
            if first == "\"" || first == "'" {
                guard let close = rest.dropFirst().firstIndex(of: first) else { return false }
                rest = rest[rest.index(after: close)...]
            } else {
                let bare = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
                guard !bare.isEmpty else { return false }
                rest = rest.dropFirst(bare.count)
            }
            rest = Substring(rest.trimmingCharacters(in: .whitespaces))
            if rest.isEmpty { return true }
            guard rest.first == "." else { return false }
            rest = Substring(rest.dropFirst().trimmingCharacters(in: .whitespaces))
        }
    }
}
