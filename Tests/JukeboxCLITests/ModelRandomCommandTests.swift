import Foundation
import XCTest

/// `jukebox model random` writes a model set that `jukebox info` describes and checks.
final class ModelRandomCommandTests: XCTestCase {
    func testRandomSetIsWrittenAndDescribed() throws {
        let set = temporaryFolder(self) + "/tiny"
        let r = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "4", "-o", set])
        XCTAssertEqual(r.status, 0, r.stderr)
        for member in ["vqvae", "prior_level_2", "prior_level_1", "prior_level_0"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(set)/\(member)/weights.safetensors"), member)
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(set)/\(member)/config.json"), member)
        }
        let info = try CLI.run(["info", set])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("model set, priors for levels 2, 1, 0 (complete)"), info.stdout)
        XCTAssertTrue(info.stdout.contains("lyrics: single encoder-decoder"), info.stdout)
        XCTAssertTrue(info.stdout.contains("artist_ids.txt: 25 entries"), info.stdout)

        let json = try CLI.run(["info", set, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let members = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(members.map { $0["kind"] as? String }, ["vqvae", "prior", "prior", "prior"])
        XCTAssertEqual(members.dropFirst().map { $0["level"] as? String }, ["2", "1", "0"])

        // Writing over it is refused, and the set is left as it was.
        assertCleanFailure(try CLI.run(["model", "random", "--preset", "tiny", "-o", set]), naming: set)
        XCTAssertEqual(try CLI.run(["info", set]).status, 0)
    }

    func testTopLevelOnlySetAndBrokenSet() throws {
        let set = temporaryFolder(self) + "/s"
        XCTAssertEqual(try CLI.run(["model", "random", "-o", set]).status, 0)
        try FileManager.default.removeItem(atPath: set + "/prior_level_0")
        try FileManager.default.removeItem(atPath: set + "/prior_level_1")
        let top = try CLI.run(["info", set])
        XCTAssertEqual(top.status, 0, top.stderr)
        XCTAssertTrue(top.stdout.contains("priors for levels 2 (top level only"), top.stdout)

        try FileManager.default.removeItem(atPath: set + "/prior_level_2/genre_ids.txt")
        assertCleanFailure(try CLI.run(["info", set]), naming: set + "/prior_level_2")
    }

    func testUnknownPresetFailsCleanly() throws {
        let set = temporaryFolder(self) + "/s"
        assertCleanFailure(try CLI.run(["model", "random", "--preset", "huge", "-o", set]), naming: "--preset")
        XCTAssertFalse(FileManager.default.fileExists(atPath: set))
    }
}
