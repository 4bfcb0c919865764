import Foundation
import JukeboxCore
import JukeboxTraining

/// How well a top prior's attention tells when each word is sung, on songs whose word times are known (code
/// files from `dataset encode` of a corpus that records them, `word_times`): the error of each word's onset
/// in seconds and in beats, for any layer and head that sees the lyrics, beside the lyric windows' own
/// assumption (the characters spread evenly over the song).
public enum AlignmentEvaluation {
    public struct Song: Sendable {
        public let id: String
        public let codes: [Int]
        public let labels: SongLabels
        public let lyrics: String
        /// Onsets of the lyrics' words in order, seconds.
        public let onsets: [Double]
        public let secondsPerBeat: Double
        /// Audio samples per code of the prior's level.
        public let rawToTokens: Int
    }

    /// Word-onset errors pooled over songs.
    public struct Errors: Sendable, Equatable {
        public let words: Int
        public let medianSeconds: Double, p90Seconds: Double
        public let medianBeats: Double, p90Beats: Double

        public init(_ pairs: [(seconds: Double, beats: Double)]) {
            words = pairs.count
            func quantile(_ xs: [Double], _ q: Double) -> Double {
                guard !xs.isEmpty else { return .nan }
                let s = xs.sorted()
                return s[min(s.count - 1, Int((q * Double(s.count - 1)).rounded()))]
            }
            (medianSeconds, p90Seconds) = (quantile(pairs.map(\.seconds), 0.5), quantile(pairs.map(\.seconds), 0.9))
            (medianBeats, p90Beats) = (quantile(pairs.map(\.beats), 0.5), quantile(pairs.map(\.beats), 0.9))
        }

        public var json: [String: Any] {
            ["words": words, "median_seconds": medianSeconds, "p90_seconds": p90Seconds,
             "median_beats": medianBeats, "p90_beats": p90Beats]
        }
    }

    /// The sung songs of a folder of code files (those with `word_times` and lyrics), at most `limit`.
    public static func songs(folder: String, prior: PriorModel, limit: Int = .max) throws -> [Song] {
        let c = prior.prior.config
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else { throw JukeboxError(folder, "holds no code files (*.safetensors)") }
        let text = TextProcessor(v3: c.labelsV3)
        let hop = try PriorTrainingData.geometry(c, prior.hps).hop
        var songs: [Song] = []
        for name in files where songs.count < limit {
            let path = (folder as NSString).appendingPathComponent(name)
            let file = try SafetensorsFile(path: path)
            guard file.entries["word_times"] != nil, file.entries["lyrics"] != nil, file.entries["labels"] != nil else { continue }
            let z = try CodesFile.read(file, "z\(c.level)")
            let labels = try CodesFile.read(file, "labels"), lyrics = try CodesFile.read(file, "lyrics")
            let words = try CodesFile.read(file, "word_times")
            guard z.n == 1, words.t == 2 else {
                throw JukeboxError(path, "expected one song (z\(c.level) has \(z.n) rows) and word_times of (start, end) pairs")
            }
            var clock: BarClock? = nil
            if file.entries["bar_clock"] != nil {
                let m = try CodesFile.read(file, "bar_clock")
                clock = BarClock(barLength: m.values[0], downbeat: m.values[1])
            }
            let tokens = lyrics.values.filter { $0 >= 0 }
            let song = SongLabels(artistID: labels.values[0], genreIDs: labels.values.dropFirst().filter { $0 >= 0 },
                                  fullTokens: tokens, totalLength: z.t * hop, offset: 0,
                                  barClock: c.labelLayout.barClock ? clock : nil)
            let beat = clock.map { Double($0.barLength) / 4 / c.sr } ?? 0.5
            songs.append(Song(id: (name as NSString).deletingPathExtension, codes: z.values, labels: song,
                              lyrics: text.textise(tokens), onsets: stride(from: 0, to: words.values.count, by: 2).map { Double(words.values[$0]) / 1000 },
                              secondsPerBeat: beat, rawToTokens: hop))
        }
        guard !songs.isEmpty else {
            throw JukeboxError(folder, "holds no sung songs with word times (code files from `jukebox dataset encode` of a corpus built by this version)")
        }
        return songs
    }

    /// The errors of one alignment's word onsets against the song's.
    static func errors(_ alignment: LyricAlignment, _ song: Song) -> [(seconds: Double, beats: Double)] {
        alignment.words.compactMap { w in
            guard w.index < song.onsets.count else { return nil }
            let e = abs(w.start - song.onsets[w.index])
            return (e, e / song.secondsPerBeat)
        }
    }

    public struct Result: Sendable {
        /// Errors per (layer, head), best first.
        public let candidates: [(layer: Int, head: Int, errors: Errors)]
        /// Errors per (layer, head, spread) of the path held near the even spread (LyricAlignment's evenPrior),
        /// best first.
        public let held: [(layer: Int, head: Int, spread: Double, errors: Errors)]
        public let evenSpread: Errors
        public let songs: Int
    }

    /// Spreads (fractions of the lyrics' characters, one standard deviation) the held path is measured with.
    public static let spreads = [0.03, 0.06, 0.12, 0.25]

    /// Every head of every layer in `layers` (default: all that see the lyrics) measured on `songs`.
    public static func measure(prior: PriorModel, songs: [Song], layers: [Int]? = nil, hopFraction: Double = 0.5,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        let c = prior.prior.config
        let layers = layers ?? prior.prior.lyricLayers
        guard !layers.isEmpty else { throw JukeboxError(prior.folder, "no layer of this prior attends to lyrics") }
        let text = TextProcessor(v3: c.labelsV3)
        let heads = prior.prior.prior.transformer.config.heads
        var pooled = [[(seconds: Double, beats: Double)]](repeating: [], count: layers.count * heads)
        var held = [[(seconds: Double, beats: Double)]](repeating: [], count: layers.count * heads * spreads.count)
        var even: [(seconds: Double, beats: Double)] = []
        for (n, song) in songs.enumerated() {
            let secondsPerCode = Double(song.rawToTokens) / c.sr
            let maps = try AttentionMap.compute(prior: prior.prior, layers: layers, codes: song.codes, song: song.labels,
                                                rawToTokens: song.rawToTokens, hopFraction: hopFraction)
            for (l, map) in maps.enumerated() {
                for h in 0..<heads {
                    let a = LyricAlignment.fromAttention(map, layer: layers[l], head: h, lyrics: song.lyrics, text: text,
                                                         secondsPerCode: secondsPerCode)
                    pooled[l * heads + h] += errors(a, song)
                    for (k, spread) in spreads.enumerated() {
                        let b = LyricAlignment.fromAttention(map, layer: layers[l], head: h, lyrics: song.lyrics, text: text,
                                                             secondsPerCode: secondsPerCode,
                                                             evenPrior: (Double(song.codes.count) * secondsPerCode, 0, spread))
                        held[(l * heads + h) * spreads.count + k] += errors(b, song)
                    }
                }
            }
            let seconds = Double(song.codes.count) * secondsPerCode
            even += errors(LyricAlignment.evenSpread(lyrics: song.lyrics, text: text, songSeconds: seconds, seconds: seconds), song)
            progress(n + 1, songs.count)
        }
        let candidates = layers.indices.flatMap { l in (0..<heads).map { h in (layer: layers[l], head: h, errors: Errors(pooled[l * heads + h])) } }
            .sorted { $0.errors.medianSeconds < $1.errors.medianSeconds }
        var heldCandidates: [(layer: Int, head: Int, spread: Double, errors: Errors)] = []
        for l in layers.indices {
            for h in 0..<heads {
                for k in spreads.indices {
                    heldCandidates.append((layers[l], h, spreads[k], Errors(held[(l * heads + h) * spreads.count + k])))
                }
            }
        }
        heldCandidates.sort { $0.errors.medianSeconds < $1.errors.medianSeconds }
        return Result(candidates: candidates, held: heldCandidates, evenSpread: Errors(even), songs: songs.count)
    }
}
