import JukeboxCore
import XCTest
@testable import StudioKit

/// The open screen and a reopened session as update steps.
final class OpenSessionUpdateTests: XCTestCase {
    func recent() -> [RecentSession] {
        var gone = RecentSession(path: "/music/gone", genre: "jazz", artist: "", keptSeconds: 3, savedAt: "2026-11-24T09:00:00Z")
        gone.missing = true
        return [RecentSession(path: "/music/harbour", genre: "folk", artist: "nova lark", keptSeconds: 42,
                              savedAt: "2026-11-26T11:58:07Z"), gone]
    }

    func testOpenScreenListsPicksAndReturns() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))])
        XCTAssertEqual(send(&s, [.key(.ctrl("o"))]), [.listSessions])
        XCTAssertEqual(s.screen, .open)
        send(&s, [.recentSessions(recent(), problem: nil)])
        XCTAssertTrue(render(s).text.contains("2026-11-26 11:58  0:42 kept  folk · nova lark"))
        XCTAssertEqual(send(&s, [.key(.enter)]), [.openSession("/music/harbour")])
        s.dirty = true
        XCTAssertEqual(send(&s, [.key(.enter)]), [], "unsaved work is not dropped by opening another session")
        XCTAssertEqual(s.status, "unsaved work here: Ctrl-S first, then open")
        send(&s, [.saved])
        XCTAssertEqual(send(&s, [.key(.down), .key(.down), .key(.enter)]), [], "a missing session is not opened")
        XCTAssertEqual(s.status, "/music/gone is gone")
        // Candidates arriving meanwhile wait beneath the open screen.
        send(&s, [.candidatesReady([[1], [2]])])
        XCTAssertEqual(s.screen, .open)
        send(&s, [.key(.escape)])
        XCTAssertEqual(s.screen, .candidates, "back to what came while the list was up")
    }

    func testClicksOnTheOpenScreen() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("o")), .recentSessions(recent(), problem: nil)])
        let rows = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)
        let harbour = try XCTUnwrap(rows.firstIndex { $0.contains("/music/harbour") })
        XCTAssertEqual(send(&s, [.click(x: 3, y: harbour + 1, double: false)]), [])
        XCTAssertEqual(s.selectedRecent, 1)
        XCTAssertEqual(send(&s, [.click(x: 3, y: harbour, double: true)]), [.openSession("/music/harbour")])
    }

    func testADamagedListIsReportedNotFatal() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("o")), .recentSessions([], problem: "recent sessions: /x/recent.json is damaged")])
        XCTAssertEqual(s.status, "recent sessions: /x/recent.json is damaged")
        XCTAssertTrue(render(s).text.contains("no recent sessions yet"))
        XCTAssertEqual(send(&s, [.key(.enter)]), [])
    }

    func testAnOpenedSessionFillsTheComposerLanesAndHistory() throws {
        var s = try studio()
        var document = SessionDocument(
            prompt: SessionPrompt(artist: "bob dylan", genre: "blues", lyrics: "down by the water", totalSeconds: 90,
                                  sampleSeconds: 6, temperatures: [0.97, 0.95, 0.9], seed: 17, samples: 1),
            modelSet: "/models/set", settings: [SessionKeys.candidates: "4"], seeds: [17], rngStates: [[17]])
        document.history = [WindowRecord(level: 2, window: 0, start: 0, length: 3, candidates: [0, 1, 2, 3], kept: 2)]
        let composition = Composition(kept: [9, 8, 7], log: document.history, level: 2, canUndo: true)
        send(&s, [.sessionOpened(path: "/music/blues", document: document, composition: composition)])
        XCTAssertEqual(s.promptFields, PromptFields(genre: "blues", artist: "bob dylan", lyrics: "down by the water", seconds: 6,
                                                    totalSeconds: 90, temperatures: [0.97, 0.95, 0.9], seed: 17, candidates: 4))
        XCTAssertEqual(s.screen, .candidates)
        XCTAssertFalse(s.dirty)
        XCTAssertEqual(Array(s.lanes[2].codes.prefix(3)), [9, 8, 7])
        let screen = render(s).text
        XCTAssertTrue(screen.contains("segment 1: kept 3 of 4 · 1 round · 3 discarded"), screen)
        XCTAssertTrue(screen.contains("Segment 2  round 1  3 codes kept"), screen)
        XCTAssertEqual(send(&s, [.key(.char("u"))]), [.undo], "undo reaches back into the reopened session")
    }

    /// Candidates drawn but not yet chosen when the session was left come back on the table, ready to keep.
    func testAnOpenedSessionWithAnUndecidedRoundShowsItsCandidates() throws {
        var s = try studio()
        var document = SessionDocument(
            prompt: SessionPrompt(artist: "bob dylan", genre: "blues", lyrics: "", totalSeconds: 90, sampleSeconds: 6,
                                  temperatures: [0.97, 0.95, 0.9], seed: 17, samples: 1),
            modelSet: "/models/set", settings: [SessionKeys.candidates: "3"], seeds: [17], rngStates: [[17]])
        document.history = [WindowRecord(level: 2, window: 0, start: 0, length: 3, candidates: [0, 1, 2], kept: 2),
                            WindowRecord(level: 2, window: 1, start: 3, length: 2, candidates: [3, 4, 5], kept: nil)]
        let composition = Composition(kept: [9, 8, 7], log: document.history, level: 2, canUndo: true,
                                      pending: [[1, 1], [2, 2], [3, 3]])
        send(&s, [.sessionOpened(path: "/music/blues", document: document, composition: composition)])
        XCTAssertEqual(s.screen, .candidates)
        XCTAssertEqual(s.candidates, [[1, 1], [2, 2], [3, 3]])
        XCTAssertTrue(s.status.hasSuffix("1 segment kept · 3 candidates waiting"), s.status)
        XCTAssertTrue(render(s).text.contains("segment 2: deciding"), render(s).text)
        XCTAssertEqual(send(&s, [.key(.down), .key(.enter)]), [.keepCandidate(1)])
    }
}
