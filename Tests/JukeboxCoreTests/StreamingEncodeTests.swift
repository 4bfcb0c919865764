import Foundation
@testable import JukeboxCore
import JukeboxTestSupport
import XCTest

/// Long recordings are read, resampled and encoded a window at a time; what comes out must be what the whole
/// recording read at once gives.
final class StreamingEncodeTests: XCTestCase {
    static func signal(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in 0.4 * sin(Float(i) * 0.031) + 0.3 * (rng.nextUnitFloat() - 0.5) }
    }

    /// Fed in blocks of any size, the resampler gives the whole signal's samples bit for bit, at ratios with a
    /// kernel table per phase and without (44100 → 44101 has 44101 phases).
    func testStreamedResamplingEqualsTheWholeSignalResampled() {
        for (source, target, count) in [(48000, 44100, 30000), (22050, 44100, 9000), (44100, 44101, 5000), (8000, 44100, 700)] {
            let x = Self.signal(count, seed: UInt64(source))
            let whole = Resampler.resample(x, from: source, to: target)
            XCTAssertEqual(whole.count, Int((Double(count) * Double(target) / Double(source)).rounded()))
            var rng = SeededGenerator(seed: 3)
            let stream = StreamingResampler(from: source, to: target)
            var streamed: [Float] = [], at = 0
            while at < count {
                let n = min(Int(rng.next() % 3000) + 1, count - at)
                streamed += stream.push(Array(x[at..<(at + n)]))
                at += n
            }
            streamed += stream.finish()
            XCTAssertEqual(streamed, whole, "\(source) → \(target) Hz")
        }
    }

    /// A change of the audio at one sample moves only the encoder outputs within the level's margin of it, so a
    /// window's codes that far from its edges do not see where the window was cut.
    func testEncoderOutputsDependOnAudioWithinTheMargin() throws {
        let model = try VQVAE.random(Self.hps, seed: 8)
        let margin = model.encoderMargin
        let t = (margin * 4 / 64 + 1) * 64
        var x = Self.signal(t, seed: 4)
        let before = try (0..<model.levels).map { try model.encoderOutput(Tensor(shape: [1, t, 1], values: x), level: $0).toArray() }
        let p = t / 2
        x[p] += 0.5
        for level in 0..<model.levels {
            let after = try model.encoderOutput(Tensor(shape: [1, t, 1], values: x), level: level).toArray()
            let (frames, hop) = (t / model.hopLengths[level], model.hopLengths[level])
            let margin = model.encoderMargin(level: level)
            var moved = 0
            for i in 0..<after.count where after[i] != before[level][i] {
                let frame = i % frames
                XCTAssertLessThanOrEqual(abs(frame * hop - p), margin, "level \(level) frame \(frame) moved")
                moved += 1
            }
            XCTAssertGreaterThan(moved, 0, "the change reaches level \(level)")
        }
    }

    /// A stereo 48 kHz file encoded in windows far shorter than itself gives the codes of the whole file read
    /// at once, except where an output lies as near two codebook entries as rounding can tell apart.
    func testWindowedEncodeEqualsTheWholeFileExceptAtTies() throws {
        let model = try VQVAE.random(Self.hps, seed: 9)
        let dir = temporaryFolder(self)
        let frames = 48000 * 3 + 77
        let left = Self.signal(frames, seed: 1), right = Self.signal(frames, seed: 2)
        try AudioFile.writeWAV(dir + "/song.wav", samples: (0..<(2 * frames)).map { $0 % 2 == 0 ? left[$0 / 2] : right[$0 / 2] },
                               channels: 2, sampleRate: 48000, format: .float32)
        var mono = try AudioFile.readMono(dir + "/song.wav", sampleRate: model.sampleRate)
        let hop = model.hopLengths.max()!
        mono.removeLast(mono.count % hop)
        let whole = try model.encode(Tensor(shape: [1, mono.count, 1], values: mono))

        var reported: [Int] = []
        let streamed = try model.encode(reader: AudioReader(dir + "/song.wav", sampleRate: model.sampleRate),
                                        chunkSamples: model.encoderMargin) { reported.append($0) }
        XCTAssertEqual(streamed.samples, mono.count)
        XCTAssertGreaterThan(reported.count, 5, "many windows")
        XCTAssertEqual(reported.last, mono.count)
        for level in 0..<model.levels {
            XCTAssertEqual(streamed.codes[level].t, whole[level].t)
            XCTAssertEqual(try codesDifferingWithoutTie(model, audio: mono, level: level, streamed.codes[level].values,
                                                        whole[level].values), [], "level \(level)")
        }
    }

    /// `readMono` with a limit decodes only what it needs and gives the start of the whole file's samples.
    func testFirstSecondsEqualTheWholeFilesStart() throws {
        let dir = temporaryFolder(self)
        try AudioFile.writeWAV(dir + "/a.wav", samples: Self.signal(48000 * 4, seed: 5), sampleRate: 48000, format: .float32)
        let whole = try AudioFile.readMono(dir + "/a.wav", sampleRate: 44100)
        let first = try AudioFile.readMono(dir + "/a.wav", sampleRate: 44100, maxSeconds: 1.5)
        XCTAssertEqual(first.count, 66150)
        XCTAssertEqual(first, Array(whole.prefix(66150)))
    }

    static let hps = Hyperparameters([
        "levels": 3, "downs_t": [1, 1, 1], "strides_t": [4, 2, 2], "emb_width": 6, "l_bins": 16,
        "hvqvae_multipliers": [1, 1, 1], "width": 8, "depth": 3, "m_conv": 1.0, "dilation_growth_rate": 3,
        "sr": 22050,
    ], source: "test-config")
}
