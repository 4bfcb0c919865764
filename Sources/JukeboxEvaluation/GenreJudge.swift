import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxTraining

/// `jukebox eval genre` as a library call: a genre classifier trained on a corpus (and on the corpus as a
/// codec rebuilds it), checked on the held-out songs, then judging sample sessions — ones given, and ones
/// it samples itself (`perGenre` clips of every genre). The recipe's model card runs it with typed options.
public struct GenreJudge {
    public var corpus: String
    /// A VQ-VAE folder or a model set whose rebuilds of the corpus the classifier also learns from.
    public var codec: String?
    /// The model set to sample with (nil: the bundled one).
    public var model: String?
    public var perGenre = 0
    public var seconds = 10.0
    /// Seed of the first sampled clip (the next ones count up).
    public var seed: UInt64 = 1
    /// Where sampled sessions go (needed with `perGenre`).
    public var sessionsOut: String?
    /// Sessions to judge besides the sampled ones.
    public var sessions: [String] = []
    /// What the sampled clips are asked for with.
    public var prompts: Prompts = .training
    /// Sample only these corpus genres (empty: every genre); seeds count up over the chosen ones.
    public var onlyGenres: [String] = []

    public enum Prompts: String, Sendable, CaseIterable {
        /// What a user gets: the genre's artists in turn, two lines of lyrics written fresh for each clip.
        case fresh
        /// The training songs' own artists and lyrics in turn (the model card's first setting).
        case training
    }

    public init(corpus: String) { self.corpus = corpus }

    public typealias Result = (evaluation: GenreEvaluation, samples: GenreEvaluation.Judgement?, tempo: GenreReport.Tempo?,
                               sound: GenreReport.Sound?)

    /// - Parameters:
    ///   - sampling: the sampler's events while clips are sampled (for a progress display).
    ///   - progress: (what, done, total) of the codec's pass over the corpus and of training the classifier.
    public func measure(log: (String) -> Void = { _ in }, sampling: @escaping (GenerationEvent) -> Void = { _ in },
                        progress: @escaping (String, Int, Int) -> Void = { _, _, _ in }) throws -> Result {
        guard perGenre >= 0, perGenre <= 100 else { throw JukeboxError("--sample-per-genre", "must be between 0 and 100") }
        if perGenre > 0 && sessionsOut == nil { throw JukeboxError("--sessions-out", "needed with --sample-per-genre (where the sampled sessions go)") }
        let songs = try CorpusIndex.read(corpus)
        let genres = Set(songs.map(\.genre))
        if let unknown = onlyGenres.first(where: { !genres.contains($0) }) {
            throw JukeboxError("--only-genre", "\(unknown) is not a genre of \(corpus) (it has \(genres.sorted().joined(separator: ", ")))")
        }
        let renditions = try codec.map { path in
            let folder = FileManager.default.fileExists(atPath: path + "/vqvae/config.json") ? path + "/vqvae" : path
            let label = "the corpus through the codec (kept in \(corpus)/judge-cache)"
            return try GenreEvaluation.codecRenditions(corpus: corpus, codecFolder: folder) { done, _ in
                progress(label, done, max(songs.count, 1))
            }
        }
        let training = "training the genre classifier on \(corpus)"
        progress(training, 0, 1)
        let evaluation = try GenreEvaluation.fromCorpus(corpus, renditions: renditions)
        progress(training, 1, 1)
        var sessions = self.sessions
        if perGenre > 0, let sessionsOut { sessions += try sampleSessions(into: sessionsOut, corpus: songs, log: log, events: sampling) }
        var clips: [(file: String, genre: String)] = [], artists: [(name: String, bpm: Double?)] = []
        for path in sessions {
            let (folder, document) = try SessionFolder.open(path)
            guard let renders = folder.finestRenders() else { throw JukeboxError(path, "holds no rendered WAV (render-level*-sample*.wav)") }
            for file in renders.files {
                clips.append((file, document.prompt.genre))
                artists.append((document.prompt.artist, document.prompt.bpm))
            }
        }
        guard !clips.isEmpty else { return (evaluation, nil, nil, nil) }
        return (evaluation, try evaluation.judge(clips), try tempo(clips: clips, artists: artists, corpus: songs),
                try sound(clips: clips.map(\.file), corpus: songs))
    }

    /// Whether the clips keep their artist's tempo (the tempo their session's bar clock kept, else the
    /// corpus's for the artist: a judge's corpus of another seed has other artists), beside the held-out
    /// songs' first seconds as the reference; clips with neither are not counted.
    func tempo(clips: [(file: String, genre: String)], artists: [(name: String, bpm: Double?)], corpus songs: [CorpusSong]) throws
        -> GenreReport.Tempo {
        let bpm = Dictionary(songs.map { ($0.artist, $0.bpm) }, uniquingKeysWith: { first, _ in first })
        let known = zip(clips, artists).compactMap { clip, artist in (artist.bpm ?? bpm[artist.name]).map { (file: clip.file, bpm: $0) } }
        let heard = try GenreEvaluation.tempoAgreement(known, seconds: seconds)
        let root = (corpus as NSString)
        let heldOut = try GenreEvaluation.tempoAgreement(songs.filter { $0.split == "test" }.map { (root.appendingPathComponent($0.file), $0.bpm) },
                                                         seconds: seconds)
        return GenreReport.Tempo(clips: heard.total, at_artist_tempo: heard.agreeing, held_out_songs: heldOut.total,
                                 held_out_at_tempo: heldOut.agreeing, beat_strength: heard.meanBeatStrength,
                                 held_out_beat_strength: heldOut.meanBeatStrength)
    }

    /// How clean the clips' high band is (`HighBandFlatness`, pooled over the clips by power), beside the
    /// held-out songs' own.
    func sound(clips: [String], corpus songs: [CorpusSong]) throws -> GenreReport.Sound {
        func pooled(_ files: [String]) throws -> Double? {
            var pool = HighBandFlatness.Pool()
            // At 44.1 kHz, the rate of the models and of the corpus, whatever the file's.
            for file in files { pool.add(HighBandFlatness.frames(try AudioFile.readMono(file, sampleRate: 44100), sampleRate: 44100)) }
            return pool.value
        }
        let root = corpus as NSString
        return GenreReport.Sound(high_band_flatness: try pooled(clips),
                                 held_out_high_band_flatness: try pooled(songs.filter { $0.split == "test" }.map { root.appendingPathComponent($0.file) }))
    }

    /// `perGenre` sessions for every genre of the corpus, seeds counting up from `seed`: with `.training` its
    /// training songs in turn give the artist and the lyrics (none for an instrumental) of one clip each; with
    /// `.fresh` the genre's artists in turn and two new lines each. The model set's own temperatures and length.
    func sampleSessions(into folder: String, corpus: [CorpusSong], log: (String) -> Void,
                        events: @escaping (GenerationEvent) -> Void) throws -> [String] {
        let songs = corpus.filter { $0.split == "train" }
        var songsByGenre: [String: [CorpusSong]] = [:]
        for song in songs { songsByGenre[song.genre, default: []].append(song) }
        let modelArtists = prompts == .fresh ? try artistsByGenre() : [:]
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var made: [String] = []
        for genre in songsByGenre.keys.sorted() where onlyGenres.isEmpty || onlyGenres.contains(genre) {
            let chosen = songsByGenre[genre]!
            // The model's own artists of the genre: a judge's corpus of another seed has artists the model
            // never heard of.
            let artists = modelArtists[genre] ?? Array(Set(chosen.map(\.artist))).sorted()
            for i in 0..<perGenre {
                let song = chosen[i % chosen.count]
                let clipSeed = seed &+ UInt64(made.count)
                let (artist, lyrics) = prompts == .training
                    ? (song.artist, song.lyrics)
                    : (artists[i % artists.count], FreshLyrics.write(genre: genre, seed: clipSeed) ?? "")
                let out = (folder as NSString).appendingPathComponent("\(genre.replacingOccurrences(of: " ", with: "_"))-\(i + 1)")
                let job = SampleJob(request: PromptRequest(genre: genre, artist: artist, lyrics: lyrics, seconds: seconds, seed: clipSeed),
                                    output: out, model: model)
                log("sampling \(genre) (\(artist)) into \(out)")
                _ = try job.run(log: log, events: events)
                made.append(out)
            }
        }
        return made
    }

    /// The model set's artists by genre (its sampling.json's `artist_genre`), sorted; empty when it has none.
    func artistsByGenre() throws -> [String: [String]] {
        guard let defaults = try SamplingDefaults.load(setFolder: try BundledModel.resolve(model)) else { return [:] }
        var byGenre: [String: [String]] = [:]
        for (artist, genre) in defaults.artistGenres { byGenre[genre, default: []].append(artist) }
        return byGenre.mapValues { $0.sorted() }
    }
}

/// `eval genre --json`, and the model card's genre judge: confusion matrices with truth down the side.
public struct GenreReport: Encodable {
    public let chance: Double
    public let held_out: Entry
    public var held_out_reconstructed: [String: Entry]?
    public let samples: Entry?
    public var tempo: Tempo?
    public var sound: Sound?

    /// The 4–22 kHz band's spectral flatness (`HighBandFlatness`) of the clips and of the held-out songs:
    /// where a codec rebuilds upper harmonics as hiss, the clips' is the higher.
    public struct Sound: Encodable {
        public let high_band_flatness: Double?, held_out_high_band_flatness: Double?
    }

    /// Clips whose onset envelope repeats at their artist's tempo, and the same for the held-out songs;
    /// the mean beat strength of each (AudioFeatures.beat): whether there is a beat at all.
    public struct Tempo: Encodable {
        public let clips: Int, at_artist_tempo: Int, held_out_songs: Int, held_out_at_tempo: Int
        public let beat_strength: Double, held_out_beat_strength: Double
    }

    public struct Entry: Encodable {
        public let accuracy: Double, count: Int, labels: [String], confusion: [[Int]]
        public var intended_probability: Double?
        /// Clip by clip (sampled clips only): the file, the genre asked for and the one heard.
        public var clips: [GenreEvaluation.Verdict]?
        /// The accuracy's 95 % interval (Wilson's score interval): what the count alone can tell.
        public let interval_95: [Double]

        public init(_ m: ConfusionMatrix) {
            (accuracy, count, labels, confusion) = (m.accuracy, m.total, m.labels, m.counts)
            interval_95 = [m.interval95.lower, m.interval95.upper]
        }

        public init(_ j: GenreEvaluation.Judgement) {
            self.init(j.matrix)
            intended_probability = j.intendedProbability
            clips = j.clips
        }
    }

    public init(_ evaluation: GenreEvaluation, samples: GenreEvaluation.Judgement?, tempo: Tempo? = nil, sound: Sound? = nil) {
        self.tempo = tempo
        self.sound = sound
        chance = 1 / Double(evaluation.classifier.genres.count)
        held_out = Entry(evaluation.heldOut)
        self.samples = samples.map(Entry.init)
        if !evaluation.heldOutReconstructed.isEmpty {
            held_out_reconstructed = Dictionary(uniqueKeysWithValues: evaluation.heldOutReconstructed.enumerated().map { ("level \($0.offset)", Entry($0.element)) })
        }
    }

    /// Wilson's 95 % score interval for `correct` right out of `total` (0…1 when there is nothing to count).
    public static func wilson(correct: Int, of total: Int, z: Double = 1.959964) -> (lower: Double, upper: Double) {
        guard total > 0 else { return (0, 1) }
        let n = Double(total), p = Double(correct) / n
        let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / (1 + z * z / n)
        return (max(0, centre - half), min(1, centre + half))
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}

