import Foundation
import JukeboxCore
import XCTest
@testable import StudioKit

final class RecentSessionsTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "studio-recent-" + UUID().uuidString
        let path = folder
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    }

    func entry(_ path: String, seconds: Double = 1) -> RecentSession {
        RecentSession(path: path, genre: "folk", artist: "nova lark", keptSeconds: seconds, savedAt: "2026-11-26T12:00:00Z")
    }

    /// A folder with a session.json, so the entry is not marked missing.
    func makeSession(_ name: String) throws -> String {
        let path = folder + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: path + "/session.json"))
        return path
    }

    func testTheListLivesUnderTheStateFolder() {
        XCTAssertEqual(RecentSessionsFile.standard(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]).path, "/s/jukebox/recent.json")
        XCTAssertEqual(RecentSessionsFile.standard(environment: ["HOME": "/h"]).path, "/h/.local/state/jukebox/recent.json")
        // The spec ignores a relative XDG_STATE_HOME.
        XCTAssertEqual(RecentSessionsFile.standard(environment: ["XDG_STATE_HOME": "rel", "HOME": "/h"]).path,
                       "/h/.local/state/jukebox/recent.json")
    }

    func testNewestFirstOneLinePerFolderAndBounded() throws {
        let file = RecentSessionsFile(path: folder + "/state/jukebox/recent.json")
        XCTAssertEqual(file.load().sessions, [])
        let a = try makeSession("a"), b = try makeSession("b")
        try file.record(entry(a))
        try file.record(entry(b))
        try file.record(entry(a + "/./", seconds: 7))
        let list = file.load()
        XCTAssertNil(list.problem)
        XCTAssertEqual(list.sessions.map(\.path), [a + "/./", b])
        XCTAssertEqual(list.sessions.first?.keptSeconds, 7)
        for i in 0..<(RecentSessionsFile.limit + 3) { try file.record(entry(folder + "/gone-\(i)")) }
        let full = file.load().sessions
        XCTAssertEqual(full.count, RecentSessionsFile.limit)
        XCTAssertEqual(full.first?.path, folder + "/gone-\(RecentSessionsFile.limit + 2)")
        XCTAssertTrue(full.allSatisfy(\.missing), "folders without a session.json are marked missing")
    }

    func testADamagedListIsMovedAsideAndReported() throws {
        let file = RecentSessionsFile(path: folder + "/recent.json")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("[{\"path\": ".utf8).write(to: URL(fileURLWithPath: file.path))
        let (sessions, problem) = file.load()
        XCTAssertEqual(sessions, [])
        XCTAssertEqual(problem, "the recent-sessions list is damaged; moved aside to \(file.path).damaged")
        XCTAssertEqual(try String(contentsOfFile: file.path + ".damaged", encoding: .utf8), "[{\"path\": ")
        // The next record starts a fresh, whole list.
        XCTAssertNil(try file.record(entry(try makeSession("c"))))
        XCTAssertEqual(file.load().sessions.count, 1)
    }
}
