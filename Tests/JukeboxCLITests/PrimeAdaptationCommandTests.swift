import Foundation
import JukeboxCore
import XCTest

/// `sample --mode primed --adapt-steps N`: the set hears the prime before continuing it; the set so taught is kept
/// in the session, which names it, so continuing the session goes on with it.
final class PrimeAdaptationCommandTests: XCTestCase {
    func testAPrimedSessionKeepsTheSetThatHeardThePrime() throws {
        let dir = temporaryFolder(self)
        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "--seed", "2", "-o", dir + "/set"]).status, 0)
        try AudioFile.writeWAV(dir + "/prime.wav", samples: DatasetImportCommandTests.clicks(seconds: 3, rate: 44100, channels: 1, bpm: 120),
                               sampleRate: 44100)
        let setBefore = try DatasetImportCommandTests.snapshot(dir + "/set")
        let base = ["sample", "--model", dir + "/set", "--genre", RandomModelSet.genres[0], "--artist", RandomModelSet.artists[0],
                    "--mode", "primed", "--prime", dir + "/prime.wav", "--prime-seconds", "2", "--seconds", "3", "--seed", "4"]
        let r = try CLI.run(base + ["--adapt-steps", "3", "-o", dir + "/s"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("heard the prime first"), r.stderr)
        let adapted = dir + "/s/" + SampleJob.adaptedSetFolder
        let document = try SessionFolder.open(dir + "/s").1
        XCTAssertEqual(document.modelSet, (adapted as NSString).standardizingPath)
        XCTAssertEqual(try DatasetImportCommandTests.snapshot(dir + "/set"), setBefore)
        let taught = try DatasetImportCommandTests.snapshot(adapted)
        XCTAssertNotEqual(taught["prior_level_2/weights.safetensors"], setBefore["prior_level_2/weights.safetensors"])
        XCTAssertEqual(taught["vqvae/weights.safetensors"], setBefore["vqvae/weights.safetensors"])

        // Continuing the session samples from the set it names.
        let more = try CLI.run(["sample", "--mode", "continue", "--session", dir + "/s", "--seconds", "4", "-o", dir + "/s2"])
        XCTAssertEqual(more.status, 0, more.stderr)
        XCTAssertEqual(try SessionFolder.open(dir + "/s2").1.modelSet, (adapted as NSString).standardizingPath)

        // Only a prime can be heard; a session already there is refused before any teaching.
        assertCleanFailure(try CLI.run(["sample", "--model", dir + "/set", "--genre", RandomModelSet.genres[0], "--seconds", "2",
                                        "--adapt-steps", "3", "-o", dir + "/a"]), naming: "--adapt-steps")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/a"))
        assertCleanFailure(try CLI.run(base + ["--adapt-steps", "3", "-o", dir + "/s"]), naming: dir + "/s/session.json")
        assertCleanFailure(try CLI.run(base + ["--adapt-steps=-2", "-o", dir + "/b"]), naming: "--adapt-steps")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b"))
    }
}
