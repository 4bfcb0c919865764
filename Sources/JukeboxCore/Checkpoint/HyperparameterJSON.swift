import Foundation

/// Writes hps as JSON the way the reference's Python would: keys in their order, integers as
/// integers and floats as floats (`1.0` stays `1.0`, so a reader can tell them apart), tuples as
/// lists, None as null. Foundation's serializer would turn 1.0 into 1 and sort the keys.
package enum HyperparameterJSON {
    struct Unrepresentable: Error {
        let what: String
    }

    /// `{"kind": ..., "hps": {...}}`, pretty-printed with one space per level like the fixtures.
    package static func config(kind: ModelKind, hps: HyperparameterPresets.Entries) throws -> [UInt8] {
        var out = "{\n \"kind\": \(quote(kind.rawValue)),\n \"hps\": {"
        for (i, (key, value)) in hps.enumerated() {
            out += (i == 0 ? "\n" : ",\n") + "  \(quote(key)): "
            try write(value, into: &out, indent: 2)
        }
        out += hps.isEmpty ? "}\n}\n" : "\n }\n}\n"
        return Array(out.utf8)
    }

    static func write(_ v: PickleValue, into out: inout String, indent: Int) throws {
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let n): out += String(n)
        case .float(let d):
            // Python's repr and Swift's description agree on the shortest round-trip form.
            out += d.isFinite ? "\(d)" : "null"
        case .string(let s): out += quote(s)
        case .list(let items), .tuple(let items):
            let pad = String(repeating: " ", count: indent + 1)
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                out += (i == 0 ? "\n" : ",\n") + pad
                try write(item, into: &out, indent: indent + 1)
            }
            out += "\n" + String(repeating: " ", count: indent) + "]"
        case .dict(let entries):
            let pad = String(repeating: " ", count: indent + 1)
            if entries.isEmpty { out += "{}"; return }
            out += "{"
            for (i, e) in entries.enumerated() {
                guard let key = e.key.stringValue else { throw Unrepresentable(what: "a dict key of type \(e.key.kindName)") }
                out += (i == 0 ? "\n" : ",\n") + pad + quote(key) + ": "
                try write(e.value, into: &out, indent: indent + 1)
            }
            out += "\n" + String(repeating: " ", count: indent) + "}"
        case .bigInt, .bytes, .set, .storage, .tensor:
            throw Unrepresentable(what: "a value of type \(v.kindName)")
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
