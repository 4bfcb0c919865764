import Foundation
import JukeboxCore
import XCTest
@testable import StudioAudio

/// Plays through ALSA with the default device pointed at ALSA's file plugin (over the null device), so
/// whatever reaches the "sound card" lands in a raw file that the test reads back byte for byte.
/// ALSA re-reads its configuration when ALSA_CONFIG_PATH names other files, so each test sets its own.
final class ALSAFilePluginTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "jukebox-audio-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder
        addTeardownBlock {
            try? FileManager.default.removeItem(atPath: path)
            unsetenv("ALSA_CONFIG_PATH")
        }
        guard FileManager.default.fileExists(atPath: "/usr/share/alsa/alsa.conf") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("ALSA's alsa.conf is missing (libasound2)") }
            throw XCTSkip("ALSA's configuration (/usr/share/alsa/alsa.conf) is not installed")
        }
    }

    /// Points ALSA's default device at `definition`; returns nothing, ALSA reads it on the next open.
    func useDefaultDevice(_ definition: String) throws {
        let conf = folder + "/asound-\(UUID().uuidString.prefix(6)).conf"
        try definition.write(toFile: conf, atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", "/usr/share/alsa/alsa.conf:" + conf, 1)
    }

    /// A stretch of real decoder output: one top-level window of a tiny random model set decoded alone.
    func decodedChunk() throws -> (samples: [Float], rate: Int) {
        try RandomModelSet.write(preset: .tiny, seed: 5, to: folder + "/set")
        let set = try ModelSet.load(folder + "/set")
        let level = set.topLevel, t = 24
        let codes = try LevelCodes(n: 1, t: t, values: (0..<t).map { ($0 * 37 + 11) % set.vqvae.codebookSize })
        let audio = try PartialRender.decode(vqvae: set.vqvae, codes: codes, level: level, range: 0..<t)
        let samples = Array(UnsafeBufferPointer(start: audio.data, count: audio.shape[1]))
        return (samples, set.vqvae.sampleRate)
    }

    func waitUntilIdle(_ player: Player, seconds: Double = 20) {
        let deadline = Date().addingTimeInterval(seconds)
        while !player.isIdle && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(player.isIdle, "the player finished within \(seconds) s")
    }

    func testBytesPlayedEqualTheDecodedChunk() throws {
        let (chunk, rate) = try decodedChunk()
        XCTAssertGreaterThan(chunk.count, 1000)
        XCTAssertGreaterThan(chunk.map(abs).max() ?? 0, 0, "the decoder gave sound, not silence")
        for format in PCMFormat.allCases {
            let raw = folder + "/played-\(format.rawValue).raw"
            try useDefaultDevice("pcm.!default { type file; slave.pcm \"null\"; file \"\(raw)\"; format \"raw\" }\n")
            let reports = Reports()
            let player = Player(sink: ALSASink(format: format)) { reports.add($0) }
            player.play(Clip(samples: chunk, sampleRate: rate, title: "level 2 preview"))
            waitUntilIdle(player)
            player.shutdown()

            XCTAssertEqual(reports.last?.phase, .finished, "\(reports.all)")
            XCTAssertEqual(reports.last?.sink, "ALSA default")
            XCTAssertNil(reports.last?.file, "a sound card played it, no file was written")
            let played = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
            let expected = format.bytes(chunk)
            XCTAssertEqual(played.count, expected.count, "\(format.rawValue): every sample reached the device once")
            XCTAssertTrue(played == expected, "\(format.rawValue): the bytes played are the decoded samples")
            // While it played, the player said where it was and how loud.
            let playing = reports.all.filter { $0.phase == .playing }
            XCTAssertFalse(playing.isEmpty)
            XCTAssertEqual(playing.map(\.position), playing.map(\.position).sorted())
            XCTAssertEqual(playing.map(\.peak).max() ?? 0, min(1, chunk.map(abs).max() ?? 0), accuracy: 1e-6)
        }
    }

    func testNoSoundCardWritesAWAVInstead() throws {
        // A card that does not exist: snd_pcm_open fails as it does on a machine with no sound card.
        try useDefaultDevice("pcm.!default { type hw; card 97; device 0 }\n")
        let alsa = ALSASink()
        XCTAssertThrowsError(try alsa.open(sampleRate: 44100, channels: 1, title: "probe")) { error in
            XCTAssertTrue("\(error)".hasPrefix("ALSA default: cannot open"), "\(error)")
        }
        let samples = (0..<4410).map { Float(sin(Double($0) * 0.05) * 0.5) }
        let wav = WAVFileSink(folder: folder + "/auditions")
        let reports = Reports()
        let player = Player(sink: FallbackSink(primary: ALSASink(), fallback: wav)) { reports.add($0) }
        player.play(Clip(samples: samples, sampleRate: 44100, title: "Level 1 refined 0:00"))
        waitUntilIdle(player)
        player.shutdown()

        let last = try XCTUnwrap(reports.last)
        XCTAssertEqual(last.phase, .finished, "\(reports.all)")
        let file = try XCTUnwrap(last.file)
        XCTAssertEqual(file, folder + "/auditions/audition-level-1-refined-0-00.wav")
        XCTAssertTrue(last.fallbackReason?.contains("cannot open") ?? false, last.fallbackReason ?? "no reason")
        let back = try AudioFile.read(file)
        XCTAssertEqual(back.sampleRate, 44100)
        XCTAssertEqual(back.channels, 1)
        XCTAssertEqual(back.samples.count, samples.count)
        let worst = zip(back.samples, samples).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThan(worst, 1.0 / 32767 + 1e-6, "the WAV holds the clip (16-bit)")
    }

    func testPauseSeekAndStopOnANullSink() throws {
        let sink = NullSink()
        let reports = Reports()
        let player = Player(sink: sink) { reports.add($0) }
        let clip = Clip(samples: [Float](repeating: 0.25, count: 44100), sampleRate: 44100, title: "x")
        player.play(clip, from: 0.5)
        waitUntilIdle(player)
        XCTAssertEqual(sink.framesWritten, 22050, "playing from 0.5 s skips the first half")
        XCTAssertFalse(player.togglePause(), "nothing is loaded after the clip finished")
        player.shutdown()
        XCTAssertEqual(reports.last?.phase, .finished)
    }
}

/// Reports arrive on the playback thread.
final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [PlayerReport] = []
    func add(_ r: PlayerReport) { lock.lock(); items.append(r); lock.unlock() }
    var all: [PlayerReport] { lock.lock(); defer { lock.unlock() }; return items }
    var last: PlayerReport? { all.last }
}
