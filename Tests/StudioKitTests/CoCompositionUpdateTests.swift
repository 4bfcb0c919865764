import JukeboxCore
import XCTest
@testable import StudioKit

/// Keep, resample, undo and upsample as update steps: the keys give effects, the engine's reports
/// (EngineScript) give the state the candidates view and the lanes show.
final class CoCompositionUpdateTests: XCTestCase {
    func testKeepResampleUndoFollowTheEngine() throws {
        var s = try studio()
        var engine = EngineScript()
        XCTAssertEqual(send(&s, [.key(.ctrl("r"))]).count, 1)
        send(&s, engine.draw([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
        XCTAssertEqual(s.screen, .candidates)
        XCTAssertFalse(s.sampling)
        XCTAssertTrue(render(s).text.contains("Segment 1  round 1  positions 0–3"))

        XCTAssertEqual(send(&s, [.key(.char("r"))]), [.resample])
        XCTAssertTrue(s.sampling)
        XCTAssertEqual(s.screen, .lanes)
        XCTAssertEqual(send(&s, [.key(.tab), .key(.char("r")), .key(.enter)]), [], "nothing to keep while sampling")
        send(&s, engine.draw([[10, 11, 12], [13, 14, 15], [16, 17, 18]]))
        XCTAssertTrue(render(s).text.contains("Segment 1  round 2"))

        XCTAssertEqual(send(&s, [.key(.down), .key(.down), .key(.enter)]), [.keepCandidate(2)])
        XCTAssertTrue(s.dirty && s.sampling)
        send(&s, engine.keep(2))
        XCTAssertFalse(s.dirty, "the autosave answered")
        XCTAssertEqual(s.lanes[2].codes, [16, 17, 18], "the top lane shows the kept line")
        XCTAssertEqual(s.lanes[2].done, 3)

        send(&s, engine.draw([[20, 21], [22, 23], [24, 25]]))
        let screen = render(s).text
        XCTAssertTrue(screen.contains("Segment 2  round 1  positions 3–5"), screen)
        XCTAssertTrue(screen.contains("segment 1: kept 3 of 3 · 2 rounds · 5 discarded"), screen)
        XCTAssertTrue(screen.contains("segment 2: deciding · 1 round · 0 discarded"), screen)

        XCTAssertEqual(send(&s, [.key(.char("u"))]), [.undo])
        XCTAssertTrue(s.dirty)
        send(&s, engine.undo())
        send(&s, engine.draw([[30, 31, 32], [33, 34, 35], [36, 37, 38]]))
        let after = render(s).text
        XCTAssertTrue(after.contains("Segment 1  round 3"), after)
        XCTAssertTrue(after.contains("segment 1: undone (was 3 of 3) · 3 rounds · 6 discarded"), after)
        XCTAssertEqual(send(&s, [.key(.char("u"))]), [], "nothing left to undo")
        XCTAssertEqual(s.status, "nothing to undo")
    }

    func testUpsampleNeedsAKeptLineAndAFreeEngine() throws {
        var s = try studio()
        var engine = EngineScript()
        send(&s, [.key(.ctrl("r"))])
        send(&s, engine.draw([[1, 2], [3, 4]]))
        XCTAssertEqual(send(&s, [.key(.ctrl("u"))]), [])
        XCTAssertEqual(s.status, "nothing kept to upsample yet")
        send(&s, [.key(.enter)] + engine.keep(0))
        XCTAssertEqual(send(&s, [.key(.ctrl("u"))]), [], "the next round is being drawn")
        send(&s, [.engineIdle("the song is complete (0.1 s kept): Ctrl-U upsamples it")])
        XCTAssertFalse(s.sampling)
        XCTAssertEqual(send(&s, [.key(.ctrl("u"))]), [.upsample])
        XCTAssertTrue(s.upsampling && s.sampling)
        XCTAssertEqual(s.screen, .lanes)
        XCTAssertEqual(Array(s.lanes[2].codes.prefix(2)), [1, 2], "the kept line stays in the top lane")
        send(&s, [.engine(.tokensSampled(level: 1, samples: 0..<1, positions: 0..<2, values: [5, 6])), .saved,
                  .engineIdle("upsampled 0.1 s")])
        XCTAssertEqual(Array(s.lanes[1].codes.prefix(2)), [5, 6])
        XCTAssertFalse(s.upsampling || s.sampling)
        XCTAssertEqual(s.status, "upsampled 0.1 s")
    }

    func testCancelledRoundLeavesTheKeptLine() throws {
        var s = try studio()
        var engine = EngineScript()
        send(&s, [.key(.ctrl("r"))] + engine.draw([[1, 2], [3, 4]]) + [.key(.enter)] + engine.keep(1))
        XCTAssertEqual(send(&s, [.key(.escape)]), [.cancelSampling])
        send(&s, [.engineIdle("cancelled: the kept line is unchanged")])
        XCTAssertFalse(s.sampling)
        XCTAssertEqual(Array(s.lanes[2].codes.prefix(2)), [3, 4])
        // Ctrl-R in the composer goes on from the kept line instead of starting over.
        send(&s, [.key(.escape)])
        XCTAssertEqual(s.screen, .composer)
        send(&s, [.key(.ctrl("r"))])
        XCTAssertEqual(s.status, "sampling the next stretch (the session's prompt)…")
        XCTAssertEqual(Array(s.lanes[2].codes.prefix(2)), [3, 4])
    }

    func testClicksPickAndDoubleClicksKeep() throws {
        var s = try studio()
        var engine = EngineScript()
        send(&s, [.key(.ctrl("r"))] + engine.draw([[1, 2], [3, 4], [5, 6]]))
        let rows = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)
        let third = try XCTUnwrap(rows.firstIndex { $0.hasPrefix("   3  ") }, "candidate 3's row")
        XCTAssertEqual(send(&s, [.click(x: 10, y: third, double: false)]), [])
        XCTAssertEqual(s.selectedCandidate, 2)
        XCTAssertTrue(render(s).text.contains("> 3  "))
        XCTAssertEqual(send(&s, [.click(x: 10, y: third + 1, double: true), .click(x: 10, y: 1, double: true)]), [],
                       "clicks off the list do nothing")
        XCTAssertEqual(send(&s, [.click(x: 4, y: third - 2, double: true)]), [.keepCandidate(0)])
    }

    func testSegmentsFromALogWithOtherLevelsAndUndo() {
        // jukebox sample's log: every level's windows, one candidate each, all kept.
        let cli = Composition(kept: Array(repeating: 1, count: 24), log: [
            WindowRecord(level: 2, window: 0, start: 0, length: 16, candidates: [0], kept: 0),
            WindowRecord(level: 2, window: 1, start: 8, length: 16, candidates: [0], kept: 0),
            WindowRecord(level: 1, window: 0, start: 0, length: 64, candidates: [0], kept: 0),
        ], level: 2)
        XCTAssertEqual(cli.segments.map(\.line), ["segment 1: kept 1 of 1 · 1 round · 0 discarded",
                                                  "segment 2: kept 1 of 1 · 1 round · 0 discarded"])
        XCTAssertEqual(cli.keptSegments, 2)

        // Kept 2 of 2, then a second stretch kept, undone, and kept again from a new round.
        let log = [
            WindowRecord(level: 2, window: 0, start: 0, length: 4, candidates: [0, 1], kept: 1),
            WindowRecord(level: 2, window: 1, start: 4, length: 4, candidates: [2, 3], kept: 2),
            WindowRecord(level: 2, window: 1, start: 4, length: 4, candidates: [4, 5], kept: 5),
        ]
        let again = Composition(kept: Array(0..<8), log: log, level: 2, canUndo: true)
        XCTAssertEqual(again.segments.map(\.line), ["segment 1: kept 2 of 2 · 1 round · 1 discarded",
                                                    "segment 2: kept 2 of 2 · 2 rounds · 3 discarded · 1 undone"])
        XCTAssertEqual(again.roundsOfCurrentSegment, 0)
        let undone = Composition(kept: Array(0..<4), log: log, level: 2, canUndo: true)
        XCTAssertEqual(undone.keptSegments, 1)
        XCTAssertEqual(undone.roundsOfCurrentSegment, 2)
        XCTAssertFalse(undone.segments[1].isKept)
        XCTAssertEqual(undone.segments[1].undone, 2)
    }
}
