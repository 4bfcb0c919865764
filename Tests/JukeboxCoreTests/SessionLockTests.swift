import Foundation
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// One writer a session, readers only while no writer: the kernel's lock, named in the refusal.
final class SessionLockTests: XCTestCase {
    func folder() -> String {
        let path = NSTemporaryDirectory() + "jukebox-lock-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testASecondWriterIsRefusedNamingTheFirstUntilItLetsGo() throws {
        let path = folder()
        var first: SessionLock? = try SessionLock.acquire(path, .write, creating: true, holder: "jukebox-studio (pid 77)")
        XCTAssertThrowsError(try SessionLock.acquire(path, .write)) { error in
            XCTAssertEqual("\(error)", "\(path): the session is open in jukebox-studio (pid 77); close it there first, or use another folder")
        }
        XCTAssertThrowsError(try SessionLock.acquire(path, .read), "a reader waits for no writer: it is refused")
        first = nil
        XCTAssertNil(first)
        let second = try SessionLock.acquire(path, .write, holder: "jukebox (pid 78)")
        second.release()
        XCTAssertEqual(try String(contentsOfFile: path + "/" + SessionLock.fileName, encoding: .utf8), "", "a writer leaving takes its name")
    }

    func testReadersShareAndKeepWritersOut() throws {
        let path = folder()
        let a = try SessionLock.acquire(path, .read, creating: true), b = try SessionLock.acquire(path, .read)
        XCTAssertThrowsError(try SessionLock.acquire(path, .write)) { XCTAssertTrue("\($0)".contains("is open in"), "\($0)") }
        a.release()
        b.release()
        XCTAssertNoThrow(try SessionLock.acquire(path, .write))
    }

    func testAMissingFolderIsMadeOnlyWhenAsked() throws {
        let path = folder()
        XCTAssertThrowsError(try SessionLock.acquire(path, .read)) { XCTAssertEqual("\($0)", "\(path): no such session folder") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try "x".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SessionLock.acquire(path, .write, creating: true)) { XCTAssertTrue("\($0)".contains("not a folder")) }
    }
}
