import Foundation
import JukeboxCore
import JukeboxTestSupport
import XCTest

final class EncodeDecodeCommandTests: XCTestCase {
    /// The fixture's audio through `jukebox encode` gives the reference codes at every level.
    func testEncodeReproducesTheReferenceCodes() throws {
        let vqvae = try CLI.fixture("vqvae")
        let io = try SafetensorsFile(path: vqvae + "/io.safetensors")
        let x = try io.tensor("x")
        let (t, dir) = (x.shape[1], temporaryFolder(self))
        try AudioFile.writeWAV(dir + "/in.wav", samples: Array(UnsafeBufferPointer(start: x.data, count: t)),
                               sampleRate: 44100, format: .float32)
        let enc = try CLI.run(["encode", "--vqvae", vqvae, dir + "/in.wav", "-o", dir + "/codes.safetensors"])
        XCTAssertEqual(enc.status, 0, enc.stderr)
        let codes = try SafetensorsFile(path: dir + "/codes.safetensors")
        for level in 0..<3 {
            let ours = try codes.int64s("z\(level)"), ref = try io.int64s("z\(level)"), tie = try io.int64s("tie\(level)")
            XCTAssertEqual(codes.entries["z\(level)"]?.shape, [1, ref.count / 2])
            let mismatches = (0..<ours.count).filter { ours[$0] != ref[$0] && tie[$0] == 0 }
            XCTAssertEqual(mismatches, [], "level \(level) codes differ from the reference")

        }
    }

    /// A recording longer than the encoder's window (40 s, stereo at 48 kHz) goes through `jukebox encode` a window at
    /// a time and gives the codes of the whole file encoded at once, except at ties.
    func testLongRecordingEncodesInWindowsToTheWholeFilesCodes() throws {
        let dir = temporaryFolder(self)
        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "-o", dir + "/set"]).status, 0)
        let frames = 48000 * 40
        let song = (0..<(2 * frames)).map { i -> Float in
            let t = Float(i / 2) / 48000
            return 0.3 * sin(2 * .pi * 220 * t) * (i % 2 == 0 ? 1 : 0.5) + 0.2 * sin(2 * .pi * 0.7 * t)
        }
        try AudioFile.writeWAV(dir + "/song.wav", samples: song, channels: 2, sampleRate: 48000, format: .float32)
        let r = try CLI.run(["encode", "--vqvae", dir + "/set/vqvae", dir + "/song.wav", "-o", dir + "/codes.safetensors"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let model = try VQVAE(folder: dir + "/set/vqvae")
        let (audio, whole) = try model.encode(file: dir + "/song.wav")
        let codes = try SafetensorsFile(path: dir + "/codes.safetensors")
        for level in 0..<model.levels {
            let ours = try codes.int64s("z\(level)").map { Int($0) }
            XCTAssertEqual(ours.count, whole[level].t)
            XCTAssertEqual(try codesDifferingWithoutTie(model, audio: audio, level: level, ours, whole[level].values), [],
                           "level \(level)")
        }
    }

    /// The reference codes through `jukebox decode --float` give the reference audio, one file per row.
    func testDecodeReproducesTheReferenceAudio() throws {
        let vqvae = try CLI.fixture("vqvae")
        let io = try SafetensorsFile(path: vqvae + "/io.safetensors")
        let dir = temporaryFolder(self)
        try FileManager.default.copyItem(atPath: vqvae + "/io.safetensors", toPath: dir + "/codes.safetensors")
        for level in 0..<3 {
            let dec = try CLI.run(["decode", "--vqvae", vqvae, dir + "/codes.safetensors", "--level", "\(level)",
                                   "--float", "-o", dir + "/out\(level).wav"])
            XCTAssertEqual(dec.status, 0, dec.stderr)
            let reference = try io.tensor("decoded\(level)")
            let (n, t) = (reference.shape[0], reference.shape[1])
            for row in 0..<n {
                let audio = try AudioFile.read(dir + "/out\(level)-\(row + 1).wav")
                XCTAssertEqual(audio.sampleRate, 44100)
                XCTAssertEqual(audio.samples.count, t)
                let expected = Array(UnsafeBufferPointer(start: reference.data + row * t, count: t))
                let err = relativeError(audio.samples, expected, count: min(t, audio.samples.count))
                XCTAssertLessThanOrEqual(err, 1e-4, "level \(level) row \(row) decoded audio, relative error \(err)")
            }
        }
    }

    func testDecodeWrites16BitPCMByDefaultAndOneFilePerRow() throws {
        let vqvae = try CLI.fixture("vqvae")
        let dir = temporaryFolder(self)
        var w = SafetensorsWriter()
        w.add("z2", shape: [2, 3], int64s: [1, 2, 3, 4, 5, 6])
        try w.write(to: dir + "/z.safetensors")
        let r = try CLI.run(["decode", "--vqvae", vqvae, dir + "/z.safetensors", "--level", "2", "-o", dir + "/o.wav"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for i in 1...2 {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/o-\(i).wav"))
            XCTAssertEqual(bytes.count, 44 + 2 * 3 * 128, "16-bit mono, 3 codes × hop 128")
        }
    }

    func testCodesOutOfRangeFailCleanly() throws {
        let vqvae = try CLI.fixture("vqvae")
        let dir = temporaryFolder(self)
        var w = SafetensorsWriter()
        w.add("z1", shape: [1, 4], int64s: [0, 1, 64, 2])  // l_bins is 64 in the fixture
        try w.write(to: dir + "/bad.safetensors")
        let r = try CLI.run(["decode", "--vqvae", vqvae, dir + "/bad.safetensors", "--level", "1", "-o", dir + "/o.wav"])
        assertCleanFailure(r, naming: "64")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o.wav"), "nothing half-written")
    }

    func testNotAudioFailsCleanly() throws {
        let vqvae = try CLI.fixture("vqvae")
        let dir = temporaryFolder(self)
        try "hello".write(toFile: dir + "/song.wav", atomically: true, encoding: .utf8)
        let r = try CLI.run(["encode", "--vqvae", vqvae, dir + "/song.wav", "-o", dir + "/c.safetensors"])
        assertCleanFailure(r, naming: dir + "/song.wav")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/c.safetensors"))
    }

    func testTruncatedCodesFileFailsCleanly() throws {
        let vqvae = try CLI.fixture("vqvae")
        let dir = temporaryFolder(self)
        var w = SafetensorsWriter()
        w.add("z0", shape: [1, 64], int64s: Array(0..<64))
        let bytes = w.serialized()
        try Data(bytes.prefix(bytes.count - 100)).write(to: URL(fileURLWithPath: dir + "/cut.safetensors"))
        let r = try CLI.run(["decode", "--vqvae", vqvae, dir + "/cut.safetensors", "--level", "0", "-o", dir + "/o.wav"])
        assertCleanFailure(r, naming: dir + "/cut.safetensors")
    }

    /// A model folder whose config lacks a hyperparameter, or whose weights are cut short, names the file and problem.
    func testBrokenModelFoldersFailCleanly() throws {
        let vqvae = try CLI.fixture("vqvae")
        let dir = temporaryFolder(self)
        try AudioFile.writeWAV(dir + "/a.wav", samples: [Float](repeating: 0.1, count: 1024), sampleRate: 44100)

        let noHps = dir + "/no-hps"
        try FileManager.default.createDirectory(atPath: noHps, withIntermediateDirectories: true)
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: vqvae + "/config.json"))) as! [String: Any]
        var hps = config["hps"] as! [String: Any]
        hps.removeValue(forKey: "downs_t")
        config["hps"] = hps
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: noHps + "/config.json"))
        try FileManager.default.copyItem(atPath: vqvae + "/weights.safetensors", toPath: noHps + "/weights.safetensors")
        let r1 = try CLI.run(["encode", "--vqvae", noHps, dir + "/a.wav", "-o", dir + "/c.safetensors"])
        assertCleanFailure(r1, naming: "downs_t")
        XCTAssertTrue(r1.stderr.contains(noHps + "/config.json"), r1.stderr)

        let cut = dir + "/cut"
        try FileManager.default.createDirectory(atPath: cut, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: vqvae + "/config.json", toPath: cut + "/config.json")
        let weights = try Data(contentsOf: URL(fileURLWithPath: vqvae + "/weights.safetensors"))
        try weights.prefix(weights.count / 2).write(to: URL(fileURLWithPath: cut + "/weights.safetensors"))
        let r2 = try CLI.run(["encode", "--vqvae", cut, dir + "/a.wav", "-o", dir + "/c.safetensors"])
        assertCleanFailure(r2, naming: cut + "/weights.safetensors")
    }

    /// A header that lies about the sample rate, and float samples that are no sound, are one-line errors naming
    /// the file, in encode and as a prime, at once (a 1 Hz header used to ask for 38 GB).
    func testLyingHeadersAndNonFiniteSamplesAreRefusedNamingTheFile() throws {
        let dir = temporaryFolder(self)
        let set = dir + "/set"
        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "-o", set]).status, 0)
        let tone = (0..<44100).map { Float(sin(Double($0) * 0.05)) * 0.5 }
        try AudioFile.writeWAV(dir + "/tone.wav", samples: tone, sampleRate: 44100, format: .pcm16)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/tone.wav"))
        // The fmt chunk's sample rate (bytes 24–27) and byte rate (28–31), rewritten to say 1 Hz.
        bytes.replaceSubrange(24..<32, with: [1, 0, 0, 0, 2, 0, 0, 0])
        try bytes.write(to: URL(fileURLWithPath: dir + "/one-hertz.wav"))
        var bad = tone
        bad[30000] = .nan
        try AudioFile.writeWAV(dir + "/nan.wav", samples: bad, sampleRate: 44100, format: .float32)
        bad[30000] = 1e30
        try AudioFile.writeWAV(dir + "/huge.wav", samples: bad, sampleRate: 44100, format: .float32)
        for (file, words) in [("one-hertz.wav", "sample rate 1 Hz"), ("nan.wav", "nan"), ("huge.wav", "1e+30")] {
            let path = dir + "/" + file
            let started = Date()
            let r = try CLI.run(["encode", "--vqvae", set + "/vqvae", path, "-o", dir + "/codes-\(file).safetensors"])
            assertCleanFailure(r, naming: path)
            XCTAssertTrue(r.stderr.contains(words), r.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/codes-\(file).safetensors"))
            let primed = try CLI.run(["sample", "--model", set, "--genre", "rock", "--artist", RandomModelSet.artists[0],
                                      "--seconds", "2", "--mode", "primed", "--prime", path, "-o", dir + "/s-\(file)"])
            assertCleanFailure(primed, naming: path)
        }
    }

}

func relativeError(_ a: [Float], _ b: [Float], count: Int) -> Double {
    var d = 0.0, r = 0.0
    for i in 0..<count {
        d += Double(a[i] - b[i]) * Double(a[i] - b[i])
        r += Double(b[i]) * Double(b[i])
    }
    return (d / max(r, 1e-30)).squareRoot()
}
