import Foundation
import JukeboxCore
import JukeboxTOML

/// The labels of an imported folder, from `labels.csv` or `labels.toml` beside the recordings (not both): per
/// file (relative to the folder) the artist, genre, lyrics file and tempo, and from labels.toml the values
/// every file it does not list takes.
struct ImportLabels {
    struct Row { var artist: String?; var genre: String?; var lyrics: String?; var bpm: Double? }
    let fileName: String
    let rows: [String: Row]
    /// What files not listed take (labels.toml's top-level keys); nil: they are left out.
    var defaults: Row? = nil

    /// The folder's labels file; nil when it has none.
    static func read(folder: String) throws -> ImportLabels? {
        let csv = (folder as NSString).appendingPathComponent(LabelsCSV.fileName)
        let toml = (folder as NSString).appendingPathComponent(LabelsTOML.fileName)
        switch (FileManager.default.fileExists(atPath: csv), FileManager.default.fileExists(atPath: toml)) {
        case (true, true): throw JukeboxError(folder, "has both \(LabelsCSV.fileName) and \(LabelsTOML.fileName); keep one")
        case (true, false): return try LabelsCSV.read(path: csv)
        case (false, true): return try LabelsTOML.read(path: toml)
        case (false, false): return nil
        }
    }

    /// The labels of `file`: its own entry over the defaults; nil when neither names it.
    func row(for file: String) -> Row? {
        guard let own = rows[(file as NSString).standardizingPath] else { return defaults }
        guard let defaults else { return own }
        return Row(artist: CorpusImporter.nonEmpty(own.artist) ?? defaults.artist, genre: CorpusImporter.nonEmpty(own.genre) ?? defaults.genre,
                   lyrics: own.lyrics, bpm: own.bpm ?? defaults.bpm)
    }

    static func text(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 16 << 20,
              let text = String(data: data, encoding: .utf8) else {
            throw JukeboxError(path, "not readable as UTF-8 text of at most 16 MB")
        }
        return text
    }
}

/// `labels.toml`: optional top-level `artist`, `genre` and `bpm` for every file, then a `[[song]]` section per
/// recording with `file` and any of `artist`, `genre`, `lyrics` (a .txt or .lrc) and `bpm`.
enum LabelsTOML {
    static let fileName = "labels.toml"

    static func read(path: String) throws -> ImportLabels {
        do {
            let doc = try TOMLFields.parse(try ImportLabels.text(path), file: path)
            try doc.rejectUnknown(["artist", "genre", "bpm", "song"])
            func row(_ t: TOMLFields) throws -> ImportLabels.Row {
                ImportLabels.Row(artist: try t.string("artist"), genre: try t.string("genre"), lyrics: CorpusImporter.nonEmpty(try t.string("lyrics")),
                                 bpm: try t.number("bpm", in: 20...400))
            }
            let top = try row(doc)
            var rows: [String: ImportLabels.Row] = [:]
            for song in try doc.tables("song") ?? [] {
                try song.rejectUnknown(["file", "artist", "genre", "lyrics", "bpm"])
                guard let file = CorpusImporter.nonEmpty(try song.string("file")) else { throw song.error("file", "is missing or empty") }
                rows[(file as NSString).standardizingPath] = try row(song)
            }
            let hasDefaults = top.artist != nil || top.genre != nil || top.bpm != nil
            guard !rows.isEmpty || hasDefaults else {
                throw JukeboxError(path, "names no song ([[song]] with file = …) and no artist, genre or bpm for every file")
            }
            return ImportLabels(fileName: fileName, rows: rows, defaults: hasDefaults ? top : nil)
        } catch let e as TOMLFileError {
            throw JukeboxError(e.file, e.field.isEmpty ? e.message : "\(e.field): \(e.message)")
        }
    }
}

/// `labels.csv` of an imported folder: a header naming the columns (`file`, `artist`, `genre`, and optionally
/// `lyrics` and `bpm`, in any order), then one row per recording. Quoted fields may hold commas and quotes ("").
enum LabelsCSV {
    static let fileName = "labels.csv"

    /// A malformed file is an error naming its line.
    static func read(path: String) throws -> ImportLabels {
        let text = try ImportLabels.text(path)
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { throw JukeboxError(path, "is empty: it needs a header (file,artist,genre[,lyrics][,bpm])") }
        let header = try fields(lines.removeFirst(), path: path, line: 1).map { $0.lowercased() }
        for needed in ["file", "artist", "genre"] where !header.contains(needed) {
            throw JukeboxError(path, "line 1: the header has no \(needed) column (it needs file, artist, genre; lyrics and bpm may follow)")
        }
        if let unknown = header.first(where: { !["file", "artist", "genre", "lyrics", "bpm"].contains($0) }) {
            throw JukeboxError(path, "line 1: unknown column \(unknown) (known: file, artist, genre, lyrics, bpm)")
        }
        var rows: [String: ImportLabels.Row] = [:]
        for (n, line) in lines.enumerated() {
            let values = try fields(line, path: path, line: n + 2)
            guard values.count == header.count else {
                throw JukeboxError(path, "line \(n + 2): \(values.count) fields where the header has \(header.count)")
            }
            let field = Dictionary(uniqueKeysWithValues: zip(header, values))
            let file = (field["file"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !file.isEmpty else { throw JukeboxError(path, "line \(n + 2): the file field is empty") }
            var bpm: Double? = nil
            if let b = field["bpm"]?.trimmingCharacters(in: .whitespaces), !b.isEmpty {
                guard let value = Double(b), value >= 20, value <= 400 else {
                    throw JukeboxError(path, "line \(n + 2): bpm \(b) is not a tempo between 20 and 400")
                }
                bpm = value
            }
            rows[(file as NSString).standardizingPath] = ImportLabels.Row(artist: field["artist"], genre: field["genre"],
                                                                           lyrics: CorpusImporter.nonEmpty(field["lyrics"]), bpm: bpm)
        }
        return ImportLabels(fileName: fileName, rows: rows)
    }

    static func fields(_ line: String, path: String, line number: Int) throws -> [String] {
        var out: [String] = [], current = "", quoted = false, chars = Array(line), i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { current.append("\""); i += 1 } else { quoted = false }
                } else { current.append(c) }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                out.append(current); current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        guard !quoted else { throw JukeboxError(path, "line \(number): a quoted field is not closed") }
        out.append(current)
        return out
    }
}

/// A recording's lyrics: a `.txt`, or an `.lrc` whose time stamps are taken out of the text; an LRC with a time
/// on every word (`<mm:ss.xx>word`) also says when each is sung.
struct SongLyrics {
    let text: String
    let words: [TimedWord]?
    static let largest = 1 << 20

    /// The lyrics file named for a recording (`given`), else `NAME.lrc` or `NAME.txt` beside it; nil when none.
    static func find(for audio: String, named given: String?) throws -> SongLyrics? {
        let base = (audio as NSString).deletingPathExtension
        guard let path = given ?? [base + ".lrc", base + ".txt"].first(where: FileManager.default.fileExists) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "lyrics file missing or unreadable") }
        guard data.count <= largest, let text = String(data: data, encoding: .utf8) else {
            throw JukeboxError(path, "lyrics must be UTF-8 text of at most 1 MB")
        }
        return path.lowercased().hasSuffix(".lrc") ? try parseLRC(text, path: path) : SongLyrics(text: text, words: nil)
    }

    /// `[mm:ss.xx]` line stamps and `<mm:ss.xx>` word stamps out; `[ar:…]`-style tags and `#` comments dropped.
    static func parseLRC(_ text: String, path: String) throws -> SongLyrics {
        var lines: [String] = [], words: [TimedWord] = [], everyWordTimed = true
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var rest = Substring(raw).trimmingCharacters(in: .whitespaces)[...]
            if rest.hasPrefix("#") { continue }
            var isTag = false
            while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if stamp(inside) == nil { isTag = true }
                rest = rest[rest.index(after: close)...]
            }
            if isTag && rest.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            var lineWords: [String] = []
            for piece in rest.split(separator: " ", omittingEmptySubsequences: true) {
                var word = piece[...], time: Double? = nil
                if word.hasPrefix("<"), let close = word.firstIndex(of: ">") {
                    time = stamp(word[word.index(after: word.startIndex)..<close])
                    word = word[word.index(after: close)...]
                }
                guard !word.isEmpty else { continue }
                lineWords.append(String(word))
                if let time { words.append(TimedWord(text: String(word), start: time, end: time)) } else { everyWordTimed = false }
            }
            lines.append(lineWords.joined(separator: " "))
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        // A word ends where the next begins (the last one a second after it starts).
        let timed = everyWordTimed && !words.isEmpty && zip(words, words.dropFirst()).allSatisfy { $0.start <= $1.start }
        let ended = timed ? words.indices.map { i in
            TimedWord(text: words[i].text, start: words[i].start, end: i + 1 < words.count ? max(words[i + 1].start, words[i].start + 0.01) : words[i].start + 1)
        } : nil
        return SongLyrics(text: lines.joined(separator: "\n"), words: ended)
    }

    /// mm:ss(.xx) in seconds; nil when it is not one.
    static func stamp(_ s: Substring) -> Double? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let m = Int(parts[0]), m >= 0, let sec = Double(parts[1]), sec >= 0, sec < 60 else { return nil }
        return Double(m) * 60 + sec
    }
}

extension CorpusIndex {
    /// artist_ids.txt and genre_ids.txt in the reference's `name;id` format (0 = unknown; names lower-cased).
    static func writeLabelLists(artists: [String], genres: [String], into folder: String) throws {
        func list(_ names: [String]) -> String {
            (["unknown;0"] + names.enumerated().map { "\(PythonText.lower($0.element));\($0.offset + 1)" }).joined(separator: "\n") + "\n"
        }
        try AtomicFile.write(Data(list(artists).utf8), to: folder + "/" + LabelVocabulary.artistsFileName)
        try AtomicFile.write(Data(list(genres).utf8), to: folder + "/" + LabelVocabulary.genresFileName)
    }
}
