import Foundation

/// Whether a genre can be heard: a classifier trained on the corpus's training songs, checked on its
/// held-out songs, then asked to name the genre of other clips (a model's own samples).
public struct GenreEvaluation: Sendable {
    /// Clips are judged in segments of this length (the last is kept if at least half as long).
    public static let segmentSeconds = 5.0

    public let classifier: GenreClassifier
    /// The classifier on the corpus's held-out songs.
    public let heldOut: ConfusionMatrix
    public let trainingSegments: Int

    /// Trains on every `train` song of the corpus at `folder` and scores each `test` song.
    public static func fromCorpus(_ folder: String) throws -> GenreEvaluation {
        let songs = try CorpusIndex.read(folder)
        let list = folder + "/songs.jsonl"
        var genres: [String] = []
        for s in songs where !genres.contains(s.genre) { genres.append(s.genre) }
        let train = songs.filter { $0.split != "test" }, test = songs.filter { $0.split == "test" }
        guard genres.count >= 2, !train.isEmpty else { throw JukeboxError(list, "needs training songs of two genres or more") }
        guard !test.isEmpty else { throw JukeboxError(list, "holds no held-out (test) songs to check the classifier on") }

        let all = try segmentFeatures(songs.map { folder + "/" + $0.file })
        var features: [[Float]] = [], labels: [Int] = []
        for (song, segs) in zip(songs, all) where song.split != "test" {
            features += segs
            labels += Array(repeating: genres.firstIndex(of: song.genre)!, count: segs.count)
        }
        let classifier = GenreClassifier.train(features: features, labels: labels, genres: genres)
        var matrix = ConfusionMatrix(labels: genres)
        for (song, segs) in zip(songs, all) where song.split == "test" {
            matrix.add(truth: genres.firstIndex(of: song.genre)!, predicted: classifier.classify(segments: segs))
        }
        return GenreEvaluation(classifier: classifier, heldOut: matrix, trainingSegments: features.count)
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
                let audio = try AudioFile.read(files[i])
                guard audio.frames > 0 else { throw JukeboxError(files[i], "holds no audio frames") }
                return segments(audio.mono(), sampleRate: audio.sampleRate)
            }
            lock.lock()
            slots.items[i] = result
            lock.unlock()
        }
        return try slots.items.map { try $0!.get() }
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

    /// Judges clips whose intended genre is known; genres the corpus lacks are an error.
    public func judge(_ clips: [(file: String, genre: String)]) throws -> ConfusionMatrix {
        var matrix = ConfusionMatrix(labels: classifier.genres)
        let features = try Self.segmentFeatures(clips.map(\.file))
        for (clip, segs) in zip(clips, features) {
            guard let truth = classifier.genres.firstIndex(of: clip.genre.lowercased()) else {
                throw JukeboxError(clip.file, "genre \"\(clip.genre)\" is not one of the corpus's (\(classifier.genres.joined(separator: ", ")))")
            }
            matrix.add(truth: truth, predicted: classifier.classify(segments: segs))
        }
        return matrix
    }
}
