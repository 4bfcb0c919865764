import Foundation
import JukeboxCore
import StudioKit
import XCTest

/// One session format for both tools: a session `jukebox sample` wrote opens in the studio (prompt,
/// kept line, history) and goes on there; a session the studio wrote is upsampled by `jukebox sample`.
final class StudioSessionInteropTests: XCTestCase {
    static let genre = RandomModelSet.genres[2], artist = RandomModelSet.artists[1]

    func modelSet(_ dir: String) throws -> ModelSet {
        let made = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "11", "-o", dir + "/set"])
        XCTAssertEqual(made.status, 0, made.stderr)
        return try ModelSet.load(dir + "/set")
    }

    /// A new studio session at DIR/studio on the set at DIR/set: stretches of half a second, `candidates` a round.
    func newStudioSession(_ dir: String, _ set: ModelSet, seed: UInt64 = 3, candidates: Int) throws -> StudioSession {
        let fields = PromptFields(genre: Self.genre, artist: Self.artist, lyrics: "", seconds: 0.5, totalSeconds: 30,
                                  temperatures: [0.99, 0.99, 0.98], seed: seed, candidates: candidates)
        return try StudioSession.create(at: dir + "/studio", fields: fields, models: set, modelPath: dir + "/set")
    }

    func testASessionFromTheCLIOpensAndGoesOnInTheStudio() throws {
        let dir = temporaryFolder(self)
        let set = try modelSet(dir), cli = dir + "/cli"
        let r = try CLI.run(["sample", "--model", dir + "/set", "--genre", Self.genre, "--artist", Self.artist,
                             "--lyrics", "tide and lantern", "--seconds", "1", "--seed", "9", "--temp-top", "0.9", "-o", cli])
        XCTAssertEqual(r.status, 0, r.stderr)
        let written = try SessionFolder(path: cli).loadCodes(samples: 1)
        let top = try XCTUnwrap(written[2])
        XCTAssertNotNil(written[0], "the CLI sampled every level")

        let session = try StudioSession.open(cli, models: set)
        XCTAssertEqual(session.fields, PromptFields(genre: Self.genre, artist: Self.artist, lyrics: "tide and lantern",
                                                    seconds: 1, totalSeconds: 60, temperatures: [0.99, 0.99, 0.9],
                                                    seed: 9, candidates: 3))
        let composition = session.composition
        XCTAssertEqual(composition.kept, top.values)
        XCTAssertGreaterThanOrEqual(composition.keptSegments, 1, "the CLI's top-level windows count as kept stretches")
        XCTAssertTrue(composition.log.allSatisfy { $0.level == 2 })

        // The studio continues the CLI's line; the levels below stay while the line still begins with theirs.
        let candidates = try session.drawCandidates(cancel: nil, events: nil)
        XCTAssertEqual(candidates.count, 3)
        XCTAssertEqual(candidates[0].count, session.stretchTokens)
        try session.composer.keep(2)
        try session.save()
        let after = try SessionFolder(path: cli).loadCodes(samples: 1)
        XCTAssertEqual(after[2]?.values, top.values + candidates[2])
        XCTAssertEqual(after[0], written[0])
        XCTAssertEqual(after[1], written[1])

        // And it reopens with the studio's keep in its history.
        session.close()
        let again = try StudioSession.open(cli, models: set)
        XCTAssertEqual(again.composition, session.composition)
        XCTAssertTrue(again.composition.canUndo)
        XCTAssertEqual(again.composition.segments.last?.keptPlace, 3)
    }

    func testASessionFromTheStudioIsUpsampledByTheCLI() throws {
        let dir = temporaryFolder(self)
        let set = try modelSet(dir), studio = dir + "/studio"
        let fields = PromptFields(genre: Self.genre, artist: Self.artist, lyrics: "", seconds: 1, totalSeconds: 30,
                                  temperatures: [0.99, 0.99, 0.98], seed: 4, candidates: 2)
        let session = try StudioSession.create(at: studio, fields: fields, models: set, modelPath: dir + "/set")
        let candidates = try session.drawCandidates(cancel: nil, events: nil)
        try session.composer.keep(1)
        try session.save()
        session.close()

        let out = dir + "/up"
        let r = try CLI.run(["sample", "--model", dir + "/set", "--genre", Self.genre, "--artist", Self.artist,
                             "--seconds", "1", "--mode", "upsample", "--session", studio, "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let codes = try SessionFolder(path: out).loadCodes(samples: 1)
        XCTAssertEqual(codes[2]?.values, candidates[1], "the CLI upsampled the studio's kept line")
        XCTAssertEqual(codes[0]?.t, candidates[1].count * 128 / 8)
        XCTAssertTrue(FileManager.default.fileExists(atPath: SessionFolder(path: out).renderPath(level: 0, sample: 0)))
        // The CLI reads the studio's session.json as its own.
        let (_, document) = try SessionFolder.open(studio)
        XCTAssertEqual(document.prompt.genre, Self.genre)
        XCTAssertEqual(document.settings[SessionKeys.candidates], "2")
    }

    /// Ctrl-U's engine side: levels 1 and 0 for the kept line, saved beside it and rendered; they stay
    /// through later keeps (the line still begins with theirs) and go when an undo cuts into it.
    func testUpsampleSavesEveryLevelAndRenders() throws {
        let dir = temporaryFolder(self)
        let set = try modelSet(dir), path = dir + "/studio"
        let fields = PromptFields(genre: Self.genre, artist: Self.artist, lyrics: "", seconds: 0.5, totalSeconds: 30,
                                  temperatures: [0.99, 0.99, 0.98], seed: 8, candidates: 2)
        let session = try StudioSession.create(at: path, fields: fields, models: set, modelPath: dir + "/set")
        XCTAssertThrowsError(try session.upsample(cancel: nil, events: nil), "nothing kept yet")
        _ = try session.drawCandidates(cancel: nil, events: nil)
        try session.composer.keep(0)
        try session.save()
        let kept = session.composer.kept
        var levels: Set<Int> = []
        let wav = try XCTUnwrap(session.upsample(cancel: nil) { event in
            if case let .tokensSampled(level, _, _, _) = event { levels.insert(level) }
        })
        XCTAssertEqual(levels, [0, 1], "the upsamplers ran and reported their tokens")
        XCTAssertEqual(wav, SessionFolder(path: path).renderPath(level: 0, sample: 0))
        let audio = try AudioFile.readMono(wav, sampleRate: 44100)
        XCTAssertEqual(audio.count, kept.t * 128)
        var codes = try SessionFolder(path: path).loadCodes(samples: 1)
        XCTAssertEqual(codes[2], kept)
        XCTAssertEqual(codes[1]?.t, kept.t * 4)
        XCTAssertEqual(codes[0]?.t, kept.t * 16)
        let lower = codes

        _ = try session.drawCandidates(cancel: nil, events: nil)
        try session.composer.keep(1)
        try session.save()
        codes = try SessionFolder(path: path).loadCodes(samples: 1)
        XCTAssertEqual(codes[0], lower[0])
        XCTAssertGreaterThan(codes[2]?.t ?? 0, kept.t)

        try session.composer.undo()
        try session.composer.undo()
        try session.save()
        codes = try SessionFolder(path: path).loadCodes(samples: 1)
        XCTAssertNil(codes[0], "the upsampled levels belonged to a line no longer kept")
        XCTAssertNil(codes[2])
    }

    func testAMultiSampleSessionIsRefusedInOneLine() throws {
        let dir = temporaryFolder(self)
        let set = try modelSet(dir)
        let r = try CLI.run(["sample", "--model", dir + "/set", "--genre", Self.genre, "--artist", Self.artist,
                             "--seconds", "0.5", "--samples", "2", "--levels", "top", "-o", dir + "/two"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertThrowsError(try StudioSession.open(dir + "/two", models: set)) { error in
            XCTAssertTrue("\(error)".contains("holds 2 samples"), "\(error)")
        }
    }

    /// Every option `jukebox sample` takes, recorded in session.json, reopened in the studio: the studio's
    /// prompt uses the same values and writes them back unchanged (top-k and the downbeat used to be lost).
    func testASessionWithEveryOptionReopensInTheStudioWithTheSameValues() throws {
        let dir = temporaryFolder(self), cli = dir + "/cli"
        let bundled = try BundledModel.locate(environment: [:], executable: CLI.executable)
        let set = try ModelSet.load(bundled)
        let artist = try XCTUnwrap(set.vocabularies[set.topLevel]?.artistName(id: 2))
        let r = try CLI.run(["sample", "--model", bundled, "--genre", "jazz", "--artist", artist, "--lyrics", "tide and lantern",
                             "--seconds", "1", "--total-seconds", "30", "--seed", "9", "--temp-top", "0.9", "--temp-rest", "0.8",
                             "--top-k", "40", "--bpm", "97", "--downbeat", "1.5", "--bar-guidance", "1.25", "--genre-guidance", "0.5",
                             "--levels", "top", "-o", cli])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (_, made) = try SessionFolder.open(cli)
        XCTAssertEqual(made.prompt.topK, 40)
        XCTAssertEqual(made.prompt.downbeat, 1.5)
        XCTAssertEqual(made.prompt.bpm, 97)
        XCTAssertEqual(made.prompt.barGuidance, 1.25)
        XCTAssertEqual(made.prompt.genreGuidance, 0.5)
        XCTAssertEqual(made.prompt.temperatures, [0.8, 0.8, 0.9])

        let session = try StudioSession.open(cli, models: set)
        let used = session.prompt.generation
        XCTAssertEqual(used.settings, [0.8, 0.8, 0.9].map { SamplingSettings(temperature: $0, topK: 40, topP: 0) })
        XCTAssertEqual(used.barClock, try BarClock(bpm: 97, sampleRate: 44100, downbeat: 66150))
        XCTAssertEqual(used.barGuidance, 1.25)
        XCTAssertEqual(used.genreGuidance, 0.5)
        XCTAssertEqual(session.fields.genreGuidance, 0.5, "a resample in the studio keeps it")
        XCTAssertEqual(session.fields.request.genreGuidance, 0.5)
        XCTAssertEqual(used.totalLength, 30 * 44100)
        XCTAssertEqual(used.seed, 9)
        XCTAssertEqual(session.fields.topK, 40)
        XCTAssertEqual(session.fields.downbeat, 1.5)
        _ = try session.drawCandidates(cancel: nil, events: nil)
        try session.composer.keep(0)
        try session.save()
        let (_, saved) = try SessionFolder.open(cli)
        XCTAssertEqual(saved.prompt, made.prompt, "the studio writes back what the CLI recorded")
    }

    /// `--mode continue` takes the genre, artist, lyrics and settings from the session; what is given
    /// overrides it and is recorded.
    func testContinueTakesThePromptFromTheSession() throws {
        let dir = temporaryFolder(self)
        _ = try modelSet(dir)
        let first = dir + "/first", second = dir + "/second"
        var r = try CLI.run(["sample", "--model", dir + "/set", "--genre", Self.genre, "--artist", Self.artist, "--lyrics", "salt",
                             "--seconds", "1", "--seed", "5", "--temp-top", "0.9", "--levels", "top", "-o", first])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["sample", "--mode", "continue", "--session", first, "--seconds", "2", "--top-k", "7", "-o", second])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (_, a) = try SessionFolder.open(first), (_, b) = try SessionFolder.open(second)
        XCTAssertEqual([b.prompt.genre, b.prompt.artist, b.prompt.lyrics], [Self.genre, Self.artist, "salt"])
        XCTAssertEqual(b.prompt.temperatures, a.prompt.temperatures)
        XCTAssertEqual(b.prompt.seed, 5)
        XCTAssertEqual(b.prompt.sampleSeconds, 2)
        XCTAssertEqual(b.prompt.topK, 7)
        XCTAssertEqual(b.prompt.mode, .continue)
        XCTAssertEqual(b.modelSet, a.modelSet, "the session's model set, as no --model was given")
        XCTAssertEqual(try SessionFolder(path: second).loadCodes(samples: 1)[2]?.t, 2 * 44100 / 128)
    }

    /// Three candidates drawn and the studio left (quit, or killed after the round was saved): reopened, the
    /// same three are there to choose from, and keeping one gives the line keeping it would have given.
    func testUndecidedCandidatesComeBackWhenTheSessionIsReopened() throws {
        let dir = temporaryFolder(self)
        let set = try modelSet(dir), path = dir + "/studio"
        let session = try newStudioSession(dir, set, candidates: 3)
        _ = try session.drawCandidates(cancel: nil, events: nil)
        try session.composer.keep(0)
        let drawn = try session.drawCandidates(cancel: nil, events: nil)
        try session.save()
        XCTAssertTrue(FileManager.default.fileExists(atPath: SessionFolder(path: path).candidatesPath))
        session.close()

        let reopened = try StudioSession.open(path, models: set)
        XCTAssertEqual(reopened.composition.pending, drawn)
        XCTAssertEqual(reopened.composition, session.composition)
        try reopened.composer.keep(2)
        try session.composer.keep(2)
        XCTAssertEqual(reopened.composer.kept, session.composer.kept)
        // Decided: the file goes, and a reopened session has nothing pending.
        try reopened.save()
        reopened.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: SessionFolder(path: path).candidatesPath))
        let decided = try StudioSession.open(path, models: set)
        XCTAssertEqual(decided.composition.pending, [])
        // Resampling a restored round draws the next round's seed, as it would have.
        let third = try decided.drawCandidates(cancel: nil, events: nil)
        try decided.save()
        decided.close()
        let again = try StudioSession.open(path, models: set)
        XCTAssertEqual(again.composition.pending, third)
        XCTAssertEqual(try again.resample(cancel: nil, events: nil), try decided.resample(cancel: nil, events: nil))
    }

    /// A candidates file from another round (session.json not written after it) is not taken for this one.
    func testCandidatesOfAnotherRoundAreIgnored() throws {
        let dir = temporaryFolder(self)
        let set = try modelSet(dir), path = dir + "/studio"
        let session = try newStudioSession(dir, set, candidates: 2)
        _ = try session.drawCandidates(cancel: nil, events: nil)
        try session.save()
        session.close()
        let folder = SessionFolder(path: path)
        var pending = try XCTUnwrap(try folder.loadPending())
        pending.ids = [7, 8]
        try folder.savePending(pending)
        let other = try StudioSession.open(path, models: set)
        XCTAssertEqual(other.composition.pending, [])
        other.close()
        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: folder.candidatesPath))
        XCTAssertThrowsError(try StudioSession.open(path, models: set)) { XCTAssertTrue("\($0)".contains(folder.candidatesPath), "\($0)") }
    }

    /// A session from the CLI whose codes are gone or short is named when the studio opens it, not shown as an
    /// empty line to sample over; the studio's own session, its codes cut, is refused by its undo lengths.
    func testAStudioOpeningDamagedCodesNamesThem() throws {
        let dir = temporaryFolder(self)
        let set = try modelSet(dir), cli = dir + "/cli"
        let r = try CLI.run(["sample", "--model", dir + "/set", "--genre", Self.genre, "--artist", Self.artist,
                             "--seconds", "1", "--levels", "top", "-o", cli])
        XCTAssertEqual(r.status, 0, r.stderr)
        let codes = SessionFolder(path: cli).codesPath
        try FileManager.default.removeItem(atPath: codes)
        XCTAssertThrowsError(try StudioSession.open(cli, models: set)) { XCTAssertTrue("\($0)".contains("is missing"), "\($0)") }

        let studio = dir + "/studio"
        let session = try newStudioSession(dir, set, candidates: 2)
        _ = try session.drawCandidates(cancel: nil, events: nil)
        try session.composer.keep(0)
        _ = try session.drawCandidates(cancel: nil, events: nil)
        try session.composer.keep(1)
        try session.save()
        session.close()
        let folder = SessionFolder(path: studio)
        let line = try XCTUnwrap(folder.loadCodes(samples: 1)[2])
        try folder.saveCodes([2: LevelCodes(n: 1, t: 3, values: Array(line.values.prefix(3)))], samples: 1)
        XCTAssertThrowsError(try StudioSession.open(studio, models: set)) { XCTAssertTrue("\($0)".contains("not a prefix of the kept line"), "\($0)") }
    }
}
