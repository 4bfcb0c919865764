import Foundation

/// A model's label lists grown by the names of new music (fine-tuning on a user's own artists): every name
/// the lists know keeps its id, and each new artist, genre (v3) or genre word (v2) gets the next free id, at
/// or past the prior's embedding rows so no new name shares a row the prior already learnt.
public struct LabelVocabularyGrowth: Sendable {
    public let vocabulary: LabelVocabulary
    /// Keys of the names that were not in the lists, in the order they got their ids.
    public let newArtists: [String]
    public let newGenres: [String]
    /// Embedding rows the grown lists need: [genres, artists], the hps's y_bins order.
    public let yBins: [Int]
    /// The lists as `name;id` files.
    public let artistsText: String
    public let genresText: String

    /// `yBins` are the prior's rows ([genres, artists]); `artists` and `genres` the names the new music uses.
    public init(_ base: LabelVocabulary, yBins rows: [Int], artists: [String], genres: [String]) throws {
        guard rows.count == 2, rows.allSatisfy({ $0 > 0 }) else {
            throw JukeboxError("y_bins", "a labelled prior has two positive y_bins, got \(rows)")
        }
        func grow(_ list: LabelNameList, rows: Int, keys: [String]) throws -> (text: String, added: [String], rows: Int) {
            var entries = list.entries
            var next = max(rows, (entries.map(\.id).max() ?? -1) + 1)
            var added: [String] = []
            for key in keys where list.ids[key] == nil && !added.contains(key) {
                // A name with ';' or a line break cannot be written back into a `name;id` list.
                guard !key.isEmpty, !key.contains(";"), !key.contains(where: \.isNewline) else {
                    throw JukeboxError(list.fileName, "cannot hold the name '\(key)' (empty, or with ';' or a line break)")
                }
                entries.append((key, next))
                added.append(key)
                next += 1
            }
            return (entries.map { "\($0.name);\($0.id)\n" }.joined(), added, max(rows, next))
        }
        let grownArtists = try grow(base.artists, rows: rows[1], keys: artists.map(base.artistKey))
        let grownGenres = try grow(base.genres, rows: rows[0], keys: genres.flatMap(base.genreKeys))
        vocabulary = LabelVocabulary(artists: try LabelNameList(text: grownArtists.text, source: base.artists.source),
                                     genres: try LabelNameList(text: grownGenres.text, source: base.genres.source), v3: base.v3)
        (newArtists, newGenres) = (grownArtists.added, grownGenres.added)
        yBins = [grownGenres.rows, grownArtists.rows]
        (artistsText, genresText) = (grownArtists.text, grownGenres.text)
    }

    /// Writes the grown lists into a model folder (atomically, each under its plain name).
    public func write(into folder: String) throws {
        try AtomicFile.write(Data(artistsText.utf8), to: (folder as NSString).appendingPathComponent(LabelVocabulary.artistsFileName))
        try AtomicFile.write(Data(genresText.utf8), to: (folder as NSString).appendingPathComponent(LabelVocabulary.genresFileName))
    }
}
