import JukeboxCore
import XCTest
@testable import StudioKit

/// Audition, presets and co-composition together: the windows decoded while a round of candidates
/// is drawn become renders, each engine job lists its own, candidates play their own codes, and
/// Ctrl-O (open a session) and Ctrl-L / Ctrl-P (presets) do not step on each other.
final class AuditionInCoCompositionTests: XCTestCase {
    /// A top-level window decoded while the round is drawn (one audio row per candidate).
    let roundRender: StudioMessage = .engine(.audioDecoded(level: 2, samples: 0..<38912, audio: [[0.1], [0.2], [0.3]]))

    func testRendersOfARoundAreListedAndEachJobStartsAfresh() throws {
        var s = try studio()
        var engine = EngineScript()
        send(&s, [.key(.ctrl("r")), roundRender])
        XCTAssertEqual(s.renders, [RenderInfo(level: 2, samples: 0..<38912)])
        send(&s, engine.draw([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
        XCTAssertEqual(s.screen, .candidates)
        XCTAssertEqual(s.renders.count, 1, "the round's render stays listed while its candidates are chosen")
        // The lanes list it; Enter there plays it.
        send(&s, [.key(.escape)])
        XCTAssertEqual(s.screen, .lanes)
        XCTAssertEqual(send(&s, [.key(.enter)]), [.playRender(level: 2, samples: 0..<38912)])
        // A candidate plays its own codes (Space on the candidates screen).
        send(&s, [.key(.tab), .key(.down)])
        XCTAssertEqual(send(&s, [.key(.char(" "))]).first, .play(level: 2, range: 0..<3, candidate: 1))

        // Resample, keep and undo each start a job whose renders replace the last round's.
        XCTAssertEqual(send(&s, [.key(.char("r"))]), [.resample])
        XCTAssertTrue(s.renders.isEmpty)
        send(&s, [roundRender] + engine.draw([[10, 11, 12], [13, 14, 15], [16, 17, 18]]))
        XCTAssertEqual(send(&s, [.key(.enter)]), [.keepCandidate(0)])
        XCTAssertTrue(s.renders.isEmpty)
        send(&s, engine.keep(0) + [roundRender] + engine.draw([[20], [21], [22]]))
        XCTAssertEqual(s.renders.count, 1)
        XCTAssertEqual(send(&s, [.key(.char("u"))]), [.undo])
        XCTAssertTrue(s.renders.isEmpty)
        send(&s, engine.undo() + engine.draw([[30, 31, 32], [33, 34, 35], [36, 37, 38]]))

        // Upsampling lists the lower levels' windows as they are decoded.
        send(&s, [.key(.enter)] + engine.keep(0) + [.engineIdle("the song is complete (0.1 s kept): Ctrl-U upsamples it")])
        XCTAssertEqual(send(&s, [.key(.ctrl("u"))]), [.upsample])
        XCTAssertTrue(s.renders.isEmpty)
        send(&s, [.engine(.audioDecoded(level: 1, samples: 0..<16384, audio: [[0.4]])),
                  .engine(.audioDecoded(level: 0, samples: 0..<4096, audio: [[0.5]]))])
        XCTAssertEqual(s.renders.map { $0.title(levels: 3, sampleRate: 44100) },
                       ["L1 middle refined 0:00.00-0:00.37", "L0 bottom final 0:00.00-0:00.09"])
    }

    func testOpenSessionAndPresetKeysDoNotClash() throws {
        var s = try studio()
        XCTAssertEqual(send(&s, [.key(.ctrl("o"))]), [.listSessions])
        XCTAssertEqual(s.screen, .open)
        XCTAssertNil(s.presetMenu)
        send(&s, [.key(.escape)])
        XCTAssertEqual(s.screen, .composer)

        XCTAssertEqual(send(&s, [.key(.ctrl("l"))]), [.listPresets])
        XCTAssertEqual(s.presetMenu?.mode, .load)
        // Ctrl-O from the preset menu goes to the sessions and closes the menu, so it does not come back.
        XCTAssertEqual(send(&s, [.key(.ctrl("o"))]), [.listSessions])
        XCTAssertEqual(s.screen, .open)
        XCTAssertNil(s.presetMenu)
        send(&s, [.key(.escape)])
        XCTAssertEqual(s.screen, .composer)

        XCTAssertEqual(send(&s, [.key(.ctrl("p"))]), [.listPresets])
        XCTAssertEqual(s.presetMenu?.mode, .save)
    }

    /// The help opens on the page of the screen below it and turns with ← → (Tab / Shift-Tab too).
    func testHelpOpensOnThePageOfTheScreenBelow() throws {
        var s = try studio()
        send(&s, [.key(.f1)])
        XCTAssertEqual(s.helpPage, 0)
        send(&s, [.key(.tab)])
        XCTAssertEqual(s.helpPage, 1)
        send(&s, [.key(.backTab), .key(.escape), .key(.ctrl("r")), .key(.char("?"))])
        XCTAssertEqual(s.underHelp, .lanes)
        XCTAssertEqual(s.helpPage, 1)
        XCTAssertTrue(render(s).text.contains("page 2/2"))
    }
}
