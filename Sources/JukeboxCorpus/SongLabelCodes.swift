import JukeboxCore
/// A song's labels as code files carry them for training: `labels` (artist id, then one id per genre
/// slot, −1 for none) and `lyrics` (the cleaned lyrics' tokens), with what the vocabulary could not take.
public struct SongLabelCodes: Sendable {
    public let labels: [Int]
    public let lyricTokens: [Int]
    /// Unknown artist or genre names, characters the lyric vocabulary lacks: one sentence each.
    public let warnings: [String]

    public init(vocabulary: LabelVocabulary, artist: String, genre: String, lyrics: String, genreSlots: Int) throws {
        let (artistID, artistWarning) = vocabulary.artistID(artist)
        let genres = try vocabulary.genreIDs(genre, maxBowGenreSize: genreSlots)
        let processor = TextProcessor(v3: vocabulary.v3)
        let cleaned = processor.inspect(lyrics)
        var warnings = (artistWarning.map { [$0] } ?? []) + genres.warnings
        if !cleaned.dropped.isEmpty {
            warnings.append("the lyric vocabulary lacks " + Set(cleaned.dropped.map { String($0.scalar) }).sorted().joined(separator: " "))
        }
        labels = [artistID] + genres.ids
        lyricTokens = processor.tokenise(cleaned.text)
        self.warnings = warnings
    }

    /// The matrices to add to a one-song codes file.
    public var matrices: [(name: String, codes: LevelCodes)] {
        get throws {
            [("labels", try LevelCodes(n: 1, t: labels.count, values: labels)),
             ("lyrics", try LevelCodes(n: 1, t: lyricTokens.count, values: lyricTokens))]
        }
    }
}
