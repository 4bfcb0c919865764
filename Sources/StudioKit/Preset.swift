import Foundation
import JukeboxTOML
import TOMLKit
import JukeboxCore

/// A saved prompt (presets/NAME.toml): what the composer holds, so a good starting point is one key
/// away. Fields left out keep the composer's current values.
public struct Preset: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// Which model set the names come from: one of `modelHints` (informational; shown in the picker).
    public var model: String?
    public var genre: String?
    public var artist: String?
    public var lyrics: String?
    public var seconds: Double?
    public var totalSeconds: Double?
    /// One per level, top level first (as the composer shows them).
    public var temperatures: [Double]?
    public var seed: UInt64?
    public var candidates: Int?

    public init(name: String, description: String? = nil, model: String? = nil, genre: String? = nil,
                artist: String? = nil, lyrics: String? = nil, seconds: Double? = nil, totalSeconds: Double? = nil,
                temperatures: [Double]? = nil, seed: UInt64? = nil, candidates: Int? = nil) {
        (self.name, self.description, self.model, self.genre, self.artist, self.lyrics) = (name, description, model, genre, artist, lyrics)
        (self.seconds, self.totalSeconds, self.temperatures, self.seed, self.candidates) = (seconds, totalSeconds, temperatures, seed, candidates)
    }

    /// The model sets a preset can be meant for: the random sets and the published priors' label lists.
    public static let modelHints = ["default", "tiny", "small", "5b", "5b_lyrics", "1b_lyrics"]
    static let fields = ["description", "model", "genre", "artist", "lyrics", "seconds", "total_seconds",
                         "temperatures", "seed", "candidates"]

    public static func parse(_ text: String, file: String) throws -> Preset {
        try read(TOMLFields.parse(text, file: file), file: file)
    }

    public static func load(_ path: String) throws -> Preset {
        try read(TOMLFields.read(path), file: path)
    }

    private static func read(_ doc: TOMLFields, file: String) throws -> Preset {
        try doc.rejectUnknown(fields)
        var p = Preset(name: ((file as NSString).lastPathComponent as NSString).deletingPathExtension)
        p.description = try doc.string("description")
        p.model = try doc.string("model")
        if let m = p.model, !modelHints.contains(m) {
            throw doc.error("model", "unknown model \"\(m)\" (\(modelHints.joined(separator: ", ")))")
        }
        p.genre = try doc.string("genre")
        p.artist = try doc.string("artist")
        p.lyrics = try doc.string("lyrics")
        // The composer's own limits.
        p.seconds = try doc.number("seconds", in: 1...3600)
        p.totalSeconds = try doc.number("total_seconds", in: 1...3600)
        if let s = p.seconds, let t = p.totalSeconds, t < s {
            throw doc.error("total_seconds", "\(format(t)) is shorter than seconds (\(format(s)))")
        }
        p.temperatures = try doc.numbers("temperatures", in: 0.01...3)
        if let t = p.temperatures, t.isEmpty || t.count > 3 {
            throw doc.error("temperatures", "expected 1 to 3 values (top level first), found \(t.count)")
        }
        p.candidates = try doc.int("candidates", in: 1...9)
        if let v = doc.table["seed"] {
            // TOML integers stop at 2^63 - 1; larger seeds are written as strings of digits.
            if let i = v.int, i >= 0 { p.seed = UInt64(i) }
            else if let s = v.string, let u = UInt64(s) { p.seed = u }
            else { throw doc.error("seed", "expected a whole number 0…\(UInt64.max)") }
        }
        return p
    }

    /// The preset as a TOML file (saved presets read back equal).
    public var toml: String {
        var lines = ["# jukebox-studio preset"]
        func add(_ key: String, _ value: String?) { if let value { lines.append("\(key) = \(value)") } }
        add("description", description.map(Self.quoted))
        add("model", model.map(Self.quoted))
        add("genre", genre.map(Self.quoted))
        add("artist", artist.map(Self.quoted))
        add("lyrics", lyrics.map(Self.quoted))
        add("seconds", seconds.map(Self.format))
        add("total_seconds", totalSeconds.map(Self.format))
        add("temperatures", temperatures.map { "[" + $0.map(Self.format).joined(separator: ", ") + "]" })
        add("seed", seed.map { $0 <= UInt64(Int64.max) ? String($0) : "\"\($0)\"" })
        add("candidates", candidates.map(String.init))
        return lines.joined(separator: "\n") + "\n"
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    /// A TOML basic string: quotes, backslashes and control characters escaped (lyrics hold newlines).
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Letters, digits, '-' and '_' only: a name that is safe as a file name anywhere.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || $0 == "-" || $0 == "_"
        }
    }
}

/// One file of a presets folder as the picker lists it: the preset, or why it cannot be used.
public struct PresetEntry: Sendable, Equatable {
    public var name: String
    public var file: String
    public var preset: Preset?
    public var error: String?

    public init(name: String, file: String, preset: Preset?, error: String?) {
        (self.name, self.file, self.preset, self.error) = (name, file, preset, error)
    }

    /// Every presets/*.toml of `folders`, sorted by name; a name in an earlier folder hides a later one's.
    public static func list(folders: [String]) -> [PresetEntry] {
        var byName: [String: PresetEntry] = [:]
        for folder in folders.reversed() {
            for name in StudioFiles.tomlNames(in: folder) {
                let file = (folder as NSString).appendingPathComponent(name + ".toml")
                do { byName[name] = PresetEntry(name: name, file: file, preset: try Preset.load(file), error: nil) }
                catch { byName[name] = PresetEntry(name: name, file: file, preset: nil, error: "\(error)") }
            }
        }
        return byName.values.sorted { $0.name < $1.name }
    }
}
