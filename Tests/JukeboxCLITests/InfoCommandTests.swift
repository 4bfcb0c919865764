import Foundation
import XCTest

final class InfoCommandTests: XCTestCase {
    func testInfoDescribesAPriorFolder() throws {
        let folder = try CLI.fixture("prior_top_labels")
        let r = try CLI.run(["info", folder, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        let info = try XCTUnwrap(json?.first)
        XCTAssertEqual(info["kind"] as? String, "prior")
        XCTAssertEqual(info["level"] as? String, "2")
        // The parameter count is the sum of the stored tensors' sizes.
        XCTAssertGreaterThan(info["parameters"] as? Int ?? 0, 10_000)
    }

    func testInfoOnAFolderThatIsNoModelFailsCleanly() throws {
        let dir = temporaryFolder(self)
        assertCleanFailure(try CLI.run(["info", dir]), naming: dir)
        assertCleanFailure(try CLI.run(["info", dir + "/absent"]), naming: dir + "/absent")
    }

    func testInfoOnAConfigMissingItsKindFailsCleanly() throws {
        let dir = temporaryFolder(self)
        try #"{"hps": {}}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        assertCleanFailure(try CLI.run(["info", dir]), naming: dir + "/config.json")
    }
}
