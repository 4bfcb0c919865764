import Foundation
import JukeboxCore
import JukeboxCorpus

/// The audio of a corpus folder (`jukebox dataset build`: songs.jsonl + audio/*.wav) split as its
/// songs.jsonl says, held in memory as mono float samples at the model's rate, and cut into the
/// reference's training items: crops of sample_length samples. A batch is a pure function of
/// (seed, batch index), so a run is reproducible and can resume mid-way.
public struct VQVAETrainingData: Sendable {
    public struct Song: Sendable {
        public let id: String
        public let samples: [Float]
    }

    public let train: [Song]
    public let test: [Song]
    public let sampleLength: Int

    public init(train: [Song], test: [Song], sampleLength: Int) throws {
        guard sampleLength > 0 else { throw JukeboxError("sample_length", "must be positive, got \(sampleLength)") }
        let usable = train.filter { $0.samples.count >= sampleLength }
        guard !usable.isEmpty else {
            throw JukeboxError("data", "no training song holds sample_length = \(sampleLength) samples")
        }
        (self.train, self.test, self.sampleLength) = (usable, test.filter { $0.samples.count >= sampleLength }, sampleLength)
    }

    /// Reads a corpus folder; songs of `split` "train" train, "test" are held out.
    public static func load(folder: String, sampleRate: Int, sampleLength: Int) throws -> VQVAETrainingData {
        let path = (folder as NSString).appendingPathComponent("songs.jsonl")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw JukeboxError(path, "cannot read the corpus's song list")
        }
        var train: [Song] = [], test: [Song] = []
        for (i, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let song: CorpusSong
            do { song = try JSONDecoder().decode(CorpusSong.self, from: Data(line.utf8)) } catch {
                throw JukeboxError(path, "line \(i + 1) is not a song entry (\(error.localizedDescription))")
            }
            let samples = try AudioFile.readMono((folder as NSString).appendingPathComponent(song.file), sampleRate: sampleRate)
            switch song.split {
            case "train": train.append(Song(id: song.id, samples: samples))
            case "test": test.append(Song(id: song.id, samples: samples))
            default: throw JukeboxError(path, "line \(i + 1): split '\(song.split)' is neither train nor test")
            }
        }
        return try VQVAETrainingData(train: train, test: test, sampleLength: sampleLength)
    }

    /// Crop starts per song: every sample offset that leaves a whole item.
    private static func starts(_ songs: [Song], _ length: Int) -> [Int] { songs.map { $0.samples.count - length + 1 } }

    /// Batch `index` of `size` crops [size, sample_length, 1]: each a uniformly random start over all the
    /// training songs' possible starts (longer songs are drawn more, as a random offset into the whole set).
    public func batch(index: Int, size: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: Int64(index)))
        let counts = Self.starts(train, sampleLength)
        let total = counts.reduce(0, +)
        let out = Tensor(zeros: [size, sampleLength, 1])
        for item in 0..<size {
            var r = Int(rng.next() % UInt64(total))
            var song = 0
            while r >= counts[song] { r -= counts[song]; song += 1 }
            train[song].samples.withUnsafeBufferPointer { src in
                (out.data + item * sampleLength).update(from: src.baseAddress! + r, count: sampleLength)
            }
        }
        return out
    }

    /// Fixed held-out items: `perSong` crops spread evenly over each test song (the same every time).
    public func heldOut(perSong: Int) -> [Tensor] {
        test.map { song in
            let out = Tensor(zeros: [perSong, sampleLength, 1])
            let span = song.samples.count - sampleLength
            for i in 0..<perSong {
                let start = perSong == 1 ? span / 2 : span * i / (perSong - 1)
                song.samples.withUnsafeBufferPointer { src in
                    (out.data + i * sampleLength).update(from: src.baseAddress! + start, count: sampleLength)
                }
            }
            return out
        }
    }
}
