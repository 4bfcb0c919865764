import Foundation
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The one place a request becomes a prompt: what the session records resolves back to the same prompt,
/// fields fall back in one order (request, session, the set's sampling.json, the reference), and every
/// refusal names the field as the caller spells it.
final class PromptResolverTests: XCTestCase {
    /// The bundled set: labels, a bar guide and per-artist tempos, so every field of a prompt means something.
    static let bundled: ModelSet = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try! ModelSet.load(root.appendingPathComponent(BundledModel.relativePath).path)
    }()
    var models: ModelSet { Self.bundled }
    var artist: String { models.vocabularies[models.topLevel]!.artistName(id: 3)! }

    /// Every field of the generator's prompt that sampling reads.
    func assertSamePrompt(_ a: GenerationPrompt, _ b: GenerationPrompt, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.artistID, b.artistID, file: file, line: line)
        XCTAssertEqual(a.genreIDs, b.genreIDs, file: file, line: line)
        XCTAssertEqual(a.lyricTokens, b.lyricTokens, file: file, line: line)
        XCTAssertEqual(a.totalLength, b.totalLength, file: file, line: line)
        XCTAssertEqual(a.sampleLength, b.sampleLength, file: file, line: line)
        XCTAssertEqual(a.offset, b.offset, file: file, line: line)
        XCTAssertEqual(a.barClock, b.barClock, file: file, line: line)
        XCTAssertEqual(a.barGuidance, b.barGuidance, file: file, line: line)
        XCTAssertEqual(a.genreGuidance, b.genreGuidance, file: file, line: line)
        XCTAssertEqual(a.primeGuidance, b.primeGuidance, file: file, line: line)
        XCTAssertEqual(a.settings, b.settings, file: file, line: line)
        XCTAssertEqual(a.seed, b.seed, file: file, line: line)
        XCTAssertEqual(a.samples, b.samples, file: file, line: line)
    }

    func everyField() -> PromptRequest {
        PromptRequest(genre: "jazz", artist: artist, lyrics: "lanterns on the water", seconds: 3.5, totalSeconds: 30,
                      temperatures: [0: 0.7, 1: 0.8, 2: 0.85], topK: 40, bpm: 97, downbeat: 1.5, barGuidance: 1.25,
                      seed: 77, samples: 2, genreGuidance: 0.75)
    }

    func testWhatASessionRecordsResolvesBackToTheSamePrompt() throws {
        let first = try PromptResolver.resolve(everyField(), models: models)
        let r = first.record
        XCTAssertEqual([r.genre, r.artist, r.lyrics], ["jazz", artist, "lanterns on the water"])
        XCTAssertEqual([r.sampleSeconds, r.totalSeconds], [3.5, 30])
        XCTAssertEqual(r.temperatures, [0.7, 0.8, 0.85])
        XCTAssertEqual(r.topK, 40)
        XCTAssertNil(r.topP)
        XCTAssertEqual(r.bpm, 97)
        XCTAssertEqual(r.downbeat, 1.5)
        XCTAssertEqual(r.barGuidance, 1.25)
        XCTAssertEqual([r.seed, UInt64(r.samples)], [77, 2])
        XCTAssertEqual(first.generation.settings.map(\.topK), [40, 40, 40])
        XCTAssertEqual(first.generation.barClock, try BarClock(bpm: 97, sampleRate: 44100, downbeat: 66150))
        XCTAssertEqual(first.generation.barGuidance, 1.25)
        // The bundled guide holds the genres' tilt: the strength asked for is used and recorded.
        XCTAssertEqual(r.genreGuidance, 0.75)
        XCTAssertEqual(first.generation.genreGuidance, 0.75)

        // Reopened (nothing asked): the very same prompt, and the same record to write back.
        let again = try PromptResolver.resolve(PromptRequest(), models: models, session: first.record)
        XCTAssertEqual(again.record, first.record)
        assertSamePrompt(again.generation, first.generation)

        // A session that recorded a bar guide switched off stays off; the set's strength would turn it on.
        var off = everyField()
        off.barGuidance = 0
        let recordedOff = try PromptResolver.resolve(off, models: models).record
        XCTAssertEqual(recordedOff.barGuidance, 0)
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(), models: models, session: recordedOff).generation.barGuidance, 0)
        // Likewise the genre tilt; a request naming none takes the set's.
        off.genreGuidance = 0
        let genreOff = try PromptResolver.resolve(off, models: models).record
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(), models: models, session: genreOff).generation.genreGuidance, 0)
        var plain = everyField()
        plain.genreGuidance = nil
        XCTAssertEqual(try PromptResolver.resolve(plain, models: models).generation.genreGuidance, models.samplingDefaults.genreGuidance)
    }

    func testAFieldGivenOverridesTheSessionAndIsRecorded() throws {
        let session = try PromptResolver.resolve(everyField(), models: models).record
        let more = try PromptResolver.resolve(PromptRequest(seconds: 6, topK: 5, seed: 3, mode: .continue), models: models,
                                              session: session)
        XCTAssertEqual(more.record.sampleSeconds, 6)
        XCTAssertEqual(more.record.topK, 5)
        XCTAssertEqual(more.record.seed, 3)
        XCTAssertEqual(more.record.mode, .continue)
        // Everything not asked is the session's.
        XCTAssertEqual(more.record.genre, session.genre)
        XCTAssertEqual(more.record.downbeat, session.downbeat)
        XCTAssertEqual(more.record.temperatures, session.temperatures)
        XCTAssertEqual(more.generation.sampleLength, Int(6 * 44100) / 128 * 128)
    }

    func testNothingGivenTakesTheSetsOwnDefaults() throws {
        let d = models.samplingDefaults
        let r = try PromptResolver.resolve(PromptRequest(genre: "rock", artist: artist, seconds: 4), models: models)
        XCTAssertEqual(r.record.temperatures, d.temperatures(topLevel: models.topLevel))
        XCTAssertEqual(r.record.totalSeconds, d.totalSeconds(sampling: 4))
        XCTAssertEqual(r.record.bpm, d.artistTempos[artist])
        XCTAssertEqual(r.record.barGuidance, d.barGuidance)
        XCTAssertNil(r.record.topK)
        XCTAssertEqual(r.record.samples, 1)
        XCTAssertEqual(r.record.seed, 0)
    }

    func testAGenresOwnGuideStrengthServesItsPromptsUnlessOneIsNamed() throws {
        var set = models
        var d = set.samplingDefaults
        d.genreBarGuidance = ["blues": d.barGuidance + 1.5]
        set.sampling = d
        let blues = try PromptResolver.resolve(PromptRequest(genre: "Blues", artist: artist, seconds: 4), models: set)
        XCTAssertEqual(blues.generation.barGuidance, d.barGuidance + 1.5)
        XCTAssertEqual(blues.record.barGuidance, d.barGuidance + 1.5, "the session records what was used")
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(genre: "rock", artist: artist, seconds: 4), models: set).generation.barGuidance,
                       d.barGuidance)
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(genre: "blues", artist: artist, seconds: 4, barGuidance: 1), models: set)
                        .generation.barGuidance, 1, "a named strength wins")
        // A session keeps the strength it was made with, whatever its genre's is now.
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(genre: "blues"), models: set, session: blues.record).generation.barGuidance,
                       d.barGuidance + 1.5)
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(genre: "blues"), models: set,
                                                  session: try PromptResolver.resolve(PromptRequest(genre: "rock", artist: artist, seconds: 4),
                                                                                      models: set).record).generation.barGuidance,
                       d.barGuidance)
    }

    func testALevelsOwnTemperatureServesItUnlessTheUpsamplersAreNamed() throws {
        var set = models
        var d = set.samplingDefaults
        d.levelTemperatures = [0: d.upsamplers + 0.15]
        set.sampling = d
        let plain = try PromptResolver.resolve(PromptRequest(genre: "rock", artist: artist, seconds: 4), models: set)
        XCTAssertEqual(plain.record.temperatures, [d.upsamplers + 0.15, d.upsamplers, d.top])
        XCTAssertEqual(plain.generation.settings.map(\.temperature), plain.record.temperatures)
        var named = PromptRequest(genre: "rock", artist: artist, seconds: 4)
        named.setTemperatures(top: nil, upsamplers: 0.5, topLevel: set.topLevel)
        XCTAssertEqual(try PromptResolver.resolve(named, models: set).record.temperatures, [0.5, 0.5, d.top], "--temp-rest names every upsampler's")
    }

    func testRefusalsNameTheFieldAsTheCallerSpellsIt() throws {
        func refusal(_ request: PromptRequest, _ naming: PromptField.Naming = .commandLine) -> String {
            do { _ = try PromptResolver.resolve(request, models: models, naming: naming); return "accepted" } catch { return "\(error)" }
        }
        var r = everyField()
        r.totalSeconds = 2
        XCTAssertTrue(refusal(r).hasPrefix("--total-seconds:"), refusal(r))
        XCTAssertTrue(refusal(r, .words).hasPrefix("total seconds:"), refusal(r, .words))
        r = everyField(); r.topP = 0.9
        XCTAssertTrue(refusal(r).hasPrefix("--top-k:"), refusal(r))
        r = everyField(); r.temperatures[2] = .nan
        XCTAssertTrue(refusal(r).hasPrefix("--temp-top:"), refusal(r))
        r = everyField(); r.genre = nil
        XCTAssertTrue(refusal(r).hasPrefix("--genre: is needed"), refusal(r))
        r = everyField(); r.seconds = nil
        XCTAssertTrue(refusal(r, .words).hasPrefix("seconds: is needed"), refusal(r, .words))
        r = everyField(); r.bpm = 1e9
        XCTAssertTrue(refusal(r).hasPrefix("--bpm:"), refusal(r))
        r = everyField(); r.genreGuidance = 11
        XCTAssertTrue(refusal(r).hasPrefix("--genre-guidance:"), refusal(r))
        XCTAssertTrue(refusal(r, .words).hasPrefix("genre guidance:"), refusal(r, .words))
        r = everyField(); r.primeGuidance = -1
        XCTAssertTrue(refusal(r).hasPrefix("--prime-guidance:"), refusal(r))
        r = everyField(); r.lyrics = String(repeating: "la ", count: 400_000)
        XCTAssertTrue(refusal(r).hasPrefix("--lyrics:"), refusal(r))
        // A session's song shorter than a longer continue: named as the session's.
        let session = try PromptResolver.resolve(everyField(), models: models).record
        XCTAssertThrowsError(try PromptResolver.resolve(PromptRequest(seconds: 31), models: models, session: session)) {
            XCTAssertTrue("\($0)".contains("the session's song (30.0 s)"), "\($0)")
        }
    }

    /// The prime's own guide steers continuations only: asked for in one, it is used and recorded, and a
    /// continue of that session keeps it; asked for from nothing, a note says it does nothing.
    func testPrimeGuidanceIsKeptForContinuationsAndNotedElsewhere() throws {
        var request = everyField()
        request.mode = .primed
        request.primeGuidance = 1.5
        let primed = try PromptResolver.resolve(request, models: models)
        XCTAssertEqual(primed.generation.primeGuidance, 1.5)
        XCTAssertEqual(primed.record.primeGuidance, 1.5)
        XCTAssertFalse(primed.notes.contains { $0.contains("prime guidance") }, "\(primed.notes)")
        let reopened = try PromptResolver.resolve(PromptRequest(seconds: 6, mode: .continue), models: models, session: primed.record)
        XCTAssertEqual(reopened.generation.primeGuidance, 1.5)
        XCTAssertEqual(reopened.record.primeGuidance, 1.5)
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(seconds: 6, mode: .continue, primeGuidance: 0), models: models,
                                                  session: primed.record).generation.primeGuidance, 0)

        // A set that names a strength gives it to a new continuation, quietly not to a sample from nothing; a
        // session made before the guide existed continues without it.
        var guided = models
        guided.sampling = try XCTUnwrap(models.sampling)
        guided.sampling?.primeGuidance = 3
        var plainPrimed = PromptRequest(genre: "jazz", artist: artist, seconds: 3.5, mode: .primed)
        XCTAssertEqual(try PromptResolver.resolve(plainPrimed, models: guided).generation.primeGuidance, 3)
        plainPrimed.mode = .ancestral
        let quiet = try PromptResolver.resolve(plainPrimed, models: guided)
        XCTAssertEqual(quiet.generation.primeGuidance, 0)
        XCTAssertFalse(quiet.notes.contains { $0.contains("prime guidance") }, "\(quiet.notes)")
        var old = primed.record
        old.primeGuidance = nil
        XCTAssertEqual(try PromptResolver.resolve(PromptRequest(seconds: 6, mode: .continue), models: guided, session: old)
            .generation.primeGuidance, 0)

        request.mode = .ancestral
        let ancestral = try PromptResolver.resolve(request, models: models)
        XCTAssertEqual(ancestral.generation.primeGuidance, 0)
        XCTAssertNil(ancestral.record.primeGuidance)
        XCTAssertTrue(ancestral.notes.contains { $0.contains("prime guidance") && $0.contains("no prime") }, "\(ancestral.notes)")
    }

    /// An artist who never sings in the set's songs, asked to: a note says its samples will drift from its
    /// sound; without lyrics, or for an artist who sings, none.
    func testAnInstrumentalArtistAskedToSingIsNoted() throws {
        let silent = try XCTUnwrap(models.samplingDefaults.instrumentalArtists.sorted().first)
        let singer = try XCTUnwrap(models.samplingDefaults.artistGenres.keys.sorted().first { !models.samplingDefaults.instrumentalArtists.contains($0) })
        func notes(_ artist: String, _ lyrics: String) throws -> [String] {
            try PromptResolver.resolve(PromptRequest(genre: "blues", artist: artist, lyrics: lyrics, seconds: 2), models: models).notes
        }
        let asked = try notes(silent, "rain on the road")
        XCTAssertTrue(asked.contains { $0.hasPrefix("\(silent) sings in none of the songs") }, "\(asked)")
        XCTAssertFalse(try notes(silent, " \n").contains { $0.contains("sings in none") })
        XCTAssertFalse(try notes(singer, "rain on the road").contains { $0.contains("sings in none") })
    }

    func testUnknownNamesWarnAndUnseenCharactersAreNoted() throws {
        var request = everyField()
        request.artist = "nobody we know"
        request.lyrics = "héllo ☃ ☃\u{200B}"
        let r = try PromptResolver.resolve(request, models: models)
        XCTAssertEqual(r.warnings.count, 1, "\(r.warnings)")
        XCTAssertTrue(r.warnings[0].contains("nobody we know"), r.warnings[0])
        // Said as a person reads it: each character once with its count, an invisible one by code point.
        let note = try XCTUnwrap(r.notes.first { $0.contains("cannot see") }, "\(r.notes)")
        XCTAssertTrue(note.hasSuffix("☃×2 U+200B×1"), note)
    }
}
