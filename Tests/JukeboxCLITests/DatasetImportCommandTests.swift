import Foundation
import JukeboxCore
import JukeboxCorpus
import XCTest

/// `jukebox dataset import`: a user's folder of recordings becomes a corpus the training commands take.
final class DatasetImportCommandTests: XCTestCase {
    /// Clicks at `bpm` under a quiet tone: something the beat tracker can hear.
    static func clicks(seconds: Double, rate: Int, channels: Int, bpm: Double) -> [Float] {
        let frames = Int(seconds * Double(rate)), period = Int(60 / bpm * Double(rate))
        return (0..<(frames * channels)).map { i in
            let f = i / channels
            let click: Float = f % period < rate / 100 ? 0.6 * Float(sin(Double(f) * 0.9)) : 0
            return click + 0.05 * Float(sin(Double(f) * 2 * .pi * 220 / Double(rate)))
        }
    }

    /// Every file below `folder` with its bytes: to show the source is never written.
    static func snapshot(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for item in FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? [] {
            var isDir: ObjCBool = false
            let path = folder + "/" + item
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                out[item] = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        }
        return out
    }

    func songs(_ corpus: String) throws -> [CorpusSong] { try CorpusIndex.read(corpus) }

    func testAFolderOfRecordingsBecomesACorpus() throws {
        let dir = temporaryFolder(self), src = dir + "/My Music"
        let fm = FileManager.default
        try fm.createDirectory(atPath: src + "/Ada Loop", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: src + "/Bo", withIntermediateDirectories: true)
        try AudioFile.writeWAV(src + "/Ada Loop/one.wav", samples: Self.clicks(seconds: 8, rate: 48000, channels: 2, bpm: 100),
                               channels: 2, sampleRate: 48000)
        try "[ar:Ada Loop]\n[00:01.00]<00:01.00>hello <00:01.50>world\n[00:02.00]<00:02.00>again\n"
            .write(toFile: src + "/Ada Loop/one.lrc", atomically: true, encoding: .utf8)
        try AudioFile.writeWAV(src + "/Ada Loop/two.wav", samples: Self.clicks(seconds: 4, rate: 22050, channels: 1, bpm: 90),
                               sampleRate: 22050, format: .float32)
        try "la la\nlo".write(toFile: src + "/Ada Loop/two.txt", atomically: true, encoding: .utf8)
        try AudioFile.writeWAV(src + "/Bo/three.wav", samples: Self.clicks(seconds: 3, rate: 44100, channels: 1, bpm: 120),
                               sampleRate: 44100)
        try Data("not audio at all".utf8).write(to: URL(fileURLWithPath: src + "/Bo/broken.mp3"))
        try AudioFile.writeWAV(src + "/loose.wav", samples: Self.clicks(seconds: 2, rate: 44100, channels: 1, bpm: 120), sampleRate: 44100)
        try "notes".write(toFile: src + "/notes.txt", atomically: true, encoding: .utf8)
        let before = try Self.snapshot(src)

        let r = try CLI.run(["dataset", "import", src, "-o", dir + "/corpus", "--genre", "folk"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped Bo/broken.mp3: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped loose.wav: no artist"), r.stderr)
        XCTAssertEqual(try Self.snapshot(src), before, "the source folder is only read")

        let list = try songs(dir + "/corpus")
        XCTAssertEqual(list.map(\.artist), ["Ada Loop", "Ada Loop", "Bo"])
        XCTAssertEqual(Set(list.map(\.genre)), ["folk"])
        for (song, seconds) in zip(list, [8.0, 4, 3]) { XCTAssertEqual(song.seconds, seconds, accuracy: 0.01) }
        XCTAssertEqual(list[0].lyrics, "hello world\nagain")
        XCTAssertEqual(list[0].words?.map(\.text), ["hello", "world", "again"])
        XCTAssertEqual(list[0].words?.map(\.start), [1, 1.5, 2])
        XCTAssertEqual(list[1].lyrics, "la la\nlo")
        XCTAssertNil(list[1].words, "a .txt has no times")
        XCTAssertEqual(list[2].lyrics, "")
        XCTAssertTrue(AudioFeatures.tempo(list[0].bpm, matches: 100), "\(list[0].bpm)")
        XCTAssertTrue(list.contains { $0.split == "test" } && list.contains { $0.split == "train" })
        for song in list {
            let audio = try AudioFile.read(dir + "/corpus/" + song.file)
            XCTAssertEqual(audio.sampleRate, 44100)
            XCTAssertEqual(audio.channels, 1)
        }
        let artists = try String(contentsOfFile: dir + "/corpus/artist_ids.txt", encoding: .utf8)
        XCTAssertEqual(artists, "unknown;0\nada loop;1\nbo;2\n")
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/corpus/dataset.json"))) as? [String: Any])
        XCTAssertEqual((summary["skipped"] as? [[String: String]])?.map { $0["file"] ?? "" }, ["Bo/broken.mp3", "loose.wav"])

        // The same folder gives the same corpus; --artist takes the loose file in.
        XCTAssertEqual(try CLI.run(["dataset", "import", src, "-o", dir + "/again", "--genre", "folk"]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: dir + "/again/songs.jsonl", encoding: .utf8),
                       try String(contentsOfFile: dir + "/corpus/songs.jsonl", encoding: .utf8))
        let loose = try CLI.run(["dataset", "import", src, "-o", dir + "/loose", "--genre", "folk", "--artist", "Me"])
        XCTAssertEqual(loose.status, 0, loose.stderr)
        XCTAssertEqual(try songs(dir + "/loose").map(\.artist), ["Ada Loop", "Ada Loop", "Bo", "Me"])

        // The training commands take it: the sung song's codes carry its word times.
        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "-o", dir + "/set"]).status, 0)
        let encoded = try CLI.run(["dataset", "encode", "--vqvae", dir + "/set/vqvae", "--data", dir + "/corpus", "--split", "all",
                                   "-o", dir + "/codes"])
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        XCTAssertEqual(try CodesFile.read(dir + "/codes/u0000.safetensors", "word_times").values, [1000, 1500, 1500, 2000, 2000, 3000])
    }

    /// A recording's tempo between two of the beat tracker's frame-sized steps (160 bpm: 16 frames are
    /// 161.5) is kept to a tenth of a percent, with where its first beat falls; the codes' bar clock runs
    /// from there, so it stays on the song's beat over the whole song.
    func testTheBarClockFollowsTheRecordingsOwnBeat() throws {
        let dir = temporaryFolder(self), src = dir + "/src/Tik"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        let rate = 44100, start = 0.2
        let song = Self.clicks(seconds: 30, rate: rate, channels: 1, bpm: 160)
        try AudioFile.writeWAV(src + "/late.wav", samples: [Float](repeating: 0, count: Int(start * Double(rate))) + song, sampleRate: rate)
        let r = try CLI.run(["dataset", "import", dir + "/src", "-o", dir + "/corpus", "--genre", "folk"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let imported = try XCTUnwrap(try songs(dir + "/corpus").first)
        XCTAssertEqual(imported.bpm / 160, 1, accuracy: 0.001, "\(imported.bpm)")
        XCTAssertEqual(try XCTUnwrap(imported.downbeat), start, accuracy: 0.035)

        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "-o", dir + "/set"]).status, 0)
        let encoded = try CLI.run(["dataset", "encode", "--vqvae", dir + "/set/vqvae", "--data", dir + "/corpus", "--split", "all",
                                   "-o", dir + "/codes"])
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        let clock = try CodesFile.read(dir + "/codes/u0000.safetensors", "bar_clock").values
        XCTAssertEqual(clock, [Int((4 * 60 / imported.bpm * 44100).rounded()), Int((imported.downbeat! * 44100).rounded())])
    }

    func testLabelsCSVNamesArtistGenreLyricsAndTempo() throws {
        let dir = temporaryFolder(self), src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src + "/x", withIntermediateDirectories: true)
        for name in ["a", "b", "c"] {
            try AudioFile.writeWAV(src + "/x/\(name).wav", samples: Self.clicks(seconds: 2, rate: 44100, channels: 1, bpm: 120), sampleRate: 44100)
        }
        try "oh \"so\", fine".write(toFile: src + "/words.txt", atomically: true, encoding: .utf8)
        try "file,genre,artist,lyrics,bpm\nx/a.wav,jazz,\"Cat, the\",words.txt,96\nx/b.wav,blues,Dee,,\nx/gone.wav,rock,Eve,,\n"
            .write(toFile: src + "/labels.csv", atomically: true, encoding: .utf8)
        let r = try CLI.run(["dataset", "import", src, "-o", dir + "/corpus"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped x/c.wav: not listed in labels.csv"), r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped x/gone.wav: named in labels.csv but not found in the folder"), r.stderr)
        let list = try songs(dir + "/corpus")
        XCTAssertEqual(list.map(\.artist), ["Cat, the", "Dee"])
        XCTAssertEqual(list.map(\.genre), ["jazz", "blues"])
        XCTAssertEqual(list[0].lyrics, "oh \"so\", fine")
        XCTAssertEqual(list[0].bpm, 96)

        try "file,artist,genre,mood\nx/a.wav,A,rock,sad\n".write(toFile: src + "/labels.csv", atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["dataset", "import", src, "-o", dir + "/c2"]), naming: src + "/labels.csv")
        try "file,artist,genre,bpm\nx/a.wav,A,rock,fast\n".write(toFile: src + "/labels.csv", atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["dataset", "import", src, "-o", dir + "/c3"]), naming: "line 2")
        try FileManager.default.removeItem(atPath: src + "/labels.csv")
        assertCleanFailure(try CLI.run(["dataset", "import", src, "-o", dir + "/c4"]), naming: "--genre")
        assertCleanFailure(try CLI.run(["dataset", "import", src, "-o", src + "/inside", "--genre", "rock"]), naming: src + "/inside")
        XCTAssertFalse(FileManager.default.fileExists(atPath: src + "/inside"))
        assertCleanFailure(try CLI.run(["dataset", "import", dir + "/nowhere", "-o", dir + "/c5", "--genre", "rock"]), naming: dir + "/nowhere")
    }

    func testLabelsTOMLNamesSongsAndWhatTheRestTake() throws {
        let dir = temporaryFolder(self), src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src + "/x", withIntermediateDirectories: true)
        for name in ["a", "b", "c"] {
            try AudioFile.writeWAV(src + "/x/\(name).wav", samples: Self.clicks(seconds: 2, rate: 44100, channels: 1, bpm: 120), sampleRate: 44100)
        }
        try "la di da".write(toFile: src + "/a words.txt", atomically: true, encoding: .utf8)
        try """
            # every file not named below
            artist = "Eve"
            genre = "folk"

            [[song]]
            file = "x/a.wav"
            artist = "Cat"
            lyrics = "a words.txt"
            bpm = 96

            [[song]]
            file = "x/b.wav"
            genre = "blues"
            """.write(toFile: src + "/labels.toml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["dataset", "import", src, "-o", dir + "/corpus"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try songs(dir + "/corpus")
        XCTAssertEqual(list.map(\.artist), ["Cat", "Eve", "Eve"])
        XCTAssertEqual(list.map(\.genre), ["folk", "blues", "folk"])
        XCTAssertEqual(list[0].lyrics, "la di da")
        XCTAssertEqual(list[0].bpm, 96)

        // Mistakes name the file and the field; toml++'s aborts are kept away.
        for (text, field) in [("[[song]]\nfile = \"x/a.wav\"\nmood = \"sad\"\n", "song[0].mood"),
                              ("genre = \"rock\"\n[[song]]\nfile = \"x/a.wav\"\nbpm = 9000\n", "song[0].bpm"),
                              ("[[song]]\nartist = \"A\"\n", "song[0].file"),
                              ("genre = [0.9, }]\n", "line 1"), ("", "names no song")] {
            try text.write(toFile: src + "/labels.toml", atomically: true, encoding: .utf8)
            let bad = try CLI.run(["dataset", "import", src, "-o", dir + "/bad"])
            assertCleanFailure(bad, naming: src + "/labels.toml")
            XCTAssertTrue(bad.stderr.contains(field), bad.stderr)
        }
        try "file,artist,genre\n".write(toFile: src + "/labels.csv", atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["dataset", "import", src, "-o", dir + "/bad"]), naming: src)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad"))
    }

    /// Silence, a blip and an empty folder: listed skips, or one line when nothing is left.
    func testSilenceAndBlipsAreSkippedAndAnEmptyFolderIsOneLine() throws {
        let dir = temporaryFolder(self), src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src + "/Ann", withIntermediateDirectories: true)
        try AudioFile.writeWAV(src + "/Ann/quiet.wav", samples: [Float](repeating: 0, count: 44100 * 5), sampleRate: 44100)
        try AudioFile.writeWAV(src + "/Ann/blip.wav", samples: Self.clicks(seconds: 1, rate: 44100, channels: 1, bpm: 120), sampleRate: 44100)
        try AudioFile.writeWAV(src + "/Ann/song.wav", samples: Self.clicks(seconds: 3, rate: 44100, channels: 1, bpm: 120), sampleRate: 44100)
        let r = try CLI.run(["dataset", "import", src, "-o", dir + "/corpus", "--genre", "folk"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped Ann/quiet.wav: is silent"), r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped Ann/blip.wav: 1.0 s long, shorter than the 2 s a song needs"), r.stderr)
        XCTAssertEqual(try songs(dir + "/corpus").count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/corpus/audio").count, 1, "no half-written audio left")

        try FileManager.default.removeItem(atPath: src + "/Ann/song.wav")
        let nothing = try CLI.run(["dataset", "import", src, "-o", dir + "/c2", "--genre", "folk"])
        assertCleanFailure(nothing, naming: src)
        XCTAssertTrue(nothing.stderr.contains("no file could be imported"), nothing.stderr)
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        assertCleanFailure(try CLI.run(["dataset", "import", dir + "/empty", "-o", dir + "/c3", "--genre", "folk"]), naming: dir + "/empty")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/c2") || FileManager.default.fileExists(atPath: dir + "/c3"))
    }

    /// A two-hour file (a whole album or a night's mix) is a listed skip, told from its header before a byte of
    /// it is decoded; `--longest-minutes` lets it in, and a limit below a song's length is one line.
    func testRecordingsLongerThanTheLimitAreListedSkips() throws {
        let dir = temporaryFolder(self), src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src + "/Ann", withIntermediateDirectories: true)
        try AudioFile.writeWAV(src + "/Ann/song.wav", samples: Self.clicks(seconds: 3, rate: 44100, channels: 1, bpm: 120), sampleRate: 44100)
        // 16-bit mono at 8 kHz for 7200 s: a header stating 115 MB of samples, the file sparse (reads as silence).
        let rate = 8000, dataBytes = 7200 * rate * 2
        var header = Data("RIFF".utf8)
        func le32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { header.append(contentsOf: $0) } }
        func le16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { header.append(contentsOf: $0) } }
        le32(36 + dataBytes); header.append(contentsOf: Array("WAVEfmt ".utf8)); le32(16); le16(1); le16(1)
        le32(rate); le32(rate * 2); le16(2); le16(16); header.append(contentsOf: Array("data".utf8)); le32(dataBytes)
        let mix = src + "/Ann/mix.wav"
        FileManager.default.createFile(atPath: mix, contents: header)
        XCTAssertEqual(truncate(mix, off_t(header.count + dataBytes)), 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: mix)).count

        let r = try CLI.run(["dataset", "import", src, "-o", dir + "/corpus", "--genre", "folk"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped Ann/mix.wav: 2:00:00 long, longer than the 1:00:00 a recording may be here"), r.stderr)
        XCTAssertEqual(try songs(dir + "/corpus").map(\.file), ["audio/u0000.wav"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: mix)).count, before, "the source is only read")

        let tight = try CLI.run(["dataset", "import", src, "-o", dir + "/c2", "--genre", "folk", "--longest-minutes", "0.01"])
        assertCleanFailure(tight, naming: "--longest-minutes")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/c2"))
        // The limit is the option's: at 2.4 s the 3-second song is left out too, and nothing is left to import.
        let short = try CLI.run(["dataset", "import", src, "-o", dir + "/c3", "--genre", "folk", "--longest-minutes", "0.04"])
        assertCleanFailure(short, naming: src)
        XCTAssertTrue(short.stderr.contains("Ann/song.wav: 0:03 long, longer than the 0:02"), short.stderr)
    }

    /// FLAC and Ogg Vorbis (as sox writes them) at other rates and channel counts come in as WAV does.
    func testFLACAndOggAreImported() throws {
        guard let sox = StudioEndToEndTests.which("sox") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("sox is not installed") }
            throw XCTSkip("sox is not installed")
        }
        let dir = temporaryFolder(self), src = dir + "/src/Cy"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try AudioFile.writeWAV(dir + "/clicks.wav", samples: Self.clicks(seconds: 3, rate: 48000, channels: 2, bpm: 100),
                               channels: 2, sampleRate: 48000)
        XCTAssertEqual(try Subprocess.run(sox, [dir + "/clicks.wav", src + "/a.flac"]).status, 0)
        XCTAssertEqual(try Subprocess.run(sox, [dir + "/clicks.wav", "-r", "32000", "-c", "1", src + "/b.ogg"]).status, 0)
        let r = try CLI.run(["dataset", "import", dir + "/src", "-o", dir + "/corpus", "--genre", "folk"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try songs(dir + "/corpus")
        XCTAssertEqual(list.count, 2, r.stderr)
        for song in list {
            XCTAssertEqual(song.seconds, 3, accuracy: 0.02)
            XCTAssertTrue(AudioFeatures.tempo(song.bpm, matches: 100), "\(song.bpm)")
        }
    }

    /// A library assembled from links: a linked artist folder is followed, a link back up is not walked twice.
    func testLinkedFoldersAreFollowedOnce() throws {
        let dir = temporaryFolder(self), src = dir + "/library", elsewhere = dir + "/disk/Cy"
        let fm = FileManager.default
        try fm.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: src, withIntermediateDirectories: true)
        try AudioFile.writeWAV(elsewhere + "/a.wav", samples: Self.clicks(seconds: 2, rate: 44100, channels: 1, bpm: 120), sampleRate: 44100)
        try fm.createSymbolicLink(atPath: src + "/Cy", withDestinationPath: elsewhere)
        try fm.createSymbolicLink(atPath: elsewhere + "/loop", withDestinationPath: src)
        let r = try CLI.run(["dataset", "import", src, "-o", dir + "/corpus", "--genre", "folk"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try songs(dir + "/corpus").map(\.artist), ["Cy"])
    }
}
