/// The reference's label vector y, one row per batch item:
/// [total_length, offset, sample_length, artist_id, genre_ids… (-1 = none), lyric tokens…],
/// lengths and offset in audio samples (44.1 kHz), genre ids padded to max_bow_genre_size,
/// n_tokens lyric tokens (none for priors without lyrics). A prior with a bar clock (our extension,
/// `bar_clock_bins`) reads two more entries between the genres and the lyrics: [bar_length, downbeat].
public struct LabelLayout: Sendable, Equatable {
    public let maxBowGenreSize: Int
    public let nTokens: Int
    public let barClock: Bool

    public init(maxBowGenreSize: Int, nTokens: Int, barClock: Bool = false) {
        self.maxBowGenreSize = maxBowGenreSize
        self.nTokens = nTokens
        self.barClock = barClock
    }

    /// From a prior's hyperparameters (max_bow_genre_size, n_tokens; n_tokens 0 without lyrics;
    /// bar_clock_bins, absent in the reference's).
    public init(hps: Hyperparameters) throws {
        let bow = try hps.int("max_bow_genre_size")
        let tokens = try hps.optionalInt("n_tokens") ?? 0
        let clockBins = hps.has("bar_clock_bins") ? try hps.int("bar_clock_bins") : 0
        guard bow >= 1 else { throw JukeboxError("max_bow_genre_size", "must be at least 1 (got \(bow))") }
        guard tokens >= 0 else { throw JukeboxError("n_tokens", "must not be negative (got \(tokens))") }
        self.init(maxBowGenreSize: bow, nTokens: tokens, barClock: clockBins > 0)
    }

    /// 4 + max_bow_genre_size (+ 2 for the bar clock) + n_tokens.
    public var count: Int { lyricStart + nTokens }
    /// The genre slots in y.
    public var genres: Range<Int> { 4..<(4 + maxBowGenreSize) }
    /// The bar clock's [bar_length, downbeat] in y (empty without one).
    public var clock: Range<Int> { genres.upperBound..<(genres.upperBound + (barClock ? 2 : 0)) }
    /// Where the lyric tokens start in y.
    public var lyricStart: Int { clock.upperBound }
    /// The artist id and the genre ids in y.
    public var artistAndGenres: Range<Int> { 3..<genres.upperBound }
}

/// Where the bars fall in a song, for a prior with a bar clock: a bar lasts `barLength` audio samples
/// and one begins at sample `downbeat` (the corpus's songs start on a downbeat, so 0). The reference's
/// timing signal tells the prior only where a window lies in the song, too coarsely to place a beat; the
/// clock tells each code where in its bar it falls, so the prior's onsets can keep time.
public struct BarClock: Sendable, Equatable, Codable {
    public var barLength: Int
    public var downbeat: Int

    public init(barLength: Int, downbeat: Int = 0) {
        self.barLength = barLength
        self.downbeat = downbeat
    }

    /// Bars of `beatsPerBar` beats at `bpm` beats a minute, audio at `sampleRate`.
    public init(bpm: Double, beatsPerBar: Int = 4, sampleRate: Double = 44100, downbeat: Int = 0) throws {
        guard bpm.isFinite, bpm >= 20, bpm <= 400 else { throw JukeboxError("bpm", "\(bpm) is outside 20...400 beats a minute") }
        self.init(barLength: Int((Double(beatsPerBar) * 60 / bpm * sampleRate).rounded()), downbeat: downbeat)
    }

    /// Which of `bins` equal parts of its bar audio sample `position` falls in.
    public func bin(atSample position: Int, bins: Int) -> Int {
        let phase = ((position - downbeat) % barLength + barLength) % barLength
        return phase * bins / barLength
    }
}

/// What one song's labels are before a window is chosen (the reference's metas entry after
/// Labeller.get_label: ids resolved, lyrics tokenised in full).
public struct SongLabels: Sendable, Equatable {
    public var artistID: Int
    /// Unpadded genre ids (v2 one per word, v3 one).
    public var genreIDs: [Int]
    /// The whole song's lyric tokens (TextProcessor.tokens(forLyrics:)).
    public var fullTokens: [Int]
    /// The song's length in audio samples.
    public var totalLength: Int
    /// Where the sampled audio starts in the song, in audio samples (0 for a new song).
    public var offset: Int
    /// Where the bars fall (priors with a bar clock; nil: the clock is left out).
    public var barClock: BarClock?

    public init(artistID: Int, genreIDs: [Int], fullTokens: [Int], totalLength: Int, offset: Int = 0,
                barClock: BarClock? = nil) {
        self.artistID = artistID
        self.genreIDs = genreIDs
        self.fullTokens = fullTokens
        self.totalLength = totalLength
        self.offset = offset
        self.barClock = barClock
    }
}

public enum LabelVector {
    /// y from ids (the reference's get_y_from_ids): genre ids padded with -1.
    public static func make(totalLength: Int, offset: Int, sampleLength: Int, artistID: Int, genreIDs: [Int],
                            lyricTokens: [Int], layout: LabelLayout, barClock: BarClock? = nil) throws -> [Int] {
        guard genreIDs.count <= layout.maxBowGenreSize else {
            throw JukeboxError("genre", "\(genreIDs.count) genre ids; the model takes at most \(layout.maxBowGenreSize)")
        }
        guard lyricTokens.count == layout.nTokens else {
            throw JukeboxError("lyrics", "\(lyricTokens.count) lyric tokens; the model takes exactly \(layout.nTokens)")
        }
        var y = [totalLength, offset, sampleLength, artistID]
        y += genreIDs + Array(repeating: -1, count: layout.maxBowGenreSize - genreIDs.count)
        // No clock is [0, 0]: the prior then adds nothing for it.
        if layout.barClock { y += barClock.map { [$0.barLength, $0.downbeat] } ?? [0, 0] }
        y += lyricTokens
        return y
    }

    /// y for the sampling window that starts at token `start` of a level (the reference's
    /// prior.get_y): sample_length is the level's window in audio samples (n_ctx · raw_to_tokens),
    /// the offset moves by start · raw_to_tokens, and the lyric tokens are the window's
    /// (with their indices in the full lyrics, -1 for padding, for alignment).
    public static func forWindow(_ song: SongLabels, start: Int, rawToTokens: Int, sampleLength: Int,
                                 layout: LabelLayout, arithmetic: LyricWindow.Arithmetic = .float32) throws
        -> (y: [Int], lyricIndices: [Int]) {
        guard start >= 0, rawToTokens >= 1 else {
            throw JukeboxError("window", "start \(start) and raw_to_tokens \(rawToTokens) must be non-negative and positive")
        }
        let offset = song.offset + start * rawToTokens
        var tokens: [Int] = []
        var indices: [Int] = []
        if layout.nTokens > 0 {
            (tokens, indices) = try LyricWindow.relevantTokens(song.fullTokens, nTokens: layout.nTokens,
                                                               totalLength: song.totalLength, offset: offset,
                                                               duration: sampleLength, arithmetic: arithmetic)
        }
        let y = try make(totalLength: song.totalLength, offset: offset, sampleLength: sampleLength,
                         artistID: song.artistID, genreIDs: song.genreIDs, lyricTokens: tokens, layout: layout,
                         barClock: song.barClock)
        return (y, indices)
    }

    /// Checks a y row before it indexes embeddings: its length, artist id below `artistBins`,
    /// genre ids -1 or below `genreBins`, lyric tokens below `nVocab` (0 when no lyrics).
    public static func validate(_ y: [Int], layout: LabelLayout, artistBins: Int, genreBins: Int, nVocab: Int) throws {
        guard y.count == layout.count else {
            throw JukeboxError("y", "label vector has \(y.count) entries; the model expects \(layout.count)")
        }
        guard y[0] > 0, y[1] >= 0, y[2] > 0 else {
            throw JukeboxError("y", "total_length \(y[0]), offset \(y[1]), sample_length \(y[2]) must be positive (offset non-negative)")
        }
        guard y[3] >= 0, y[3] < artistBins else {
            throw JukeboxError("y", "artist id \(y[3]) is outside 0..<\(artistBins)")
        }
        for g in y[layout.genres] where g < -1 || g >= genreBins {
            throw JukeboxError("y", "genre id \(g) is outside -1..<\(genreBins)")
        }
        if layout.barClock, y[layout.clock.lowerBound] < 0 {
            throw JukeboxError("y", "bar length \(y[layout.clock.lowerBound]) must not be negative")
        }
        for t in y[layout.lyricStart...] where t < 0 || t >= nVocab {
            throw JukeboxError("y", "lyric token \(t) is outside 0..<\(nVocab)")
        }
    }
}
