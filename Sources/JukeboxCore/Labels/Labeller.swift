/// Names and lyrics → label vectors for one prior (the reference's Labeller): the prior's id
/// lists and text vocabulary, its label layout, and its window length in audio samples.
public struct Labeller: Sendable {
    public let vocabulary: LabelVocabulary
    public let text: TextProcessor
    public let layout: LabelLayout
    /// The prior's window in audio samples (n_ctx · raw_to_tokens).
    public let sampleLength: Int

    public init(vocabulary: LabelVocabulary, layout: LabelLayout, sampleLength: Int, asciiFolding: Bool = false) {
        self.vocabulary = vocabulary
        self.text = TextProcessor(v3: vocabulary.v3, asciiFolding: asciiFolding)
        self.layout = layout
        self.sampleLength = sampleLength
    }

    /// A song's labels resolved (Labeller.get_label before windowing), with every warning about
    /// unknown names and the cleaned lyrics with what the model cannot see.
    public struct Resolved: Sendable {
        public let song: SongLabels
        public let warnings: [String]
        public let lyrics: CleanedLyrics
    }

    public func resolve(artist: String, genre: String, lyrics: String, totalLength: Int, offset: Int = 0,
                        barClock: BarClock? = nil) throws -> Resolved {
        guard totalLength > 0, offset >= 0, offset < totalLength else {
            throw JukeboxError("total_length", "offset \(offset) must lie inside the song of \(totalLength) samples")
        }
        let (artistID, artistWarning) = vocabulary.artistID(artist)
        let genres = try vocabulary.genreIDs(genre, maxBowGenreSize: layout.maxBowGenreSize)
        let cleaned = text.inspect(lyrics)
        let song = SongLabels(artistID: artistID, genreIDs: genres.ids.filter { $0 >= 0 },
                              fullTokens: text.tokenise(cleaned.text), totalLength: totalLength, offset: offset,
                              barClock: layout.barClock ? barClock : nil)
        return Resolved(song: song, warnings: (artistWarning.map { [$0] } ?? []) + genres.warnings, lyrics: cleaned)
    }

    /// y for the window starting at token `start` of this prior's level (prior.get_y).
    public func y(_ song: SongLabels, start: Int, rawToTokens: Int) throws -> (y: [Int], lyricIndices: [Int]) {
        try LabelVector.forWindow(song, start: start, rawToTokens: rawToTokens, sampleLength: sampleLength, layout: layout)
    }

    /// What a y row says, in the reference's names (describe_label); nil names for unknown ids.
    public func describe(_ y: [Int]) throws -> (artist: String?, genre: String?, lyrics: String) {
        guard y.count == layout.count else {
            throw JukeboxError("y", "label vector has \(y.count) entries; expected \(layout.count)")
        }
        return (vocabulary.artistName(id: y[3]), vocabulary.genreName(ids: Array(y[layout.genres])),
                text.textise(Array(y[layout.lyricStart...])))
    }
}
