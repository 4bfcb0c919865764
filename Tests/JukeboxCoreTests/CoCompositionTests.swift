import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Co-composition and partial renders on the small random two-level set of SamplingGeneratorTests
/// (hops 2 and 4, top n_ctx 16).
final class CoCompositionTests: XCTestCase {
    let models = SamplingGeneratorTests.shared

    func prompt(seed: UInt64 = 5) -> GenerationPrompt {
        GenerationPrompt(artistID: 3, genreIDs: [1], lyricTokens: [], totalLength: 44100, sampleLength: 4,
                         settings: [SamplingSettings(temperature: 1)], seed: seed, samples: 1)
    }

    func composer(seed: UInt64 = 5) throws -> CoComposer {
        try CoComposer(generator: Generator(models: models), prompt: prompt(seed: seed))
    }

    func rows(_ c: [LevelCodes]) -> [[Int]] { c.map(\.values) }

    func testCandidatesContinueTheKeptLineAndDifferFromEachOther() throws {
        let c = try composer()
        let first = try c.candidates(count: 3, tokens: 6)
        XCTAssertEqual(first.map(\.t), [6, 6, 6])
        XCTAssertEqual(Set(rows(first)).count, 3, "candidates differ from each other")
        try c.keep(1)
        XCTAssertEqual(c.kept, first[1])
        // The next stretches cross the top level's window boundary (n_ctx 16).
        for (tokens, total) in [(10, 16), (8, 24)] {
            let next = try c.candidates(count: 3, tokens: tokens)
            XCTAssertEqual(Set(rows(next)).count, 3)
            for cand in next {
                XCTAssertEqual(cand.t, total)
                XCTAssertEqual(Array(cand.values.prefix(c.kept.t)), c.kept.values, "continues the kept line unchanged")
                XCTAssertTrue(cand.values.allSatisfy { $0 >= 0 && $0 < SamplingGeneratorTests.lBins })
            }
            XCTAssertEqual(Set(next.map { Array($0.values.suffix(tokens)) }).count, 3, "the new codes differ")
            try c.keep(2)
            XCTAssertEqual(c.kept, next[2])
        }
    }

    /// With renderWhileSampling the composer's windows are heard as they finish (the studio auditions
    /// them): one audio row per candidate, equal to decoding that candidate's codes, and the codes are
    /// those of a composer that does not render.
    func testCandidatesRenderTheirWindowsWhileDrawn() throws {
        let plain = try composer(), heard = try composer()
        heard.renderWhileSampling = true
        _ = try plain.candidates(count: 2, tokens: 6)
        _ = try heard.candidates(count: 2, tokens: 6)
        try plain.keep(1)
        try heard.keep(1)
        var decoded: [(samples: Range<Int>, audio: [[Float]])] = []
        let next = try heard.candidates(count: 2, tokens: 12) { event in
            if case let .audioDecoded(level, samples, audio) = event {
                XCTAssertEqual(level, plain.level)
                decoded.append((samples, audio))
            }
        }
        XCTAssertEqual(rows(next), rows(try plain.candidates(count: 2, tokens: 12)), "rendering changes no code")
        // 18 codes with n_ctx 16: two windows, the second pulled back to end at the last code.
        let hop = models.vqvae.hopLengths[plain.level]
        XCTAssertEqual(decoded.map(\.samples.upperBound).max(), 18 * hop)
        XCTAssertGreaterThanOrEqual(decoded.count, 2)
        for chunk in decoded {
            XCTAssertEqual(chunk.audio.count, 2)
            for (row, candidate) in next.enumerated() {
                let range = (chunk.samples.lowerBound / hop)..<(chunk.samples.upperBound / hop)
                let reference = try PartialRender.decode(vqvae: models.vqvae, codes: candidate, level: plain.level, range: range)
                let audio = Array(UnsafeBufferPointer(start: reference.data, count: reference.shape[1]))
                let worst = zip(audio, chunk.audio[row]).map { abs($0 - $1) }.max() ?? 1
                XCTAssertEqual(audio.count, chunk.audio[row].count)
                XCTAssertLessThanOrEqual(worst, 1e-5, "window \(range) of candidate \(row + 1)")
            }
        }
    }

    func testCandidatesAreTheEnginesContinuationWithTheRoundSeed() throws {
        let c = try composer()
        _ = try c.candidates(count: 2, tokens: 5)
        try c.keep(0)
        let kept = c.kept
        let got = try c.candidates(count: 2, tokens: 7)
        var p = prompt()
        p.samples = 2
        p.sampleLength = 12 * 4
        p.seed = c.roundSeed(1)
        let empty = try LevelCodes(n: 1, t: 0, values: [])
        let whole = try Generator(models: models).generate(p, mode: .continuation([empty, kept]))
        XCTAssertEqual(rows(got), rows(CoComposer.split(whole.codes[1])))
    }

    func testResampleDrawsNewCandidatesForTheSameStretch() throws {
        let c = try composer()
        XCTAssertThrowsError(try c.resample())
        _ = try c.candidates(count: 2, tokens: 4)
        try c.keep(0)
        let before = try c.candidates(count: 2, tokens: 6)
        let after = try c.resample()
        XCTAssertEqual(after.map(\.t), [10, 10])
        for cand in after { XCTAssertEqual(Array(cand.values.prefix(4)), c.kept.values) }
        XCTAssertNotEqual(rows(after), rows(before))
        XCTAssertTrue(Set(rows(after)).isDisjoint(with: Set(rows(before))))
        XCTAssertEqual(c.round, 3)
        let last = c.history.suffix(2).map { [$0.level, $0.window, $0.start, $0.length] }
        XCTAssertEqual(last, [[1, 1, 4, 6], [1, 1, 4, 6]])
    }

    func testKeepAndUndoRestoreTheEarlierLines() throws {
        let c = try composer()
        XCTAssertThrowsError(try c.undo())
        XCTAssertThrowsError(try c.keep(0), "nothing drawn yet")
        let a = try c.candidates(count: 2, tokens: 4)
        XCTAssertThrowsError(try c.keep(2))
        try c.keep(1)
        let b = try c.candidates(count: 2, tokens: 4)
        try c.keep(0)
        XCTAssertEqual(c.kept, b[0])
        XCTAssertThrowsError(try c.keep(1), "the round's candidates are used up once one is kept")
        try c.undo()
        XCTAssertEqual(c.kept, a[1])
        try c.undo()
        XCTAssertEqual(c.kept.t, 0)
        XCTAssertFalse(c.canUndo)
        // After undo the next stretch starts from the restored line again.
        let again = try c.candidates(count: 2, tokens: 3)
        XCTAssertEqual(again.map(\.t), [3, 3])
    }

    func testHistoryRecordsTheCandidatesAndTheKeptOne() throws {
        let c = try composer()
        _ = try c.candidates(count: 3, tokens: 4)
        _ = try c.resample()
        try c.keep(2)
        _ = try c.candidates(count: 2, tokens: 4)
        try c.keep(0)
        XCTAssertEqual(c.history, [
            WindowRecord(level: 1, window: 0, start: 0, length: 4, candidates: [0, 1, 2], kept: nil),
            WindowRecord(level: 1, window: 0, start: 0, length: 4, candidates: [3, 4, 5], kept: 5),
            WindowRecord(level: 1, window: 1, start: 4, length: 4, candidates: [6, 7], kept: 6),
        ])
        XCTAssertEqual(c.history[1].discarded, [3, 4])
    }

    func testSameBaseSeedGivesTheSameCandidates() throws {
        func run(_ seed: UInt64) throws -> [[Int]] {
            let c = try composer(seed: seed)
            var out = rows(try c.candidates(count: 2, tokens: 5))
            try c.keep(1)
            out += rows(try c.candidates(count: 2, tokens: 5))
            out += rows(try c.resample())
            return out
        }
        XCTAssertEqual(try run(5), try run(5))
        XCTAssertNotEqual(try run(5), try run(6))
    }

    func testCancelledCandidatesLeaveTheLineUnchanged() throws {
        let c = try composer()
        _ = try c.candidates(count: 2, tokens: 4)
        try c.keep(0)
        let flag = CancelFlag()
        var seen = 0
        XCTAssertThrowsError(try c.candidates(count: 2, tokens: 8, cancel: flag) { event in
            if case .tokensSampled = event { seen += 1; if seen == 2 { flag.cancel() } }
        })
        XCTAssertEqual(c.kept.t, 4)
        XCTAssertEqual(c.history.count, 1)
    }

    func testUpsampleFillsTheLevelsBelowTheKeptLine() throws {
        let c = try composer()
        XCTAssertThrowsError(try c.upsample(), "nothing kept yet")
        _ = try c.candidates(count: 2, tokens: 12)
        try c.keep(1)
        let result = try c.upsample()
        XCTAssertFalse(result.cancelled)
        XCTAssertEqual(result.codes[1], c.kept)
        XCTAssertEqual(result.codes[0].n, 1)
        XCTAssertEqual(result.codes[0].t, 24)
        let audio = try models.vqvae.decode(result.codes[0], level: 0)
        XCTAssertEqual(audio.shape, [1, 48, 1])
    }

    /// The whole loop on the tiny three-level set, lyrics and all: two stretches (the upsamplers need n_ctx codes), then upsampling and a decode.
    func testTinyModelSetCoComposesAndUpsamples() throws {
        let (set, p) = try tinyModelSet(self, setSeed: 2, artist: RandomModelSet.artists[0], genre: "rock",
                                        lyrics: "la la la, the tiny model sings along", totalSeconds: 30,
                                        sampleLength: 128, seed: 3, samples: 1, chunkSize: 16)
        let c = try CoComposer(generator: Generator(models: set), prompt: p)
        let first = try c.candidates(count: 2, seconds: 16 * 128 / 44100)
        XCTAssertEqual(first.map(\.t), [16, 16])
        try c.keep(0)
        let second = try c.candidates(count: 2, tokens: 16)
        for cand in second { XCTAssertEqual(Array(cand.values.prefix(16)), first[0].values) }
        XCTAssertNotEqual(second[0], second[1])
        try c.keep(1)
        let result = try c.upsample()
        XCTAssertEqual(result.codes.map(\.t), [512, 128, 32])
        XCTAssertEqual(result.codes[2], second[1])
        let audio = try PartialRender.decode(vqvae: set.vqvae, codes: result.codes[0], level: 0, range: 0..<128)
        XCTAssertEqual(audio.shape, [1, 1024, 1])
    }

    /// Autosave after a keep, reopen: the kept line, its history, undo and the next round's candidates
    /// are those of the composer that saved them.
    func testASavedCoCompositionReopensWhereItLeftOff() throws {
        let c = try composer()
        _ = try c.candidates(count: 3, tokens: 6)
        try c.keep(1)
        _ = try c.candidates(count: 2, tokens: 5)
        _ = try c.resample()
        try c.keep(0)
        let dir = temporaryFolder(self) + "/session"
        let doc = SessionDocument(prompt: SessionPrompt(artist: "a", genre: "g", lyrics: "", totalSeconds: 1, sampleSeconds: 1,
                                                        temperatures: [1], seed: 5, samples: 1),
                                  modelSet: "memory", seeds: [5], rngStates: [[5]])
        let folder = try SessionFolder.create(at: dir, document: doc)
        try c.save(to: folder, document: doc)

        let reopened = try CoComposer(generator: Generator(models: models), prompt: prompt(), session: SessionFolder(path: dir))
        XCTAssertEqual(reopened.kept, c.kept)
        XCTAssertEqual(reopened.history, c.history)
        XCTAssertEqual(reopened.round, c.round)
        XCTAssertEqual(try reopened.candidates(count: 2, tokens: 3), try c.candidates(count: 2, tokens: 3))
        try reopened.undo()
        try c.undo()
        XCTAssertEqual(reopened.kept, c.kept, "undo reaches the same earlier line")
        XCTAssertEqual(reopened.kept.t, 6)

        // A damaged undo record is reported, not guessed at.
        var bad = try folder.loadDocument()
        bad.settings[CoComposer.undoKey] = "6,999"
        try folder.save(bad)
        XCTAssertThrowsError(try CoComposer(generator: Generator(models: models), prompt: prompt(), session: folder)) {
            XCTAssertTrue("\($0)".contains(CoComposer.undoKey), "\($0)")
        }
    }
}
