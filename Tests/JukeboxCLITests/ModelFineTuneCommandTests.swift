import Foundation
import JukeboxCore
import XCTest

/// `jukebox model fine-tune`: the bundled set taught a folder of the user's recordings, as a new set that
/// knows the new artist, while the set it started from is not touched.
final class ModelFineTuneCommandTests: XCTestCase {
    var bundled: String { get throws { try BundledModel.locate(environment: [:], executable: CLI.executable) } }

    /// A folder as a user has it (an artist's folder of files at two rates, another artist, a file that is
    /// not audio), imported with the genre named, then the bundled set fine-tuned on it for a few steps.
    /// Returns the test folder; the new set is DIR/new.
    static func importAndFineTune(_ test: XCTestCase, bundled: String, extra: [String] = []) throws -> String {
        let dir = temporaryFolder(test), src = dir + "/my music"
        let fm = FileManager.default
        try fm.createDirectory(atPath: src + "/Ada Loop", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: src + "/Bo", withIntermediateDirectories: true)
        // The top prior learnt songs of 18 s and more; shorter ones would be left out of its training.
        let click = DatasetImportCommandTests.clicks
        try AudioFile.writeWAV(src + "/Ada Loop/one.wav", samples: click(20, 48000, 2, 100), channels: 2, sampleRate: 48000)
        try AudioFile.writeWAV(src + "/Ada Loop/two.wav", samples: click(20, 22050, 1, 100), sampleRate: 22050, format: .float32)
        try AudioFile.writeWAV(src + "/Bo/three.wav", samples: click(20, 44100, 1, 130), sampleRate: 44100)
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: src + "/Bo/four.mp3"))
        let imported = try CLI.run(["dataset", "import", src, "-o", dir + "/corpus", "--genre", "chiptune", "--held-out-every", "2"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let r = try CLI.run(["model", "fine-tune", "--model", bundled, "--data", dir + "/corpus", "-o", dir + "/new",
                             "--budget-minutes", "3", "--max-steps", "2", "--windows", "1"] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir
    }

    func testTheBundledSetLearnsANewArtistAndStaysAsItWas() throws {
        let bundled = try bundled
        let before = try DatasetImportCommandTests.snapshot(bundled)
        let dir = try Self.importAndFineTune(self, bundled: bundled)
        XCTAssertEqual(try DatasetImportCommandTests.snapshot(bundled), before, "the set fine-tuned from is only read")

        // The new set: every prior knows the new artists and genre after the old ones, with rows of their own.
        let old = try ModelSet.load(bundled), new = try ModelSet.load(dir + "/new")
        for level in [2, 1, 0] {
            let vocabulary = try XCTUnwrap(new.vocabularies[level]), oldVocabulary = try XCTUnwrap(old.vocabularies[level])
            let oldArtists = oldVocabulary.artists.ids.count, oldGenres = oldVocabulary.genres.ids.count
            XCTAssertEqual(vocabulary.artistID("Ada Loop").id, oldArtists)
            XCTAssertEqual(vocabulary.artistID("Bo").id, oldArtists + 1)
            XCTAssertEqual(try vocabulary.genreIDs("chiptune", maxBowGenreSize: 1).ids, [oldGenres])
            for (name, id) in oldVocabulary.artists.ids { XCTAssertEqual(vocabulary.artists.ids[name], id, "\(name) keeps its id") }
            XCTAssertEqual(try XCTUnwrap(new.priors[level]).prior.config.yBins, [oldGenres + 1, oldArtists + 2])
        }
        XCTAssertEqual(new.sampling?.artistGenres["ada loop"], "chiptune", "the picker knows the new artist's genre")
        XCTAssertEqual(try XCTUnwrap(new.sampling?.artistTempos["ada loop"]), 100, accuracy: 3)
        // Continuations of the user's songs keep their prime's groove by default; the bundled set's stay unguided.
        XCTAssertEqual(old.sampling?.primeGuidance, 0)
        XCTAssertEqual(new.sampling?.primeGuidance, SamplingDefaults.fineTunedPrimeGuidance)
        XCTAssertEqual(new.barGuide?.artists, old.barGuide.map { $0.artists + 2 })

        // The card: held-out bits before and after at every level, the artist's worth, the codec's figures.
        let card = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/new/model-card.json"))) as? [String: Any])
        let fineTune = try XCTUnwrap(card["fine_tune"] as? [String: Any])
        XCTAssertEqual(fineTune["new_artists"] as? [String], ["ada loop", "bo"])
        XCTAssertEqual(fineTune["new_genres"] as? [String], ["chiptune"])
        let priors = try XCTUnwrap(fineTune["priors"] as? [[String: Any]])
        XCTAssertEqual(priors.compactMap { $0["level"] as? Int }, [2, 1, 0])
        for prior in priors {
            for moment in ["before", "after"] {
                let figures = try XCTUnwrap(prior[moment] as? [String: Any])
                let bits = try XCTUnwrap(figures["bits_per_token"] as? Double)
                XCTAssertTrue(bits > 0 && bits < 9, "\(moment): \(bits)")
                XCTAssertNotNil(figures["bits_with_unknown_artist"] as? Double)
            }
            XCTAssertEqual((prior["training"] as? [String: Any])?["step"] as? Int, 2)
        }
        let codec = try XCTUnwrap((fineTune["codec"] as? [String: Any])?["levels"] as? [[String: Any]])
        XCTAssertEqual(codec.count, 3)
        XCTAssertNotNil(codec[0]["snr_db"] as? Double)
        // Before fine-tuning, a new artist is "unknown": the grown prior scores its songs as the old one did.
        let top = try XCTUnwrap(priors.first?["before"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(top["bits_per_token"] as? Double), try XCTUnwrap(top["bits_with_unknown_artist"] as? Double), accuracy: 1e-9)

        // The new artist samples from the command line, known by name (no "unknown artist" warning).
        let sampled = try CLI.run(["sample", "--model", dir + "/new", "--artist", "Ada Loop", "--genre", "chiptune", "--seconds", "1",
                                   "--levels", "top", "--seed", "3", "-o", dir + "/session"])
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        XCTAssertFalse(sampled.stderr.contains("not in artist_ids.txt"), sampled.stderr)

        // The base set's alignment prior comes along, untrained and in its own format, with the grown lists:
        // the new set still times its lyrics with it, the new artist's row starting as "unknown".
        let oldAligner = try XCTUnwrap(old.alignmentPrior), aligner = try XCTUnwrap(new.alignmentPrior)
        XCTAssertEqual(try ModelConfig.load(folder: aligner.folder).weightFormat, try ModelConfig.load(folder: oldAligner.folder).weightFormat)
        XCTAssertEqual(aligner.prior.config.yBins, try XCTUnwrap(new.priors[2]).prior.config.yBins)
        XCTAssertEqual(try new.lyricTimingPrior().folder, aligner.folder)
        let table = "y_emb.artist_emb.emb.weight"
        let oldTable = try SafetensorsFile(path: oldAligner.folder + "/weights.safetensors").tensor(table)
        let newTable = try SafetensorsFile(path: aligner.folder + "/weights.safetensors").tensor(table)
        let width = oldTable.shape[1], oldRows = oldTable.shape[0]
        XCTAssertEqual(newTable.shape, [oldRows + 2, width])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: newTable.data, count: oldRows * width)),
                       Array(UnsafeBufferPointer(start: oldTable.data, count: oldRows * width)))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: newTable.data + oldRows * width, count: width)),
                       Array(UnsafeBufferPointer(start: oldTable.data, count: width)))
        XCTAssertNotNil(fineTune["alignment_prior"] as? String)
        let sung = try CLI.run(["sample", "--model", dir + "/new", "--artist", "Ada Loop", "--genre", "chiptune", "--seconds", "2",
                                "--levels", "top", "--seed", "3", "--lyrics", "la la la\nlo lo", "-o", dir + "/sung"])
        XCTAssertEqual(sung.status, 0, sung.stderr)
        let exported = try CLI.run(["export", dir + "/sung", "--lrc"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let (sungFolder, _) = try SessionFolder.open(dir + "/sung")
        let timed = try XCTUnwrap(try SessionAlignment.load(sungFolder)).samples[0]
        XCTAssertEqual(timed.method, "attention")
        XCTAssertEqual(timed.layer, try aligner.hps.int("alignment_layer"))
        // Words the clip ends before are left out; those sung come in the lyrics' order.
        XCTAssertFalse(timed.words.isEmpty)
        XCTAssertEqual(timed.words.map(\.text), Array(["la", "la", "la", "lo", "lo"].prefix(timed.words.count)))

        // A second run into the same folder goes on from what is done, and writes the set again.
        let again = try CLI.run(["model", "fine-tune", "--model", bundled, "--data", dir + "/corpus", "-o", dir + "/new",
                                 "--budget-minutes", "3", "--max-steps", "2", "--windows", "1"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("fine-tuned earlier, skipped"), again.stderr)
    }

    func testBadRequestsAreOneLineAndTouchNothing() throws {
        let bundled = try bundled
        let dir = temporaryFolder(self)
        let noCorpus = try CLI.run(["model", "fine-tune", "--data", dir + "/none", "-o", dir + "/new"])
        assertCleanFailure(noCorpus, naming: dir + "/none")
        let intoItself = try CLI.run(["model", "fine-tune", "--model", bundled, "--data", dir, "-o", bundled])
        assertCleanFailure(intoItself, naming: bundled)
        let budget = try CLI.run(["model", "fine-tune", "--data", dir, "-o", dir + "/new", "--budget-minutes", "0"])
        assertCleanFailure(budget, naming: "--budget-minutes")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/new"))
        // A folder of the user's is never replaced, and that is said before any work.
        try FileManager.default.createDirectory(atPath: dir + "/mine", withIntermediateDirectories: true)
        try "keep me".write(toFile: dir + "/mine/notes.txt", atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["model", "fine-tune", "--data", dir, "-o", dir + "/mine"]), naming: dir + "/mine")
        XCTAssertEqual(try String(contentsOfFile: dir + "/mine/notes.txt", encoding: .utf8), "keep me")
    }
}

/// The fine-tuned set in the real studio: its new artist is offered for the new genre and samples.
extension StudioEndToEndTests {
    func testAFineTunedSetsNewArtistIsPickedAndSampledInTheStudio() throws {
        let dir = try prepareStudio(seed: 8, randomSet: false)
        let bundled = try BundledModel.locate(environment: [:], executable: CLI.executable)
        let made = try ModelFineTuneCommandTests.importAndFineTune(self, bundled: bundled)
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  studioCommand(dir, "--model '\(made)/new' --session '\(dir)/session' --theme mono") + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        try literal("chiptune")
        waitFor("the genre typed") { $0.contains("chiptune") }
        try keys("Escape")
        try keys("Tab")
        // An empty artist field offers the chosen genre's artists: the new ones.
        let offered = waitFor("the new artists offered") { $0.contains("ada loop") && $0.contains("bo") }
        let rows = offered.split(separator: "\n").map(String.init)
        let first = try XCTUnwrap(rows.firstIndex { $0.contains("ada loop") && $0.contains("chiptune") }, offered)
        XCTAssertTrue(rows[first + 1].contains("bo") && rows[first + 1].contains("chiptune"), offered)
        try literal("ada loop")
        waitFor("the artist typed") { $0.contains("Artist        ada loop") }
        try keys("Escape")
        // Stretches of 2 s (the field after the artist), then the first round of candidates.
        try keys("Tab"); try keys("BSpace"); try keys("BSpace"); try literal("2")
        waitFor("2 s stretches") { $0.contains("Sample        2 ") }
        try keys("C-r")
        waitFor("the candidates", seconds: 60) { $0.contains("Segment 1  round 1") && $0.contains("Enter keeps") }
        let screen = pane()
        XCTAssertFalse(screen.contains("error") || screen.contains("unknown"), screen)
        let document = try SessionFolder.open(dir + "/session").1
        XCTAssertEqual(document.prompt.artist, "ada loop")
        XCTAssertEqual(document.prompt.genre, "chiptune")
        try keys("C-q")
        let end = waitFor("the studio to exit") { $0.contains("studio-exited-") || $0.contains("y/n") }
        if !end.contains("studio-exited-") { try keys("y"); waitFor("the studio to exit") { $0.contains("studio-exited-") } }
    }
}
