import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The held-out reconstruction figures of the model card, on a small random VQ-VAE and a two-song corpus.
final class VQVAEHeldOutTests: XCTestCase {
    /// A corpus folder holding `songs` (signals at 22050 Hz) as held-out songs, and one training song.
    func corpus(_ songs: [[Float]]) throws -> String {
        let folder = temporaryFolder(self)
        try FileManager.default.createDirectory(atPath: folder + "/audio", withIntermediateDirectories: true)
        var lines: [String] = []
        for (i, samples) in (songs + [songs[0]]).enumerated() {
            let file = "audio/s\(i).wav"
            try AudioFile.writeWAV(folder + "/" + file, samples: samples, sampleRate: 22050)
            let song = CorpusSong(id: "s\(i)", file: file, genre: "rock", artist: "a", lyrics: "", seconds: Double(samples.count) / 22050,
                                  bpm: 120, key: "C major", split: i < songs.count ? "test" : "train")
            lines.append(String(decoding: try JSONEncoder().encode(song), as: UTF8.self))
        }
        try lines.joined(separator: "\n").write(toFile: folder + "/songs.jsonl", atomically: true, encoding: .utf8)
        return folder
    }

    func song(_ seed: Int, amplitude: Float) -> [Float] {
        (0..<4000).map { i in amplitude * (sin(Float(i) * 0.05 * Float(seed + 1)) + 0.3 * sin(Float(i * i % 997) * 0.01)) }
    }

    /// `middleSeconds` encodes that stretch from the middle of each file (as it streams), all of a shorter one;
    /// the measure is then the measure of that stretch alone.
    func testAMiddleStretchIsWhatIsMeasured() throws {
        let vqvae = try SamplingGeneratorTests.vqvae()
        let rate = vqvae.sampleRate, folder = temporaryFolder(self)
        // 3 s: a quiet second, a loud one, a quiet one (the reader's blocks are 65536 frames: the middle spans two).
        let x: [Float] = (0..<(3 * rate)).map { i in (i / rate == 1 ? 0.5 : 0.01) * sin(Float(i) * 0.07) }
        try AudioFile.writeWAV(folder + "/song.wav", samples: x, sampleRate: rate)
        let (middle, codes) = try vqvae.encode(file: folder + "/song.wav", middleSeconds: 1)
        let hop = vqvae.hopLengths.max()!
        XCTAssertEqual(middle.count, rate / hop * hop)
        let stored = try AudioFile.readMono(folder + "/song.wav", sampleRate: rate)
        XCTAssertEqual(Array(middle), Array(stored[rate..<(rate + middle.count)]), "the second second, sample for sample")
        XCTAssertEqual(codes[0].values, try vqvae.encode(Tensor(shape: [1, middle.count, 1], values: middle))[0].values)
        XCTAssertEqual(try vqvae.encode(file: folder + "/song.wav", middleSeconds: 10).audio.count, 3 * rate / hop * hop, "all of a shorter file")

        try AudioFile.writeWAV(folder + "/middle.wav", samples: middle, sampleRate: rate)
        let cropped = try VQVAEHeldOut.evaluate(vqvae: vqvae, files: [folder + "/song.wav"], middleSeconds: 1)
        let alone = try VQVAEHeldOut.evaluate(vqvae: vqvae, files: [folder + "/middle.wav"])
        for (a, b) in zip(cropped, alone) { XCTAssertEqual(a.snrDB, b.snrDB, accuracy: 1e-3) }
    }

    func testOneSongPoolsToItsOwnRatioAndSNRMatchesTheDecodedAudio() throws {
        let vqvae = try SamplingGeneratorTests.vqvae()
        let x = song(1, amplitude: 0.5)
        let levels = try VQVAEHeldOut.evaluate(vqvae: vqvae, corpus: try corpus([x]))
        XCTAssertEqual(levels.map(\.level), [0, 1])
        // WAV 16-bit quantisation is what the file holds, so compare against the audio read back.
        let stored = try AudioFile.readMono(try corpus([x]) + "/audio/s0.wav", sampleRate: 22050)
        let codes = try vqvae.encode(Tensor(shape: [1, stored.count, 1], values: stored))
        for r in levels {
            XCTAssertEqual(r.spectralConvergence, r.spectralConvergencePerSong, accuracy: 1e-12, "one song: pooled = per song")
            let y = try vqvae.decode(codes[r.level], level: r.level)
            var signal = 0.0, noise = 0.0
            for j in 0..<stored.count { signal += Double(stored[j] * stored[j]); noise += Double((stored[j] - y.data[j]) * (stored[j] - y.data[j])) }
            XCTAssertEqual(r.snrDB, 10 * log10(signal / noise), accuracy: 1e-6)
        }
    }

    func testPoolingWeighsSongsByTheirEnergy() throws {
        let vqvae = try SamplingGeneratorTests.vqvae()
        let loud = song(1, amplitude: 0.5), quiet = song(2, amplitude: 0.005)
        let alone = try VQVAEHeldOut.evaluate(vqvae: vqvae, corpus: try corpus([loud]))
        let quietAlone = try VQVAEHeldOut.evaluate(vqvae: vqvae, corpus: try corpus([quiet]))
        let both = try VQVAEHeldOut.evaluate(vqvae: vqvae, corpus: try corpus([loud, quiet]))
        for level in 0..<2 {
            let a = alone[level].spectralConvergence, b = quietAlone[level].spectralConvergence
            XCTAssertEqual(both[level].spectralConvergencePerSong, (a + b) / 2, accuracy: 1e-9)
            // The pooled ratio lies between the two and nearer the loud song's, which holds nearly all the energy.
            XCTAssertGreaterThanOrEqual(both[level].spectralConvergence, min(a, b) - 1e-12)
            XCTAssertLessThanOrEqual(both[level].spectralConvergence, max(a, b) + 1e-12)
            XCTAssertLessThan(abs(both[level].spectralConvergence - a), abs(both[level].spectralConvergence - b) + 1e-12)
        }
    }

    func testACorpusWithoutHeldOutSongsIsNamed() throws {
        let folder = try corpus([song(1, amplitude: 0.5)])
        let text = try String(contentsOfFile: folder + "/songs.jsonl", encoding: .utf8).replacingOccurrences(of: "\"test\"", with: "\"train\"")
        try text.write(toFile: folder + "/songs.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try VQVAEHeldOut.evaluate(vqvae: try SamplingGeneratorTests.vqvae(), corpus: folder)) {
            XCTAssertEqual("\($0)", "\(folder): holds no held-out (test) songs")
        }
    }

    /// The rebuilds' high-band flatness is taken over the song's own sounding frames, beside the song's.
    func testFlatnessOfRebuildsStandsBesideTheSongsOverTheSongsFrames() throws {
        let vqvae = try SamplingGeneratorTests.vqvae()
        let x = song(1, amplitude: 0.5) + [Float](repeating: 0, count: 8000) + song(3, amplitude: 0.4)
        let folder = try corpus([x])
        let levels = try VQVAEHeldOut.evaluate(vqvae: vqvae, corpus: folder)
        let stored = try AudioFile.readMono(folder + "/audio/s0.wav", sampleRate: 22050)
        let clean = HighBandFlatness.frames(stored, sampleRate: 22050)
        let sounding = HighBandFlatness.sounding(clean)
        XCTAssertTrue(sounding.contains(false), "the gap is left out")
        let codes = try vqvae.encode(Tensor(shape: [1, stored.count, 1], values: stored))
        for r in levels {
            XCTAssertEqual(try XCTUnwrap(r.cleanHighBandFlatness), try XCTUnwrap(HighBandFlatness.mean(clean)), accuracy: 1e-9)
            let y = try vqvae.decode(codes[r.level], level: r.level)
            let rebuilt = HighBandFlatness.frames(y.toArray(), sampleRate: 22050)
            XCTAssertEqual(try XCTUnwrap(r.highBandFlatness), try XCTUnwrap(HighBandFlatness.mean(rebuilt, selected: sounding)),
                           accuracy: 1e-9)
            XCTAssertEqual(r.json["high_band_flatness"] as? Double, r.highBandFlatness)
        }
    }

    /// A folder of recordings (no songs.jsonl) is measured file by file, whatever its layout.
    func testAFolderOfRecordingsIsMeasuredWhole() throws {
        let vqvae = try SamplingGeneratorTests.vqvae()
        let folder = temporaryFolder(self)
        try FileManager.default.createDirectory(atPath: folder + "/band/album", withIntermediateDirectories: true)
        try AudioFile.writeWAV(folder + "/band/album/one.wav", samples: song(1, amplitude: 0.5), sampleRate: 22050)
        try AudioFile.writeWAV(folder + "/two.wav", samples: song(2, amplitude: 0.3), sampleRate: 22050)
        let files = try VQVAEHeldOut.recordings(in: folder)
        XCTAssertEqual(Set(files), [folder + "/band/album/one.wav", folder + "/two.wav"])
        let levels = try VQVAEHeldOut.evaluate(vqvae: vqvae, corpus: folder)
        let one = try VQVAEHeldOut.evaluate(vqvae: vqvae, files: [folder + "/band/album/one.wav"])
        let two = try VQVAEHeldOut.evaluate(vqvae: vqvae, files: [folder + "/two.wav"])
        for level in 0..<2 {
            XCTAssertEqual(levels[level].spectralConvergencePerSong,
                           (one[level].spectralConvergence + two[level].spectralConvergence) / 2, accuracy: 1e-9)
        }
        let empty = temporaryFolder(self)
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try VQVAEHeldOut.recordings(in: empty)) { XCTAssertEqual("\($0)", "\(empty): holds no audio files") }
    }
}
