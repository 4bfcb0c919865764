import Foundation
import JukeboxCore
import StudioKit
import XCTest

/// A set's `alignment_prior`: the lyrics' timing comes from it, sampling from the top prior; a member that does not
/// fit the top prior's windows is refused on load with its file named; `quantize` rewrites it with the priors.
final class AlignmentPriorTests: XCTestCase {
    /// Two tiny random sets of one shape (seeds 0 and 1): the second's top prior stands in for a guided copy of the first's.
    func makeSets(_ dir: String) throws {
        for (seed, name) in [(0, "set"), (1, "other")] {
            let r = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "\(seed)", "-o", dir + "/" + name])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
    }

    func testTheLyricsAreTimedByTheAlignmentPriorAndSampledByTheTopPrior() throws {
        let dir = temporaryFolder(self)
        try makeSets(dir)
        let fm = FileManager.default
        let sampledBefore = try CLI.run(["sample", "--model", dir + "/set", "--genre", "jazz", "--artist", RandomModelSet.artists[0],
                                         "--lyrics", ExportCommandTests.lyrics, "--seconds", "4", "-o", dir + "/before"])
        XCTAssertEqual(sampledBefore.status, 0, sampledBefore.stderr)
        try fm.copyItem(atPath: dir + "/other/prior_level_2", toPath: dir + "/set/" + AlignmentPrior.folderName)

        let info = try CLI.run(["info", dir + "/set"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("lyrics timed by alignment_prior: layer"), info.stdout)

        let sampled = try CLI.run(["sample", "--model", dir + "/set", "--genre", "jazz", "--artist", RandomModelSet.artists[0],
                                   "--lyrics", ExportCommandTests.lyrics, "--seconds", "4", "-o", dir + "/s"])
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        // Sampling is the top prior's alone: the same codes as before the member was added.
        let (beforeFolder, beforeDoc) = try SessionFolder.open(dir + "/before")
        let (folder, document) = try SessionFolder.open(dir + "/s")
        XCTAssertEqual(try folder.loadCodes(for: document, levels: 3)[2]?.values, try beforeFolder.loadCodes(for: beforeDoc, levels: 3)[2]?.values)

        let r = try CLI.run(["export", dir + "/s"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let exported = try XCTUnwrap(try SessionAlignment.load(folder)).samples[0]
        XCTAssertEqual(exported.method, "attention")
        // The timing is the one the other prior's attention gives on these codes, not the top prior's own.
        let withAligner = try ModelSet.load(dir + "/set")
        XCTAssertNotNil(withAligner.alignmentPrior)
        // The studio's karaoke times a kept song in passing the same way (a session of the same codes, not timed yet).
        let studio = try StudioSession.open(dir + "/before", models: withAligner)
        XCTAssertEqual(try studio.timedLyrics(models: withAligner), exported)
        studio.close()
        try fm.removeItem(atPath: dir + "/set/" + AlignmentPrior.folderName)
        let plain = try ModelSet.load(dir + "/set")
        XCTAssertNil(plain.alignmentPrior)
        let own = try SessionAlignment.compute(folder: folder, document: document, models: plain).samples[0]
        XCTAssertNotEqual(own.characters.map(\.weight), exported.characters.map(\.weight))
        try fm.removeItem(atPath: dir + "/set/prior_level_2")
        try fm.copyItem(atPath: dir + "/other/prior_level_2", toPath: dir + "/set/prior_level_2")
        let asTop = try SessionAlignment.compute(folder: folder, document: document, models: try ModelSet.load(dir + "/set")).samples[0]
        XCTAssertEqual(asTop, exported)
    }

    func testAnAlignmentPriorThatDoesNotFitTheTopPriorIsRefusedWithItsFile() throws {
        let dir = temporaryFolder(self)
        try makeSets(dir)
        let fm = FileManager.default
        let member = dir + "/set/" + AlignmentPrior.folderName
        try fm.copyItem(atPath: dir + "/other/prior_level_2", toPath: member)
        // Another artist list: the same id would name someone else.
        let artists = member + "/" + LabelVocabulary.artistsFileName
        let text = try String(contentsOfFile: artists, encoding: .utf8)
        try (text + "someone new;\(text.split(separator: "\n").count + 1)\n").write(toFile: artists, atomically: true, encoding: .utf8)
        var r = try CLI.run(["info", dir + "/set"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(artists) && r.stderr.contains("differs from the top prior's artist_ids.txt"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)

        // Another window length: the windows it would read are not the top prior's.
        try fm.removeItem(atPath: member)
        try fm.copyItem(atPath: dir + "/other/prior_level_2", toPath: member)
        let configPath = member + "/config.json"
        let config = try ModelConfig.load(folder: member)
        try ModelConfig(kind: config.kind, hps: config.hps.with(["n_ctx": try config.hps.int("n_ctx") * 2]),
                        weightFormat: config.weightFormat).write(folder: member)
        r = try CLI.run(["sample", "--model", dir + "/set", "--genre", "jazz", "--seconds", "1", "-o", dir + "/s"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(configPath) && r.stderr.contains("n_ctx"), r.stderr)
        XCTAssertFalse(fm.fileExists(atPath: dir + "/s/session.json"))
    }

    func testQuantizeRewritesTheAlignmentPriorWithThePriors() throws {
        let dir = temporaryFolder(self)
        try makeSets(dir)
        try FileManager.default.copyItem(atPath: dir + "/other/prior_level_2", toPath: dir + "/set/" + AlignmentPrior.folderName)
        let r = try CLI.run(["quantize", dir + "/set", "--to", "q8", "-o", dir + "/q8"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let set = try ModelSet.load(dir + "/q8")
        XCTAssertEqual(try ModelConfig.load(folder: dir + "/q8/" + AlignmentPrior.folderName).weightFormat, .q8)
        XCTAssertNotNil(set.alignmentPrior)
        // A set that ships its alignment prior packed (the bundled one does) quantizes its priors and keeps that one.
        let fm = FileManager.default
        try fm.removeItem(atPath: dir + "/set/" + AlignmentPrior.folderName)
        try fm.copyItem(atPath: dir + "/q8/" + AlignmentPrior.folderName, toPath: dir + "/set/" + AlignmentPrior.folderName)
        let q4 = try CLI.run(["quantize", dir + "/set", "--to", "q4", "-o", dir + "/q4"])
        XCTAssertEqual(q4.status, 0, q4.stderr)
        XCTAssertEqual(try ModelConfig.load(folder: dir + "/q4/prior_level_2").weightFormat, .q4)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/q4/\(AlignmentPrior.folderName)/weights.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/q8/\(AlignmentPrior.folderName)/weights.safetensors")))
        XCTAssertNotNil(try ModelSet.load(dir + "/q4").alignmentPrior)
    }
}
