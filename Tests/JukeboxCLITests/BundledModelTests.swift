import Foundation
import JukeboxCore
import StudioKit
import XCTest

/// The model set committed in the repository: `jukebox sample` with no --model uses it, its own sampling
/// temperatures apply, a missing one is reported in one line, and the shipped presets fit it.
final class BundledModelTests: XCTestCase {
    /// The bundled set as the built executable finds it (the environment's JUKEBOX_MODEL ignored).
    var bundled: String { get throws { try BundledModel.locate(environment: [:], executable: CLI.executable) } }

    /// The environment without JUKEBOX_MODEL, so a developer's setting cannot redirect these tests.
    var cleanEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env[BundledModel.environmentVariable] = nil
        return env
    }

    func testTheBundledSetIsCompleteAndLabelled() throws {
        let set = try ModelSet.load(try bundled)
        XCTAssertTrue(set.isComplete, "three levels, every prior")
        XCTAssertEqual(set.vqvae.hopLengths, [8, 32, 128])
        XCTAssertNotNil(set.sampling, "the recipe writes sampling.json")
        let vocabulary = try XCTUnwrap(set.vocabularies[2])
        XCTAssertGreaterThanOrEqual(vocabulary.genres.ids.count - 1, 6, "at least six genres besides unknown")
        // The repository's limit for the committed set.
        let bytes = try FileManager.default.subpathsOfDirectory(atPath: try bundled).reduce(0) { sum, name in
            let attributes = try FileManager.default.attributesOfItem(atPath: try bundled + "/" + name)
            return sum + ((attributes[.type] as? FileAttributeType) == .typeRegular ? (attributes[.size] as? Int ?? 0) : 0)
        }
        XCTAssertLessThanOrEqual(bytes, 50_000_000)
        // `info` describes it as a complete set, with its sampling defaults.
        let info = try CLI.run(["info", try bundled])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("model set, priors for levels 2, 1, 0 (complete)"), info.stdout)
        let sampling = try XCTUnwrap(set.sampling)
        XCTAssertTrue(info.stdout.contains(String(format: "sampling defaults: temperature %.2f top, %.2f upsamplers", sampling.top, sampling.upsamplers)), info.stdout)
        for (level, t) in sampling.levelTemperatures {
            XCTAssertTrue(info.stdout.contains(String(format: "%.2f at level %d", t, level)), "an upsampler's own temperature: \(info.stdout)")
        }
        XCTAssertFalse(sampling.levelTemperatures.isEmpty, "the bundled set samples level 0 at its own temperature")
        // And its guide: what it holds and the strengths the set samples with.
        let guide = try XCTUnwrap(set.barGuide)
        XCTAssertTrue(info.stdout.contains("bar guide: \(guide.artists) artists × \(guide.bins) places a bar × \(guide.codes) codes, "
                                           + "the tilt of \(guide.genres) genres"), info.stdout)
        XCTAssertTrue(info.stdout.contains(String(format: "sampled with bar guidance %g", sampling.barGuidance)
                                           + String(format: ", genre guidance %g", sampling.genreGuidance)), info.stdout)
        XCTAssertTrue(info.stdout.contains("instrumental artists (sing in none of the set's songs): \(sampling.instrumentalArtists.count)"),
                      info.stdout)
        // The lyrics are timed by its alignment prior, shipped packed.
        let aligner = try XCTUnwrap(set.alignmentPrior)
        XCTAssertEqual(try ModelConfig.load(folder: aligner.folder).weightFormat, .q8)
        XCTAssertTrue(info.stdout.contains("lyrics timed by alignment_prior: layer \(try aligner.hps.int("alignment_layer"))"), info.stdout)
    }

    func testSampleWithoutAModelUsesTheBundledSetAndItsTemperatures() throws {
        let folder = try bundled
        let set = try ModelSet.load(folder)
        let vocabulary = try XCTUnwrap(set.vocabularies[2])
        let genre = try XCTUnwrap(vocabulary.genres.ids.filter { $0.value != 0 }.min { $0.value < $1.value }?.key)
        let artist = try XCTUnwrap(vocabulary.artists.ids.filter { $0.value != 0 }.min { $0.value < $1.value }?.key)
        let out = temporaryFolder(self) + "/song"
        let r = try Subprocess.run(CLI.executable, ["sample", "--genre", genre, "--artist", artist, "--lyrics", "la la la",
                                                    "--seconds", "0.5", "--seed", "3", "-o", out], environment: cleanEnvironment)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("warning"), "the bundled set knows its own labels: \(r.stderr)")
        let (_, document) = try SessionFolder.open(out)
        XCTAssertEqual(document.modelSet, (folder as NSString).standardizingPath)
        XCTAssertEqual(document.prompt.temperatures, set.defaultTemperatures)
        let audio = try AudioFile.read(out + "/render-level0-sample0.wav")
        XCTAssertEqual(audio.frames, Int(0.5 * 44100) / 128 * 128)

        // Named temperatures still win over the set's.
        let named = temporaryFolder(self) + "/named"
        let n = try Subprocess.run(CLI.executable, ["sample", "--genre", genre, "--artist", artist, "--seconds", "0.3",
                                                    "--levels", "top", "--temp-top", "0.5", "-o", named], environment: cleanEnvironment)
        XCTAssertEqual(n.status, 0, n.stderr)
        XCTAssertEqual(try SessionFolder.open(named).1.prompt.temperatures.last, 0.5)
    }

    func testAMissingModelSetIsNamedInOneLine() throws {
        let dir = temporaryFolder(self)
        var env = cleanEnvironment
        env[BundledModel.environmentVariable] = dir + "/nowhere"
        let r = try Subprocess.run(CLI.executable, ["sample", "--genre", "rock", "--artist", "x", "--seconds", "1", "-o", dir + "/s"],
                                   environment: env)
        assertCleanFailure(r, naming: "JUKEBOX_MODEL=\(dir)/nowhere")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s"), "no session folder for a run that cannot start")
    }

    /// Every shipped preset made for the bundled model names a genre and artist the model knows.
    func testShippedPresetsForTheBundledModelFitIt() throws {
        let vocabulary = try XCTUnwrap(try ModelSet.load(try bundled).vocabularies[2])
        let presets = CLI.packageRoot.appendingPathComponent("presets").path
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: presets) where name.hasSuffix(".toml") {
            let preset = try Preset.load(presets + "/" + name)
            guard preset.model == "default" else { continue }
            let genre = try XCTUnwrap(preset.genre, name), artist = try XCTUnwrap(preset.artist, name)
            XCTAssertNotNil(vocabulary.genres.ids[genre], "\(name): genre \(genre)")
            XCTAssertNotNil(vocabulary.artists.ids[artist], "\(name): artist \(artist)")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 3, "several presets ship for the bundled model")
    }
}
