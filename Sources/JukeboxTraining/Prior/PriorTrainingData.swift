import Foundation
import JukeboxCore
import JukeboxCorpus

/// Training windows for one level's prior, drawn from a folder of code files.
///
/// Each `*.safetensors` file holds int64 matrices as `jukebox encode` writes them — `z0`, `z1`, `z2`
/// (N×T codes of each level, one row per song) — and optionally `labels` (N×(1 + max_bow_genre_size):
/// artist id, then genre ids, −1 for none) and `lyrics` (N×M lyric tokens of the whole song, −1 padding at
/// the end), and for priors with a bar clock `bar_clock` (N×2: bar length and a downbeat, in audio samples;
/// a song without one trains with the clock left out). A window is n_ctx codes of the prior's level at a start that is a whole code of the level above
/// (for upsamplers, whose z_cond0 is the matching span of that level); its label vector is built as the
/// reference's labeller does: total length, offset and window length in audio samples, artist, genres,
/// and the lyric tokens around the window (get_relevant_lyric_tokens).
public final class PriorTrainingData: @unchecked Sendable {
    package struct Song {
        package let codes: [Int]          // this level
        let above: [Int]?         // the level above (upsamplers)
        let artist: Int
        let genres: [Int]
        let lyrics: [Int]
        /// Audio samples of the whole song the codes begin (a session's planned length), or nil: the codes are the whole song.
        var totalSamples: Int? = nil
        var barClock: BarClock? = nil
        /// For each code, the lyric character being sung then (an index into `lyrics`), −1 between words; nil
        /// when the song's word times are not known.
        var sung: [Int]? = nil
        var length: Int { codes.count }
    }

    /// The character sung at each of `codes` codes (`hop` samples each at `rate`) from the words' times in
    /// milliseconds: a word's characters share its span evenly. Nil when the lyrics' words and the times differ
    /// in number (the times belong to other lyrics).
    static func sungCharacters(lyrics: [Int], wordTimes: [Int], codes: Int, hop: Int, rate: Double, text: TextProcessor) -> [Int]? {
        let separators = Set(" \t\n".unicodeScalars.compactMap { text.token(of: $0) })
        var words: [ClosedRange<Int>] = []
        var start: Int? = nil
        for (i, t) in lyrics.enumerated() {
            if separators.contains(t) {
                if let s = start { words.append(s...(i - 1)); start = nil }
            } else if start == nil { start = i }
        }
        if let s = start { words.append(s...(lyrics.count - 1)) }
        guard words.count * 2 == wordTimes.count else { return nil }
        var sung = [Int](repeating: -1, count: codes)
        for (k, chars) in words.enumerated() {
            let (from, to) = (Double(wordTimes[2 * k]) / 1000, Double(wordTimes[2 * k + 1]) / 1000)
            guard to > from else { continue }
            let first = max(Int((from * rate / Double(hop)).rounded(.up)), 0), last = min(Int((to * rate / Double(hop)).rounded(.up)), codes)
            guard first < last else { continue }
            for t in first..<last {
                let fraction = (Double(t * hop) / rate - from) / (to - from)
                sung[t] = chars.lowerBound + min(chars.count - 1, max(0, Int(fraction * Double(chars.count))))
            }
        }
        return sung
    }

    package let config: PriorConfig
    package let songs: [Song]
    /// Audio samples per code of this level, and codes of this level per code of the level above.
    public let hopLength: Int, upsampling: Int
    /// Songs left out (too short for a window, or shorter than the label conditioner's min_duration).
    public let skipped: Int

    public var count: Int { songs.count }
    /// Songs whose word times are known (alignment guidance reads them).
    public var timedSongs: Int { songs.filter { $0.sung != nil }.count }

    /// The code hop of the prior's level and its upsampling from the level above, from downs_t and strides_t.
    public static func geometry(_ c: PriorConfig, _ hps: Hyperparameters) throws -> (hop: Int, upsampling: Int) {
        let downs = try hps.ints("downs_t"), strides = try hps.ints("strides_t")
        guard downs.count == c.levels, strides.count == c.levels else {
            throw JukeboxError(hps.source, "downs_t and strides_t need \(c.levels) entries each")
        }
        let perLevel = zip(downs, strides).map { d, s in (0..<d).reduce(1) { r, _ in r * s } }
        return (perLevel[0...c.level].reduce(1, *), c.isTopLevel ? 1 : perLevel[c.level + 1])
    }

    /// Genre ids cut or padded (−1, none) to the prior's max_bow_genre_size slots.
    static func genreSlots(_ genres: [Int], _ c: PriorConfig) -> [Int] {
        Array((genres + Array(repeating: -1, count: c.maxBowGenreSize)).prefix(c.maxBowGenreSize))
    }

    init(config c: PriorConfig, hopLength: Int, upsampling: Int, songs: [Song], skipped: Int) {
        config = c
        (self.hopLength, self.upsampling) = (hopLength, upsampling)
        self.songs = songs
        self.skipped = skipped
        starts = songs.map { ($0.length - c.nCtx) / upsampling + 1 }
        windowCount = starts.reduce(0, +)
    }

    /// Windows of sampled sessions, labelled as they were sampled: the prompt's artist, genre and lyrics
    /// through the prior's own label lists, and its planned song length for the timing signal. Scoring a
    /// model's samples this way asks whether the prior hears in them the conditions they were drawn
    /// under. Sessions shorter than a window are left out (`skipped`).
    public convenience init(sessions: [String], vocabulary: LabelVocabulary?, hps: Hyperparameters) throws {
        let c = try PriorConfig(hps: hps)
        let (hop, upsampling) = try Self.geometry(c, hps)
        var songs: [Song] = [], skipped = 0
        for path in sessions {
            let (folder, document) = try SessionFolder.open(path)
            let prompt = document.prompt
            let codes = try folder.loadCodes(samples: prompt.samples, levels: c.levels)
            guard let z = codes[c.level], c.isTopLevel || codes[c.level + 1] != nil else {
                throw JukeboxError(folder.codesPath, "holds no codes of level \(c.level)" + (c.isTopLevel ? "" : " and the level above"))
            }
            // An unlabelled prior never reads these.
            var labels = [0, 0] + Array(repeating: -1, count: max(c.maxBowGenreSize - 1, 0)), lyrics: [Int] = []
            if c.labels {
                guard let vocabulary else { throw JukeboxError(hps.source, "the prior is labelled but has no artist and genre lists beside it") }
                let made = try SongLabelCodes(vocabulary: vocabulary, artist: prompt.artist, genre: prompt.genre, lyrics: prompt.lyrics,
                                              genreSlots: c.maxBowGenreSize)
                (labels, lyrics) = (made.labels, made.lyricTokens)
            }
            for n in 0..<z.n {
                let usable = c.isTopLevel ? z.t : min(z.t, codes[c.level + 1]!.t * upsampling)
                guard usable >= c.nCtx else { skipped += 1; continue }
                let above = codes[c.level + 1].map { Array($0.values[(n * $0.t)..<(n * $0.t + usable / upsampling)]) }
                songs.append(Song(codes: Array(z.values[(n * z.t)..<(n * z.t + usable)]), above: c.isTopLevel ? nil : above,
                                  artist: labels[0],
                                  genres: Self.genreSlots(Array(labels.dropFirst()), c),
                                  lyrics: lyrics,
                                  totalSamples: max(Int(prompt.totalSeconds * c.sr), usable * hop),
                                  barClock: try prompt.barClock(sampleRate: c.sr)))
            }
        }
        guard !songs.isEmpty else { throw JukeboxError("sessions", "none holds a window of n_ctx = \(c.nCtx) codes at level \(c.level)") }
        self.init(config: c, hopLength: hop, upsampling: upsampling, songs: songs, skipped: skipped)
    }

    public convenience init(folder: String, hps: Hyperparameters) throws {
        let c = try PriorConfig(hps: hps)
        let (hopLength, upsampling) = try Self.geometry(c, hps)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else { throw JukeboxError(folder, "holds no code files (*.safetensors)") }
        var songs: [Song] = [], skipped = 0
        for name in files {
            let path = (folder as NSString).appendingPathComponent(name)
            let file = try SafetensorsFile(path: path)
            let z = try CodesFile.read(file, "z\(c.level)")
            let above = c.isTopLevel ? nil : try CodesFile.read(file, "z\(c.level + 1)")
            let labels = file.entries["labels"] == nil ? nil : try CodesFile.read(file, "labels")
            let lyrics = file.entries["lyrics"] == nil ? nil : try CodesFile.read(file, "lyrics")
            let clocks = file.entries["bar_clock"] == nil ? nil : try CodesFile.read(file, "bar_clock")
            let wordTimes = file.entries["word_times"] == nil || z.n != 1 ? nil : try CodesFile.read(file, "word_times")
            if let clocks, clocks.n != z.n || clocks.t != 2 {
                throw JukeboxError(path, "bar_clock has \(clocks.n)×\(clocks.t) entries; expected \(z.n) rows of bar length and downbeat")
            }
            if let above, above.n != z.n || above.t * upsampling != z.t {
                throw JukeboxError(path, "z\(c.level + 1) (\(above.n)×\(above.t)) does not cover z\(c.level) (\(z.n)×\(z.t))")
            }
            if let labels, labels.n != z.n || labels.t < 1 {
                throw JukeboxError(path, "labels has \(labels.n)×\(labels.t) entries; expected \(z.n) rows of artist and genres")
            }
            if let lyrics, lyrics.n != z.n { throw JukeboxError(path, "lyrics has \(lyrics.n) rows but z\(c.level) has \(z.n)") }
            if let bad = z.values.first(where: { $0 < 0 || $0 >= c.lBins }) {
                throw JukeboxError(path, "code \(bad) in z\(c.level) is outside 0..<\(c.lBins)")
            }
            for n in 0..<z.n {
                let seconds = Double(z.t * hopLength) / c.sr
                if z.t < c.nCtx || (c.includeTimeSignal && !(seconds >= c.minDuration)) {
                    skipped += 1
                    continue
                }
                var artist = 0, genres = [0]
                if let labels {
                    let row = Array(labels.values[(n * labels.t)..<((n + 1) * labels.t)])
                    artist = row[0]
                    genres = Array(row.dropFirst())
                }
                genres = Self.genreSlots(genres, c)
                if c.labels {
                    guard artist >= 0 && artist < c.yBins[1] else { throw JukeboxError(path, "artist id \(artist) of row \(n) is outside 0..<\(c.yBins[1])") }
                    if let g = genres.first(where: { $0 >= c.yBins[0] }) { throw JukeboxError(path, "genre id \(g) of row \(n) is outside 0..<\(c.yBins[0])") }
                }
                let words = lyrics.map { l in Array(l.values[(n * l.t)..<((n + 1) * l.t)].prefix { $0 >= 0 }) } ?? []
                if let bad = words.first(where: { $0 >= max(c.nVocab, 1) }), c.hasLyrics {
                    throw JukeboxError(path, "lyric token \(bad) of row \(n) is outside 0..<\(c.nVocab)")
                }
                var clock: BarClock? = nil
                if let clocks, clocks.values[2 * n] != 0 {
                    guard clocks.values[2 * n] > 0 else { throw JukeboxError(path, "bar_clock of row \(n) has a negative bar length") }
                    clock = BarClock(barLength: clocks.values[2 * n], downbeat: clocks.values[2 * n + 1])
                }
                let sung = c.hasLyrics ? wordTimes.flatMap {
                    Self.sungCharacters(lyrics: words, wordTimes: $0.values, codes: z.t, hop: hopLength, rate: c.sr,
                                        text: TextProcessor(v3: c.labelsV3))
                } : nil
                let song = Song(codes: Array(z.values[(n * z.t)..<((n + 1) * z.t)]),
                                above: above.map { Array($0.values[(n * $0.t)..<((n + 1) * $0.t)]) },
                                artist: artist, genres: genres, lyrics: words, barClock: clock, sung: sung)
                let parts = Self.parts(song, config: c, hopLength: hopLength, upsampling: upsampling)
                skipped += parts.isEmpty ? 1 : 0
                songs += parts
            }
        }
        guard !songs.isEmpty else {
            throw JukeboxError(folder, "no song is long enough for a window of n_ctx = \(c.nCtx) codes at level \(c.level)"
                               + (c.includeTimeSignal ? " and between min_duration and max_duration" : ""))
        }
        self.init(config: c, hopLength: hopLength, upsampling: upsampling, songs: songs, skipped: skipped)
    }

    /// A song as the label conditioner can time it: whole when it is shorter than max_duration (or the prior
    /// has no timing signal), else cut into equal consecutive parts that each are, every part a song of its
    /// own length (the reference leaves such songs out; a user's long recordings are a third of some albums).
    /// Each part keeps its share of the lyric characters — the lyric windows spread the characters evenly over
    /// a song, so the share is what they would show there — its sung characters within that share, and the
    /// bar clock moved to its start. Parts shorter than a window are left out.
    static func parts(_ song: Song, config c: PriorConfig, hopLength: Int, upsampling: Int) -> [Song] {
        let seconds = Double(song.length * hopLength) / c.sr
        guard c.includeTimeSignal, seconds >= c.maxDuration else { return song.length >= c.nCtx ? [song] : [] }
        let count = Int((seconds / (c.maxDuration * 0.99)).rounded(.up))
        let length = song.length / count / upsampling * upsampling
        guard length >= c.nCtx else { return [] }
        return (0..<count).map { p in
            let (start, end) = (p * length, (p + 1) * length)
            let (first, last) = (p * song.lyrics.count / count, (p + 1) * song.lyrics.count / count)
            let clock = song.barClock.map { whole in
                BarClock(barLength: whole.barLength,
                         downbeat: ((whole.downbeat - start * hopLength) % whole.barLength + whole.barLength) % whole.barLength)
            }
            return Song(codes: Array(song.codes[start..<end]),
                        above: song.above.map { Array($0[(start / upsampling)..<(end / upsampling)]) },
                        artist: song.artist, genres: song.genres, lyrics: Array(song.lyrics[first..<last]), barClock: clock,
                        sung: song.sung.map { $0[start..<end].map { ch in ch >= first && ch < last ? ch - first : -1 } })
        }
    }

    /// Window starts per song (a start is a whole code of the level above), and their sum.
    let starts: [Int]
    let windowCount: Int

    public struct Batch: Sendable {
        public let z: [Int], zCond: [Int]?, y: [Int]?, size: Int
        /// Per code of each row, the lyric key (column of the window's lyric tokens, shifted by the start
        /// token) of the character sung then; −1 where none is or the window does not show it. Nil when no
        /// song of the batch has word times.
        public var alignTargets: [Int]? = nil
    }

    /// The key column of each code's sung character in a window that shows the lyric characters `indices`.
    static func alignTargets(sung: ArraySlice<Int>, indices: [Int]) -> [Int] {
        guard let firstShown = indices.firstIndex(where: { $0 >= 0 }) else { return sung.map { _ in -1 } }
        let base = indices[firstShown] - firstShown   // character at position p of the window is base + p
        return sung.map { ch in
            guard ch >= 0 else { return -1 }
            let column = ch - base + 1                 // the key after a character's own position carries it
            return column >= 1 && column < indices.count && indices[column - 1] == ch ? column : -1
        }
    }

    /// Batch number `index` of a run seeded with `seed`: the same (seed, index) always gives the same windows,
    /// so a resumed run draws what the uninterrupted one would have.
    public func batch(index: Int, size: Int, seed: UInt64) throws -> Batch {
        let c = config
        var rng = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D)
        var z: [Int] = [], zCond: [Int] = [], y: [Int] = [], targets: [Int] = [], anyTimed = false
        for _ in 0..<size {
            // Uniform over every window start of every song, so longer songs give more windows (the
            // reference's dataset cuts all the audio into chunks the same way).
            var pick = Int(rng.next() % UInt64(windowCount))
            var k = 0
            while pick >= starts[k] { pick -= starts[k]; k += 1 }
            let song = songs[k]
            let start = pick * upsampling
            z += song.codes[start..<(start + c.nCtx)]
            if let above = song.above { zCond += above[(start / upsampling)..<((start + c.nCtx) / upsampling)] }
            guard c.labels else { continue }
            let total = song.totalSamples ?? song.length * hopLength, offset = start * hopLength, duration = c.nCtx * hopLength
            y += [total, offset, duration, song.artist] + song.genres
            if c.barClockBins > 0 { y += song.barClock.map { [$0.barLength, $0.downbeat] } ?? [0, 0] }
            if c.hasLyrics {
                let window = try LyricWindow.relevantTokens(song.lyrics, nTokens: c.nTokens, totalLength: total, offset: offset,
                                                            duration: duration, arithmetic: .float64)
                y += window.tokens
                if let sung = song.sung {
                    targets += Self.alignTargets(sung: sung[start..<(start + c.nCtx)], indices: window.indices)
                    anyTimed = true
                } else {
                    targets += [Int](repeating: -1, count: c.nCtx)
                }
            }
        }
        return Batch(z: z, zCond: c.isTopLevel ? nil : zCond, y: c.labels ? y : nil, size: size,
                     alignTargets: anyTimed ? targets : nil)
    }
}
