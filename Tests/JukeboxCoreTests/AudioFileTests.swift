import Foundation
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

final class AudioFileTests: XCTestCase {
    func sine(_ hz: Double, rate: Int, seconds: Double, amplitude: Float = 0.5) -> [Float] {
        (0..<Int(Double(rate) * seconds)).map { amplitude * Float(sin(2 * .pi * hz * Double($0) / Double(rate))) }
    }

    func testWAVRoundTripsIn16BitAndFloat() throws {
        let dir = temporaryFolder(self)
        let x = sine(440, rate: 44100, seconds: 0.25)
        try AudioFile.writeWAV(dir + "/a.wav", samples: x, sampleRate: 44100, format: .float32)
        let f = try AudioFile.read(dir + "/a.wav")
        XCTAssertEqual(f.samples, x)
        XCTAssertEqual(f.sampleRate, 44100)
        try AudioFile.writeWAV(dir + "/b.wav", samples: x, sampleRate: 44100, format: .pcm16)
        let g = try AudioFile.read(dir + "/b.wav")
        XCTAssertEqual(g.frames, x.count)
        for i in stride(from: 0, to: x.count, by: 97) { XCTAssertEqual(g.samples[i], x[i], accuracy: 1.0 / 32768 + 1e-6) }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/b.wav")))
        XCTAssertEqual(bytes.count, 44 + 2 * x.count, "16-bit PCM by default")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b.wav.tmp-\(getpid())"))
    }

    func testStereo48kIsMixedToMonoAndResampledKeepingPitchAndLength() throws {
        let dir = temporaryFolder(self)
        let left = sine(1000, rate: 48000, seconds: 0.5), right = sine(1000, rate: 48000, seconds: 0.5, amplitude: 0.3)
        var inter = [Float]()
        for i in left.indices { inter += [left[i], right[i]] }
        try AudioFile.writeWAV(dir + "/s.wav", samples: inter, channels: 2, sampleRate: 48000, format: .float32)
        let mono = try AudioFile.readMono(dir + "/s.wav", sampleRate: 44100)
        XCTAssertEqual(mono.count, 22050)
        // Away from the edges the result is a 1 kHz sine of amplitude 0.4 at 44.1 kHz.
        let expected = sine(1000, rate: 44100, seconds: 0.5, amplitude: 0.4)
        var err: Float = 0
        for i in 2000..<20000 { err = max(err, abs(mono[i] - expected[i])) }
        XCTAssertLessThan(err, 2e-3)
    }

    func testNotAudioIsAOneLineErrorNamingTheFile() throws {
        let dir = temporaryFolder(self)
        let path = dir + "/notes.txt"
        try "these are not samples".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AudioFile.readMono(path, sampleRate: 44100)) { e in
            XCTAssertTrue("\(e)".hasPrefix(path), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"))
        }
        XCTAssertThrowsError(try AudioFile.read(dir + "/missing.wav")) { e in XCTAssertTrue("\(e)".contains("no such file")) }
        XCTAssertThrowsError(try AudioFile.read(bytes: Array("RIFF....WAVEfmt ".utf8)))
    }

    func testInMemoryReadMatchesFileRead() throws {
        let dir = temporaryFolder(self)
        let x = sine(300, rate: 22050, seconds: 0.1)
        try AudioFile.writeWAV(dir + "/m.wav", samples: x, sampleRate: 22050, format: .float32)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/m.wav")))
        let a = try AudioFile.read(bytes: bytes)
        XCTAssertEqual(a.samples, x)
        XCTAssertEqual(a.sampleRate, 22050)
    }

    /// The first seconds of a long recording are read without the rest (a prime of an hour-long file), and
    /// they equal the same stretch of the whole file read and resampled.
    func testTheFirstSecondsAloneEqualTheWholeFilesStart() throws {
        let dir = NSTemporaryDirectory() + "jukebox-head-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededGenerator(seed: 3)
        for rate in [44100, 48000] {
            let seconds = 12
            var samples = [Float](repeating: 0, count: rate * seconds * 2)
            for i in samples.indices {
                let tone = Float(sin(Double(i / 2) * 0.01)) * 0.4
                let noise = Float(rng.next() % 1000) / 10000 - 0.05
                samples[i] = tone + noise
            }
            let path = dir + "/long-\(rate).wav"
            try AudioFile.writeWAV(path, samples: samples, channels: 2, sampleRate: rate, format: .float32)
            let whole = try AudioFile.readMono(path, sampleRate: 44100)
            let head = try AudioFile.readMono(path, sampleRate: 44100, maxSeconds: 2.5)
            XCTAssertEqual(head.count, Int(2.5 * 44100))
            XCTAssertEqual(head, Array(whole.prefix(head.count)), "\(rate) Hz")
            // Damage past the part asked for is never read.
            var damaged = samples
            damaged[rate * 2 * 8] = Float.nan
            try AudioFile.writeWAV(dir + "/damaged.wav", samples: damaged, channels: 2, sampleRate: rate, format: .float32)
            XCTAssertEqual(try AudioFile.readMono(dir + "/damaged.wav", sampleRate: 44100, maxSeconds: 2.5), head)
            XCTAssertThrowsError(try AudioFile.readMono(dir + "/damaged.wav", sampleRate: 44100))
        }
    }
}
