import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxTraining

/// Whether a genre can be heard: a classifier trained on the corpus's training songs, checked on its
/// held-out songs, then asked to name the genre of other clips (a model's own samples).
public struct GenreEvaluation: Sendable {
    /// Clips are judged in segments of this length (the last is kept if at least half as long).
    public static let segmentSeconds = 5.0

    public let classifier: GenreClassifier
    /// The classifier on the corpus's held-out songs.
    public let heldOut: ConfusionMatrix
    /// With codec renditions: the classifier on the held-out songs as each level of the codec
    /// reconstructs them (indexed by level). What the judge names through the codec bounds what a model's
    /// samples can show.
    public let heldOutReconstructed: [ConfusionMatrix]
    public let trainingSegments: Int

    /// Trains on every `train` song of the corpus at `folder` and scores each `test` song.
    ///
    /// `renditions` (from `codecRenditions`) adds the training songs as a codec reconstructs them, level by
    /// level. A judge that knows only pristine audio takes the codec's own sound (duller highs, a noise
    /// floor) for a genre: it called the level-1 reconstructions of held-out rock, folk and blues songs
    /// "classical". Having heard the codec, it judges what is played.
    public static func fromCorpus(_ folder: String, renditions: CodecRenditions? = nil) throws -> GenreEvaluation {
        let songs = try CorpusIndex.read(folder)
        let list = folder + "/songs.jsonl"
        var genres: [String] = []
        for s in songs where !genres.contains(s.genre) { genres.append(s.genre) }
        let train = songs.filter { $0.split != "test" }, test = songs.filter { $0.split == "test" }
        guard genres.count >= 2, !train.isEmpty else { throw JukeboxError(list, "needs training songs of two genres or more") }
        guard !test.isEmpty else { throw JukeboxError(list, "holds no held-out (test) songs to check the classifier on") }
        if let renditions, renditions.levels.contains(where: { $0.count != songs.count }) {
            throw JukeboxError(list, "lists \(songs.count) songs but the codec renditions hold another number")
        }

        let all = try segmentFeatures(songs.map { folder + "/" + $0.file })
        let reconstructed = renditions?.levels ?? []
        var features: [[Float]] = [], labels: [Int] = []
        for version in [all] + reconstructed {
            for (song, segs) in zip(songs, version) where song.split != "test" {
                features += segs
                labels += Array(repeating: genres.firstIndex(of: song.genre)!, count: segs.count)
            }
        }
        let classifier = GenreClassifier.train(features: features, labels: labels, genres: genres)
        func check(_ version: [[[Float]]]) -> ConfusionMatrix {
            var matrix = ConfusionMatrix(labels: genres)
            for (song, segs) in zip(songs, version) where song.split == "test" {
                matrix.add(truth: genres.firstIndex(of: song.genre)!, predicted: classifier.classify(segments: segs))
            }
            return matrix
        }
        return GenreEvaluation(classifier: classifier, heldOut: check(all),
                               heldOutReconstructed: reconstructed.map(check), trainingSegments: features.count)
    }

    /// Every song of a corpus as each level of a codec reconstructs it, in segment features.
    public struct CodecRenditions: Codable, Sendable {
        /// What the features were made from: the codec's files and the corpus's song list.
        public let key: String
        /// Level → song (in songs.jsonl order) → segment → features.
        public let levels: [[[[Float]]]]
    }

    /// The corpus at `corpus` encoded song by song with the VQ-VAE in `codecFolder` and decoded from each
    /// level alone. Reconstructing a corpus takes minutes, so the features are kept in
    /// CORPUS/judge-cache under a digest of the codec's files and the song list, and read back while
    /// neither changes.
    public static func codecRenditions(corpus: String, codecFolder: String,
                                       progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> CodecRenditions {
        var digest = ContentDigest()
        for file in [codecFolder + "/config.json", codecFolder + "/weights.safetensors", corpus + "/songs.jsonl"] {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw JukeboxError(file, "cannot be read") }
            digest.add(bytes)
        }
        let key = digest.hex
        let cached = corpus + "/judge-cache/codec-\(key).json"
        if let data = FileManager.default.contents(atPath: cached),
           let renditions = try? JSONDecoder().decode(CodecRenditions.self, from: data), renditions.key == key {
            return renditions
        }
        let codec = try VQVAE(folder: codecFolder)
        let songs = try CorpusIndex.read(corpus)
        var levels = [[[[Float]]]](repeating: [], count: codec.levels)
        for (i, song) in songs.enumerated() {
            for (level, samples) in try reconstructions(of: corpus + "/" + song.file, by: codec).enumerated() {
                levels[level].append(segments(samples, sampleRate: codec.sampleRate))
            }
            progress(i + 1, songs.count)
        }
        let renditions = CodecRenditions(key: key, levels: levels)
        // The cache only saves time: a corpus folder that cannot be written to still gets its judge.
        try? FileManager.default.createDirectory(atPath: corpus + "/judge-cache", withIntermediateDirectories: true)
        try? JSONEncoder().encode(renditions).write(to: URL(fileURLWithPath: cached), options: .atomic)
        return renditions
    }

    /// A file encoded whole by `codec` and decoded from each level's codes alone (mono, at its rate).
    static func reconstructions(of file: String, by codec: VQVAE) throws -> [[Float]] {
        let codes = try codec.encode(file: file).codes
        return try (0..<codec.levels).map { try codec.decode(codes[$0], level: $0).toArray() }
    }

    /// Features of each file's segments, files read two at a time.
    public static func segmentFeatures(_ files: [String]) throws -> [[[Float]]] {
        final class Slots: @unchecked Sendable {
            var items: [Result<[[Float]], Error>?]
            init(_ n: Int) { items = Array(repeating: nil, count: n) }
        }
        let slots = Slots(files.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            let result = Result { () throws -> [[Float]] in
                let clip = try monoClip(files[i])
                return segments(clip.samples, sampleRate: clip.sampleRate)
            }
            lock.lock()
            slots.items[i] = result
            lock.unlock()
        }
        return try slots.items.map { try $0!.get() }
    }

    /// A clip to judge, mono at its own rate; an empty file is an error.
    static func monoClip(_ file: String) throws -> (samples: [Float], sampleRate: Int) {
        let audio = try AudioFile.read(file)
        guard audio.frames > 0 else { throw JukeboxError(file, "holds no audio frames") }
        return (audio.mono(), audio.sampleRate)
    }

    /// The clip cut into segments, each summarised by AudioFeatures.
    public static func segments(_ samples: [Float], sampleRate: Int) -> [[Float]] {
        let length = Int(segmentSeconds * Double(sampleRate))
        var out: [[Float]] = []
        var start = 0
        while start < samples.count && (out.isEmpty || samples.count - start >= length / 2) {
            let piece = Array(samples[start..<min(start + length, samples.count)])
            out.append(AudioFeatures.extract(piece, sampleRate: sampleRate))
            start += length
        }
        return out
    }

    /// What the classifier made of clips whose intended genre is known.
    public struct Judgement: Sendable {
        /// Clip by clip: the intended genre down the side, the named one across.
        public let matrix: ConfusionMatrix
        /// The probability the classifier gives the intended genre, averaged over every segment of every
        /// clip (1 / genres by chance). A count of right clips moves in steps of a whole clip; this moves
        /// with every segment, so it tells two models apart on few clips.
        public let intendedProbability: Double
        /// Each clip's verdict, in the order given: which clips were misheard, and as what.
        public var clips: [Verdict] = []
    }

    /// One clip as the classifier heard it.
    public struct Verdict: Sendable, Encodable {
        public let file: String, intended: String, named: String
        /// The intended genre's probability, averaged over the clip's segments.
        public let intended_probability: Double
    }

    /// How many clips repeat at their intended tempo (or half or double it, within 6%), over their first
    /// `seconds`. The corpus's artists each keep one tempo, so a sample that holds its artist's groove
    /// shows it here, whatever the judge makes of its timbre.
    public static func tempoAgreement(_ clips: [(file: String, bpm: Double)], seconds: Double = 10) throws
        -> (agreeing: Int, total: Int, meanBeatStrength: Double) {
        var agreeing = 0, strength = 0.0
        for clip in clips {
            let audio = try monoClip(clip.file)
            let samples = Array(audio.samples.prefix(Int(seconds * Double(audio.sampleRate))))
            let beat = AudioFeatures.beat(samples, sampleRate: audio.sampleRate)
            if AudioFeatures.tempo(beat.bpm, matches: clip.bpm) { agreeing += 1 }
            strength += Double(beat.strength)
        }
        return (agreeing, clips.count, clips.isEmpty ? 0 : strength / Double(clips.count))
    }

    /// Judges clips whose intended genre is known; genres the corpus lacks are an error.
    public func judge(_ clips: [(file: String, genre: String)]) throws -> Judgement {
        var matrix = ConfusionMatrix(labels: classifier.genres)
        var probability = 0.0, segments = 0
        var verdicts: [Verdict] = []
        let features = try Self.segmentFeatures(clips.map(\.file))
        for (clip, segs) in zip(clips, features) {
            guard let truth = classifier.genres.firstIndex(of: clip.genre.lowercased()) else {
                throw JukeboxError(clip.file, "genre \"\(clip.genre)\" is not one of the corpus's (\(classifier.genres.joined(separator: ", ")))")
            }
            let named = classifier.classify(segments: segs)
            matrix.add(truth: truth, predicted: named)
            let own = segs.map { Double(exp(classifier.logProbabilities($0)[truth])) }.reduce(0, +)
            probability += own
            segments += segs.count
            verdicts.append(Verdict(file: clip.file, intended: classifier.genres[truth], named: classifier.genres[named],
                                    intended_probability: segs.isEmpty ? 0 : own / Double(segs.count)))
        }
        return Judgement(matrix: matrix, intendedProbability: segments == 0 ? 0 : probability / Double(segments), clips: verdicts)
    }
}
