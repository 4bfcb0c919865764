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
}
