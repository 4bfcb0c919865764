import Foundation

/// Artist and genre names → ids, as the reference's ArtistGenreProcessor maps them.
///
/// v2 (5b, 5b_lyrics): a name is normalised (lowercased, every character outside [a-z0-9]
/// becomes '_', runs of '_' collapse, '_' stripped at both ends); a genre is a bag of words (the
/// normalised genre split at '_'), each word its own id. v3 (1b_lyrics): a name is only
/// lowercased; a genre is one id. Unknown names map to id 0 with a warning, returned as a value.
public struct LabelVocabulary: Sendable {
    /// File names a model folder carries its lists under (the reference's `name;id` format,
    /// the v2 or v3 list matching the folder's `labels_v3`).
    public static let artistsFileName = "artist_ids.txt"
    public static let genresFileName = "genre_ids.txt"

    public let v3: Bool
    public let artists: LabelNameList
    public let genres: LabelNameList

    public init(artists: LabelNameList, genres: LabelNameList, v3: Bool) {
        self.artists = artists
        self.genres = genres
        self.v3 = v3
    }

    public init(artistsFile: String, genresFile: String, v3: Bool) throws {
        self.init(artists: try LabelNameList(path: artistsFile), genres: try LabelNameList(path: genresFile), v3: v3)
    }

    /// The lists in a model folder: `artist_ids.txt` / `genre_ids.txt`, or else the reference's own
    /// names (`v2_artist_ids.txt`, `v3_genre_ids.txt`, ...).
    public init(modelFolder: String, v3: Bool) throws {
        func find(_ plain: String, _ kind: String) throws -> String {
            let version = v3 ? "v3" : "v2"
            for name in [plain, "\(version)_\(kind)_ids.txt"] {
                let path = (modelFolder as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            throw JukeboxError(modelFolder, "no \(kind) id list (\(plain) or \(version)_\(kind)_ids.txt) in the model folder")
        }
        try self.init(artistsFile: find(Self.artistsFileName, "artist"), genresFile: find(Self.genresFileName, "genre"), v3: v3)
    }

    // MARK: Normalisation

    /// The reference's `norm` (v2): lowercase, [a-z0-9] kept, anything else '_', runs of '_'
    /// collapsed, leading/trailing '_' removed.
    public static func normV2(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingUnderscore = false
        for s in PythonText.lower(name).unicodeScalars {
            let v = s.value
            let accepted = (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39)
            if accepted {
                if pendingUnderscore && !out.isEmpty { out.append("_") }
                pendingUnderscore = false
                out.append(s)
            } else {
                pendingUnderscore = true
            }
        }
        return String(out)
    }

    /// The key an artist name is looked up under.
    public func artistKey(_ name: String) -> String { v3 ? PythonText.lower(name) : Self.normV2(name) }

    /// The keys a genre string is looked up under: v2 its words, v3 the whole lowercased string.
    public func genreKeys(_ genre: String) -> [String] {
        if v3 { return [PythonText.lower(genre)] }
        // Python's "".split("_") is [""]: an empty genre is one (unknown) word.
        return Self.normV2(genre).split(separator: "_", omittingEmptySubsequences: false).map(String.init)
    }

    // MARK: Lookup

    public func artistID(_ name: String) -> (id: Int, warning: String?) {
        let key = artistKey(name)
        if let id = artists.ids[key] { return (id, nil) }
        return (0, unknownWarning(kind: "artist", input: name, key: key, list: artists))
    }

    /// Genre ids padded with -1 to `maxBowGenreSize` (the reference's label layout), and one
    /// warning per unknown word. Throws when the genre has more words than the model takes.
    public func genreIDs(_ genre: String, maxBowGenreSize: Int) throws -> (ids: [Int], warnings: [String]) {
        let keys = genreKeys(genre)
        guard keys.count <= maxBowGenreSize else {
            throw JukeboxError("genre", "'\(genre)' has \(keys.count) words (\(keys.joined(separator: ", "))); the model takes at most \(maxBowGenreSize)")
        }
        var ids: [Int] = []
        var warnings: [String] = []
        for key in keys {
            if let id = genres.ids[key] {
                ids.append(id)
            } else {
                ids.append(0)
                warnings.append(unknownWarning(kind: v3 ? "genre" : "genre word", input: genre, key: key, list: genres))
            }
        }
        return (ids + Array(repeating: -1, count: maxBowGenreSize - ids.count), warnings)
    }

    /// The reference's name for an artist id (its names joined by '_'), nil if no name has it.
    public func artistName(id: Int) -> String? { artists.names[id] }

    /// The reference's name for genre ids: v2 the words of the non-negative ids joined by '_',
    /// v3 the name of the first id. Nil if an id has no name.
    public func genreName(ids: [Int]) -> String? {
        if v3 { return ids.first.flatMap { genres.names[$0] } }
        var words: [String] = []
        for id in ids where id >= 0 {
            guard let word = genres.names[id] else { return nil }
            words.append(word)
        }
        return words.joined(separator: "_")
    }

    /// Known artist names closest to `name` (as typed; normalised here), in a form that maps
    /// back to the same id when typed (v2 underscores shown as spaces).
    public func suggestArtists(_ name: String, limit: Int = 5) -> [String] {
        artists.closest(to: artistKey(name), limit: limit).map(display)
    }

    /// Known genre names (v3) or genre words (v2) closest to each key of `genre`.
    public func suggestGenres(_ genre: String, limit: Int = 5) -> [String] {
        var out: [String] = []
        for key in genreKeys(genre) where genres.ids[key] == nil {
            for s in genres.closest(to: key, limit: limit).map(display) where !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// A list name as a person would type it: v2 keys with spaces for '_'; invisible format
    /// characters (some v3 genres end in U+200E) spelled out so two entries don't look the same.
    public func display(_ key: String) -> String {
        var out = ""
        for s in key.unicodeScalars {
            if !v3 && s == "_" { out += " " }
            else if s.properties.generalCategory == .format { out += "\\u{\(String(s.value, radix: 16, uppercase: true))}" }
            else { out.unicodeScalars.append(s) }
        }
        return out
    }

    private func unknownWarning(kind: String, input: String, key: String, list: LabelNameList) -> String {
        let mapped = key == input ? "" : " (looked up as '\(key)')"
        var message = "\(kind) '\(input)'\(mapped) is not in \(list.fileName); using id 0 (unknown)"
        let near = list.closest(to: key, limit: 5).map(display)
        if !near.isEmpty { message += ". Closest: " + near.joined(separator: ", ") }
        return message
    }
}
