import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The trainer over a corpus folder in the layout `jukebox dataset build` writes: seeded crops of the
/// train songs, Adam steps that lower the loss, and held-out reconstruction per level.
final class VQVAETrainerTests: XCTestCase {
    /// songs.jsonl and audio/*.wav: three short "songs" of pitched tones, the last held out.
    static func corpus() throws -> String {
        let folder = NSTemporaryDirectory() + "vqvae-corpus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/audio", withIntermediateDirectories: true)
        var lines: [String] = []
        for (i, split) in ["train", "train", "test"].enumerated() {
            let t = 6000 + 1500 * i
            let samples = (0..<t).map { j -> Float in
                let phase = 2 * Double.pi * Double(j) / 44100
                let note = [220.0, 330.0, 277.0][i] * (j % 3000 < 1500 ? 1 : 1.5)
                return Float(0.3 * sin(phase * note) + 0.1 * sin(phase * note * 2))
            }
            let file = String(format: "audio/s%04d.wav", i)
            try AudioFile.writeWAV(folder + "/" + file, samples: samples, sampleRate: 44100)
            let song = CorpusSong(id: "s\(i)", file: file, genre: "rock", artist: "a", lyrics: "", seconds: Double(t) / 44100,
                                  bpm: 120, key: "C", split: split)
            lines.append(String(decoding: try JSONEncoder().encode(song), as: UTF8.self))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/songs.jsonl", atomically: true, encoding: .utf8)
        return folder
    }

    static let hps = VQVAETrainingTests.hps.with(["sample_length": 2048, "bs": 2, "lr": 0.003, "lr_warmup": 1.0, "l_bins": 8])

    func testCropsAreSeededAndComeFromTheTrainSongs() throws {
        let folder = try Self.corpus()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = try VQVAETrainingData.load(folder: folder, sampleRate: 44100, sampleLength: 512)
        XCTAssertEqual(data.train.map(\.id), ["s0", "s1"])
        XCTAssertEqual(data.test.map(\.id), ["s2"])
        let a = data.batch(index: 3, size: 4, seed: 7), b = data.batch(index: 3, size: 4, seed: 7)
        XCTAssertEqual(a.toArray(), b.toArray(), "a batch is a function of (seed, index)")
        XCTAssertNotEqual(a.toArray(), data.batch(index: 4, size: 4, seed: 7).toArray())
        XCTAssertEqual(a.shape, [4, 512, 1])
        // Every crop is a contiguous stretch of one training song.
        for item in 0..<4 {
            let crop = Array(a.toArray()[(item * 512)..<((item + 1) * 512)])
            let found = data.train.contains { song in
                (0...(song.samples.count - 512)).contains { Array(song.samples[$0..<($0 + 512)]) == crop }
            }
            XCTAssertTrue(found, "crop \(item) is a stretch of a training song")
        }
        XCTAssertThrowsError(try VQVAETrainingData.load(folder: folder, sampleRate: 44100, sampleLength: 100_000)) {
            XCTAssertTrue("\($0)".contains("sample_length"))
        }
    }

    func testAdamStepsLowerTheLossAndImproveHeldOutReconstruction() throws {
        let folder = try Self.corpus()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = try VQVAETrainingData.load(folder: folder, sampleRate: 44100, sampleLength: 2048)
        let trainer = try VQVAETrainer.start(hps: Self.hps, data: data, seed: 1, bandwidthItems: 16)
        XCTAssertEqual(trainer.batchSize, 2)
        XCTAssertEqual(trainer.model.bottlenecks.map(\.threshold), [1, 1], "the reference's threshold when revival_threshold is not set")
        let lenient = try VQVAETrainer.start(hps: Self.hps.with(["revival_threshold": 0.25]), data: data, seed: 1, bandwidthItems: 4)
        XCTAssertEqual(lenient.model.bottlenecks.map(\.threshold), [0.25, 0.25])
        var losses: [Double] = []
        let started = Date()
        for _ in 0..<30 { losses.append(try trainer.step().loss.total) }
        let seconds = Date().timeIntervalSince(started)
        let evaluation = try trainer.evaluate(perSong: 3)
        let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
        print(String(format: "trainer: loss %.3f → %.3f over 30 steps (%.1f steps/s, debug build)", first, last, 30 / seconds))
        for e in evaluation {
            print(String(format: "level %d: spectral convergence %.3f, SNR %.2f dB, %d codes used", e.level, e.spectralConvergence, e.snr, e.codesUsed))
        }
        XCTAssertEqual(trainer.batchesDrawn, 30)
        XCTAssertEqual(trainer.optimizer.step, 30)
        XCTAssertLessThan(last, 0.8 * first)
        XCTAssertEqual(evaluation.count, 2)
        for e in evaluation {
            XCTAssertTrue(e.spectralConvergence.isFinite && e.snr.isFinite)
            XCTAssertGreaterThan(e.codesUsed, 1)
            XCTAssertGreaterThan(e.snr, 0, "the reconstruction is closer to the held-out audio than silence is")
        }
    }

    /// A trained model saved as a folder loads as an inference VQVAE whose codes and decodings are the
    /// trainer's own, and continues training from it with the reference's restore_k.
    func testSavedModelEncodesAndDecodesAsTrained() throws {
        let folder = try Self.corpus()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = try VQVAETrainingData.load(folder: folder, sampleRate: 44100, sampleLength: 2048)
        let trainer = try VQVAETrainer.start(hps: Self.hps, data: data, seed: 2, bandwidthItems: 8)
        for _ in 0..<3 { try trainer.step() }
        let out = folder + "/model"
        try trainer.model.save(folder: out)
        let vqvae = try VQVAE(folder: out)
        let x = data.heldOut(perSong: 2)[0]
        let (_, reconstructions, codes) = try trainer.model.evaluate(x)
        let inferred = try vqvae.encode(x)
        for level in 0..<vqvae.levels {
            XCTAssertEqual(inferred[level].values, codes[level], "level \(level) codes")
            let decoded = try vqvae.decode(inferred[level], level: level)
            let err = relativeError(decoded.data, reconstructions[level].data, count: decoded.count)
            print("level \(level): saved model's decoding vs the trainer's reconstruction, relative error \(err)")
            XCTAssertLessThan(err, 1e-5)
        }
        let resumed = try TrainableVQVAE.load(folder: out, bandwidth: trainer.model.objective.bandwidth, sampleLength: 2048, seed: 3)
        XCTAssertEqual(resumed.bottlenecks[0].kElem.first, Float(2048 / 4) / 8, "restore_k: sample_length/hop over l_bins")
        XCTAssertEqual(try resumed.evaluate(x).loss.total, try trainer.model.evaluate(x).loss.total, accuracy: 1e-9)
    }

    /// Saved after two steps and resumed for two more, a run ends with the same weights, averages, moments
    /// and codebooks, bit for bit, as four steps straight; the saved model's weights are the averages.
    func testResumingFromACheckpointIsExact() throws {
        let folder = try Self.corpus()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = try VQVAETrainingData.load(folder: folder, sampleRate: 44100, sampleLength: 2048)
        let hps = Self.hps.with(["ema": true, "mu": 0.5])
        let straight = try VQVAETrainer.start(hps: hps, data: data, seed: 4, bandwidthItems: 8)
        for _ in 0..<4 { try straight.step() }
        let first = try VQVAETrainer.start(hps: hps, data: data, seed: 4, bandwidthItems: 8)
        for _ in 0..<2 { try first.step() }
        try VQVAECheckpoint.save(first, lastLoss: nil, to: folder + "/ckpt")
        let resumed = try VQVAECheckpoint.load(folder: folder + "/ckpt", data: data)
        XCTAssertEqual(resumed.batchesDrawn, 2)
        XCTAssertEqual(resumed.optimizer.step, 2)
        for _ in 0..<2 { try resumed.step() }
        for ((key, a), (_, b)) in zip(straight.model.parameters, resumed.model.parameters) {
            XCTAssertEqual(a.toArray(), b.toArray(), key)
        }
        for (key, a) in straight.ema!.state { XCTAssertEqual(a.toArray(), resumed.ema!.state[key]?.toArray(), "average of \(key)") }
        try VQVAECheckpoint.save(resumed, lastLoss: nil, to: folder + "/ckpt")
        let published = try VQVAE(folder: folder + "/ckpt")
        let key = "decoders.0.out.bias"
        XCTAssertEqual(published.decoders[0].out.bias.toArray(), straight.ema!.state[key]!.toArray(), "weights.safetensors holds the average")
        XCTAssertNotEqual(published.decoders[0].out.bias.toArray(), straight.model.parameters.first { $0.key == key }!.tensor.toArray())
        for (a, b) in zip(straight.model.bottlenecks, resumed.model.bottlenecks) {
            XCTAssertEqual(a.kSum.toArray(), b.kSum.toArray())
            XCTAssertEqual(a.kElem, b.kElem)
            XCTAssertEqual(a.draws, b.draws)
        }
        XCTAssertThrowsError(try VQVAECheckpoint.load(folder: folder + "/nothing", data: data)) { XCTAssertTrue("\($0)".contains("nothing")) }
    }
}
