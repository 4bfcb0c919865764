import Foundation
import JukeboxCore
import StudioKit
import XCTest

/// `jukebox sample` on a tiny random model set, driven as a user would.
final class SampleCommandTests: XCTestCase {
    var set = ""
    var artist = ""

    override func setUpWithError() throws {
        set = temporaryFolder(self) + "/set"
        let r = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "4", "-o", set])
        XCTAssertEqual(r.status, 0, r.stderr)
        artist = RandomModelSet.artists[1]
    }

    func sample(_ extra: [String], output: String) throws -> CLIResult {
        try CLI.run(["sample", "--model", set, "--genre", "rock", "--artist", artist, "--lyrics", "oh la la, sing it",
                     "--samples", "2", "--seed", "9", "-o", output] + extra)
    }

    func testSampleWritesAWAVPerSampleOfTheRequestedLengthAndASession() throws {
        let out = temporaryFolder(self) + "/song"
        let r = try sample(["--seconds", "1.5"], output: out)
        XCTAssertEqual(r.status, 0, r.stderr)
        for i in 0..<2 {
            let audio = try AudioFile.read(out + "/render-level0-sample\(i).wav")
            XCTAssertEqual(audio.sampleRate, 44100)
            XCTAssertEqual(audio.frames, Int(1.5 * 44100) / 128 * 128, "the request rounded down to whole top-level codes")
        }
        let (folder, doc) = try SessionFolder.open(out)
        XCTAssertEqual(doc.prompt.samples, 2)
        XCTAssertEqual(doc.prompt.artist, artist)
        let codes = try folder.loadCodes(samples: 2)
        XCTAssertEqual(codes[2]?.t, Int(1.5 * 44100) / 128)
        XCTAssertEqual(codes[0]?.t, Int(1.5 * 44100) / 128 * 16)

        // Same seed, same music: bit for bit.
        let again = temporaryFolder(self) + "/again"
        XCTAssertEqual(try sample(["--seconds", "1.5"], output: again).status, 0)
        XCTAssertEqual(try folder.loadCodes(samples: 2), try SessionFolder(path: again).loadCodes(samples: 2))
    }

    func testContinueExtendsASessionWithoutChangingItsCodes() throws {
        let first = temporaryFolder(self) + "/first"
        XCTAssertEqual(try sample(["--seconds", "1"], output: first).status, 0)
        let second = temporaryFolder(self) + "/second"
        let r = try sample(["--seconds", "2", "--mode", "continue", "--session", first], output: second)
        XCTAssertEqual(r.status, 0, r.stderr)
        let before = try SessionFolder(path: first).loadCodes(samples: 2), after = try SessionFolder(path: second).loadCodes(samples: 2)
        for level in 0..<3 {
            let old = try XCTUnwrap(before[level]), new = try XCTUnwrap(after[level])
            let hop = [8, 32, 128][level]
            XCTAssertEqual(new.t, 2 * 44100 / 128 * 128 / hop, "level \(level) extended to 2 s")
            XCTAssertGreaterThan(new.t, old.t)
            for row in 0..<2 { XCTAssertEqual(Array(new.row(row).prefix(old.t)), Array(old.row(row)), "level \(level) kept") }
        }
        XCTAssertEqual(try AudioFile.read(second + "/render-level0-sample1.wav").frames, 2 * 44100 / 128 * 128)
    }

    func testTopLevelOnlyRendersTheRoughPreview() throws {
        let out = temporaryFolder(self) + "/top"
        let r = try sample(["--seconds", "1", "--levels", "top"], output: out)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/render-level2-sample0.wav"))
        XCTAssertNil(try SessionFolder(path: out).loadCodes(samples: 2)[0])
    }

    func testPrimedAndContinuedTopLevelOnlyStopAtTheTop() throws {
        let dir = temporaryFolder(self)
        let prime = dir + "/prime.wav"
        try AudioFile.writeWAV(prime, samples: (0..<44100).map { Float(sin(Double($0) * 0.05)) * 0.3 }, sampleRate: 44100)
        let r = try sample(["--seconds", "2", "--mode", "primed", "--prime", prime, "--prime-seconds", "0.5", "--levels", "top"],
                           output: dir + "/primed")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("level 1:") || r.stderr.contains("level 0:"), "only the top level is sampled: \(r.stderr)")
        let codes = try SessionFolder(path: dir + "/primed").loadCodes(samples: 2)
        XCTAssertEqual(codes[2]?.t, 2 * 44100 / 128)
        // The lower levels hold the prime's codes only, so the render is the top level's, all 2 s of it.
        XCTAssertEqual(codes[1]?.t, 44100 / 2 / 128 * 4)
        XCTAssertEqual(try AudioFile.read(dir + "/primed/render-level2-sample0.wav").frames, 2 * 44100 / 128 * 128)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/primed/render-level0-sample0.wav"))

        let more = try sample(["--seconds", "3", "--mode", "continue", "--session", dir + "/primed", "--levels", "top"],
                              output: dir + "/more")
        XCTAssertEqual(more.status, 0, more.stderr)
        XCTAssertFalse(more.stderr.contains("level 0:"), more.stderr)
        XCTAssertEqual(try SessionFolder(path: dir + "/more").loadCodes(samples: 2)[2]?.t, 3 * 44100 / 128)
        XCTAssertEqual(try AudioFile.read(dir + "/more/render-level2-sample1.wav").frames, 3 * 44100 / 128 * 128)
    }

    func testBadRequestsFailCleanlyWithNothingWritten() throws {
        let dir = temporaryFolder(self)
        assertCleanFailure(try CLI.run(["sample", "--model", dir + "/absent", "--genre", "rock", "--artist", artist,
                                        "--seconds", "1", "-o", dir + "/o1"]), naming: dir + "/absent")
        assertCleanFailure(try sample(["--seconds", "1", "--mode", "sideways"], output: dir + "/o2"), naming: "sideways")
        assertCleanFailure(try sample(["--seconds", "1", "--mode", "primed", "--prime", dir + "/missing.wav"], output: dir + "/o3"),
                           naming: dir + "/missing.wav")
        try "plain text".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        assertCleanFailure(try sample(["--seconds", "1"], output: dir + "/file/out"), naming: dir + "/file")
        for o in ["o1", "o2", "o3"] { XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + o), o) }
    }

    /// Numbers that are negative, not finite, absurdly large or past what the model can describe are one line
    /// naming the option, before anything is allocated or written (1e300 used to crash converting to Int).
    func testOutOfRangeNumbersAreRefusedNamingTheOption() throws {
        let dir = temporaryFolder(self)
        let cases: [([String], String)] = [
            (["--seconds", "-5"], "--seconds"), (["--seconds", "1e9"], "--seconds"), (["--seconds", "nan"], "--seconds"),
            (["--seconds", "2", "--total-seconds", "1e300"], "--total-seconds"),
            (["--seconds", "2", "--total-seconds", "-1"], "--total-seconds"),
            (["--seconds", "2", "--downbeat", "1e300"], "--downbeat"),
            (["--seconds", "2", "--downbeat", "-2"], "--downbeat"),
            (["--seconds", "2", "--prime-seconds", "nan", "--mode", "primed", "--prime", dir + "/x.wav"], "--prime-seconds"),
            (["--seconds", "2", "--prime-seconds", "1e300", "--mode", "primed", "--prime", dir + "/x.wav"], "--prime-seconds"),
            (["--seconds", "2", "--samples", "-3"], "--samples"),
            (["--seconds", "700"], "--seconds"),
        ]
        try String(repeating: "la ", count: 700_000).write(toFile: dir + "/book.txt", atomically: true, encoding: .utf8)
        let lyricsCases: [([String], String)] = [(["--seconds", "2", "--lyrics", "@" + dir + "/book.txt"], dir + "/book.txt")]
        for (i, (extra, option)) in (cases + lyricsCases).enumerated() {
            let r = try CLI.run(["sample", "--model", set, "--genre", "rock", "--artist", artist, "-o", dir + "/o\(i)"] + extra)
            assertCleanFailure(r, naming: option)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o\(i)"), "\(extra)")
        }
    }

    /// A config whose sizes no prior could have is refused naming the file, before anything is allocated.
    func testAConfigWithAbsurdSizesIsRefused() throws {
        let dir = temporaryFolder(self)
        try FileManager.default.copyItem(atPath: set, toPath: dir + "/set")
        let config = dir + "/set/prior_level_2/config.json"
        var text = try String(contentsOfFile: config, encoding: .utf8)
        let depth = try XCTUnwrap(text.range(of: #""prior_depth": [0-9]+"#, options: .regularExpression))
        text.replaceSubrange(depth, with: #""prior_depth": 10000000"#)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["sample", "--model", dir + "/set", "--genre", "rock", "--artist", artist, "--seconds", "1", "-o", dir + "/o"])
        assertCleanFailure(r, naming: config)
        XCTAssertTrue(r.stderr.contains("prior_depth"), r.stderr)
    }

    /// Ctrl-C keeps what was sampled in the session; continuing it gives exactly the uninterrupted run's music.
    func testInterruptKeepsTheSessionAndContinuingMatchesAnUninterruptedRun() throws {
        let dir = temporaryFolder(self)
        let args = ["sample", "--model", set, "--genre", "rock", "--artist", artist, "--lyrics", "oh la la",
                    "--seconds", "20", "--seed", "3"]
        let run = try Subprocess(CLI.executable, args + ["-o", dir + "/cut"])
        // Interrupt once the session exists and sampling is under way.
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: dir + "/cut/session.json") && Date() < deadline { usleep(20_000) }
        usleep(300_000)
        kill(run.pid, SIGINT)
        let ended = run.finish()
        let message = ended.stderr
        guard ended.status != 0 else {
            throw XCTSkip("the run finished before the interrupt arrived; nothing to check")
        }
        XCTAssertTrue(message.contains("interrupted"), message)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message)
        let partial = try SessionFolder(path: dir + "/cut").loadCodes(samples: 1)
        XCTAssertFalse(partial.isEmpty, "the codes sampled before the interrupt are saved")

        let resumed = try CLI.run(args + ["--mode", "continue", "--session", dir + "/cut", "-o", dir + "/resumed"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let record = try SessionFolder.open(dir + "/resumed").document
        XCTAssertEqual(record.settings["source_session"], URL(fileURLWithPath: dir + "/cut").standardizedFileURL.path,
                       "a continue records the session it came from")
        let whole = try CLI.run(args + ["-o", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertEqual(try SessionFolder(path: dir + "/resumed").loadCodes(samples: 1),
                       try SessionFolder(path: dir + "/whole").loadCodes(samples: 1))
    }

    /// SIGTERM stops a run as Ctrl-C does, and kill -9 at any moment keeps the windows finished before it:
    /// continuing each cut session gives exactly the uninterrupted run's codes.
    func testKilledAtAnyMomentContinuingGivesTheUninterruptedRunsCodes() throws {
        let dir = temporaryFolder(self)
        let args = ["sample", "--model", set, "--genre", "rock", "--artist", artist, "--lyrics", "oh la la",
                    "--seconds", "20", "--seed", "5"]
        let started = Date()
        let whole = try CLI.run(args + ["-o", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let duration = Date().timeIntervalSince(started)
        let expected = try SessionFolder(path: dir + "/whole").loadCodes(samples: 1)
        var generator = SeededGenerator(seed: 8)
        var savedSomething = false
        // Moments spread over the run (the last late enough that windows were saved), each shaken a little.
        for (i, (signal, fraction)) in [(SIGTERM, 0.5), (SIGKILL, 0.2), (SIGKILL, 0.55), (SIGKILL, 0.9)].enumerated() {
            let cut = dir + "/cut\(i)"
            let run = try Subprocess(CLI.executable, args + ["-o", cut])
            let deadline = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: cut + "/session.json") && Date() < deadline { usleep(10_000) }
            let moment = duration * fraction * Double.random(in: 0.9...1.0, using: &generator)
            usleep(useconds_t(moment * 1e6))
            kill(run.pid, signal)
            let ended = run.finish()
            if signal == SIGTERM, ended.status != 0 {
                XCTAssertEqual(ended.status, 1, ended.stderr)
                XCTAssertTrue(ended.stderr.contains("interrupted"), ended.stderr)
            }
            let (folder, document) = try SessionFolder.open(cut)
            if !(try folder.loadCodes(for: document, levels: 3)).isEmpty { savedSomething = true }
            let resumed = try CLI.run(args + ["--mode", "continue", "--session", cut, "-o", cut + "-resumed"])
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertEqual(try SessionFolder(path: cut + "-resumed").loadCodes(samples: 1), expected, "cut \(i) at \(moment) s")
        }
        XCTAssertTrue(savedSomething, "at least one killed run had saved windows before it died")
    }

    /// A codes file missing or shorter than the history says is an error naming it, not a fresh start.
    func testContinuingASessionWhoseCodesAreMissingOrShortIsRefused() throws {
        let dir = temporaryFolder(self)
        let first = try sample(["--seconds", "2", "--levels", "top"], output: dir + "/s")
        XCTAssertEqual(first.status, 0, first.stderr)
        let folder = SessionFolder(path: dir + "/s")
        let codes = try folder.loadCodes(samples: 2)
        let top = try XCTUnwrap(codes[2])
        // Shorter: the top level cut to half.
        let half = try LevelCodes(n: top.n, t: top.t / 2, values: (0..<top.n).flatMap { Array(top.row($0).prefix(top.t / 2)) })
        try folder.saveCodes([2: half], samples: 2)
        let short = try sample(["--seconds", "4", "--levels", "top", "--mode", "continue", "--session", dir + "/s"], output: dir + "/c1")
        assertCleanFailure(short, naming: folder.codesPath)
        XCTAssertTrue(short.stderr.contains("sampled up to code"), short.stderr)
        // Missing (and a temporary file a dead writer left beside it, cleaned on open).
        try FileManager.default.removeItem(atPath: folder.codesPath)
        var dead: pid_t = 0
        let child = try Subprocess("/bin/true", [])
        dead = child.pid
        _ = child.finish()
        let stray = folder.documentPath + ".tmp-\(dead)"
        try "{".write(toFile: stray, atomically: false, encoding: .utf8)
        let missing = try sample(["--seconds", "4", "--levels", "top", "--mode", "continue", "--session", dir + "/s"], output: dir + "/c2")
        assertCleanFailure(missing, naming: folder.codesPath)
        XCTAssertTrue(missing.stderr.contains("is missing"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stray), "a dead writer's temporary file is cleaned on open")
        for o in ["c1", "c2"] { XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + o), o) }
    }

    /// A session one process writes (the studio, a sample run) is refused to every other, in one line naming
    /// the holder; a holder killed with -9 holds nothing.
    func testASessionOpenElsewhereIsRefusedNamingTheHolder() throws {
        let dir = temporaryFolder(self), s = dir + "/s"
        XCTAssertEqual(try sample(["--seconds", "1", "--levels", "top"], output: s).status, 0)
        var held: SessionLock? = try SessionLock.acquire(s, .write, holder: "jukebox-studio (pid 4242, since today)")
        let continued = try sample(["--seconds", "2", "--levels", "top", "--mode", "continue", "--session", s], output: dir + "/more")
        assertCleanFailure(continued, naming: s)
        XCTAssertTrue(continued.stderr.contains("is open in jukebox-studio (pid 4242, since today)"), continued.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/more"))
        let into = try sample(["--seconds", "1"], output: s)
        XCTAssertTrue(into.status != 0 && into.stderr.contains("is open in jukebox-studio (pid 4242"), into.stderr)
        let studio = try Subprocess.run(StudioEndToEndTests.studio, ["--model", set, "--session", s])
        XCTAssertEqual(studio.status, 1, studio.stderr)
        XCTAssertTrue(studio.stderr.contains("is open in jukebox-studio (pid 4242"), studio.stderr)
        held = nil
        XCTAssertNil(held)
        XCTAssertEqual(try sample(["--seconds", "2", "--levels", "top", "--mode", "continue", "--session", s], output: dir + "/more").status, 0)
        assertCleanFailure(try sample(["--seconds", "3", "--levels", "top", "--mode", "continue", "--session", s], output: s), naming: "--output")

        // A sample run holds its output while it works; killed, it holds nothing.
        let run = try Subprocess(CLI.executable, ["sample", "--model", set, "--genre", "rock", "--artist", artist, "--seconds", "30",
                                                  "-o", dir + "/long"])
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: dir + "/long/session.json") && Date() < deadline { usleep(10_000) }
        let models = try ModelSet.load(set)
        XCTAssertThrowsError(try StudioSession.open(dir + "/long", models: models)) {
            XCTAssertTrue("\($0)".contains("is open in jukebox (pid \(run.pid)"), "\($0)")
        }
        kill(run.pid, SIGKILL)
        _ = run.finish()
        XCTAssertNoThrow(try StudioSession.open(dir + "/long", models: models))
    }

    /// Overwrites the largest float tensor of `file` (whose name contains `containing`) with NaN.
    func poison(_ file: String, containing: String) throws {
        let tensors = try SafetensorsFile(path: file)
        let victim = try XCTUnwrap(tensors.names.compactMap { tensors.entries[$0] }
            .filter { $0.dtype == .f32 && (containing.isEmpty || $0.name.contains(containing)) }.max { $0.count < $1.count })
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        let headerSize = try XCTUnwrap(handle.readData(ofLength: 8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        try handle.seek(toOffset: 8 + headerSize + UInt64(victim.begin))
        handle.write(Data([Float](repeating: .nan, count: victim.count).withUnsafeBytes { Data($0) }))
    }

    /// Weights that hold NaN are named, with a non-zero exit: never silent codes or full-scale noise.
    func testWeightsThatAreNotNumbersAreNamedNotSampled() throws {
        let dir = temporaryFolder(self)
        let broken = dir + "/broken"
        try FileManager.default.copyItem(atPath: set, toPath: broken)
        let priorFile = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: broken + "/prior_level_2")
            .first { $0.hasSuffix(".safetensors") })
        try poison(broken + "/prior_level_2/" + priorFile, containing: "")
        var r = try CLI.run(["sample", "--model", broken, "--genre", "rock", "--artist", artist, "--seconds", "1", "-o", dir + "/a"])
        assertCleanFailure(r, naming: "prior_level_2")
        XCTAssertTrue(r.stderr.contains("weights hold NaN"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a"))

        let codec = dir + "/codec"
        try FileManager.default.copyItem(atPath: set, toPath: codec)
        let vqvaeFile = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: codec + "/vqvae").first { $0.hasSuffix(".safetensors") })
        try poison(codec + "/vqvae/" + vqvaeFile, containing: "decoders.2")
        r = try CLI.run(["sample", "--model", codec, "--genre", "rock", "--artist", artist, "--seconds", "1", "--levels", "top", "-o", dir + "/b"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("vqvae: level 2 decodes to values that are not numbers"), r.stderr)
        // The top level was sampled before the render failed: its codes stay, to continue or upsample elsewhere.
        XCTAssertTrue(r.stderr.contains("the codes sampled before it are kept"), r.stderr)
        XCTAssertEqual(try SessionFolder(path: dir + "/b").loadCodes(samples: 1)[2]?.t, 44100 / 128)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b/render-level2-sample0.wav"))
    }
}
