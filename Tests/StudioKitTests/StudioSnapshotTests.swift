import JukeboxCore
import XCTest
@testable import StudioKit

final class StudioSnapshotTests: XCTestCase {
    func testComposer() throws {
        var s = try studio()
        send(&s, type("pop rock") + [.key(.escape), .key(.tab)] + type("The Beatles"))
        send(&s, [.key(.escape), .key(.backTab), .key(.backTab)])
        XCTAssertEqual(s.focus, .lyrics)
        send(&s, type("Café au lait, ça va?\nNaïve 日本 words…"))
        assertSnapshot(render(s), "composer")
    }

    /// With a set whose top prior keeps a bar clock, the artist line says the tempo it will keep: the
    /// artist's from the set's corpus, the middle one for an artist the set does not know; none for a name
    /// the picker is still completing.
    func testComposerShowsTheBarClocksTempo() throws {
        var s = try studio()
        XCTAssertNil(s.tempoHint, "no clock, no tempo")
        s.barClockTempos = SamplingDefaults(top: 0.9, upsamplers: 0.8, artistTempos: ["the_beatles": 124, "the_doors": 97, "bob_dylan": 80])
        // While the picker completes a partly typed name, no tempo: it would be the unknown artist's.
        send(&s, [.key(.tab)] + type("The Bea"))
        XCTAssertEqual(s.picker?.results.isEmpty, false, "the picker offers names")
        var artistLine = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)[3]
        XCTAssertFalse(artistLine.contains("bar clock"), String(artistLine))
        send(&s, type("tles"))
        artistLine = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)[3]
        XCTAssertTrue(artistLine.contains("The Beatles") && artistLine.contains("bar clock at 124 bpm"), String(artistLine))
        send(&s, Array(repeating: StudioMessage.key(.backspace), count: 11) + type("Nobody"))
        artistLine = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)[3]
        XCTAssertTrue(artistLine.contains("bar clock at 97 bpm"), String(artistLine))
    }

    func testComposerPicker() throws {
        var s = try studio()
        send(&s, type("be") + [.key(.tab)] + type("beat"))
        assertSnapshot(render(s), "composer-picker")
    }

    func testLanesWhileSampling() throws {
        var s = try studio()
        send(&s, type("pop") + [.key(.escape), .key(.ctrl("r"))])
        send(&s, samplingEvents())
        assertSnapshot(render(s), "lanes")
    }

    /// Segment 1 kept after a resample, segment 2 kept, undone and decided again, segment 3 being decided.
    func testCandidatesWithHistory() throws {
        var s = try studio()
        var engine = EngineScript()
        func stretch(_ k: Int) -> [Int] { (0..<152).map { ($0 * k + k * 29) % 2048 } }
        send(&s, [.key(.ctrl("r"))] + samplingEvents())
        send(&s, engine.draw([stretch(7), stretch(5), stretch(1)]) + [.key(.char("r"))])
        send(&s, engine.draw([stretch(3), stretch(6), stretch(32)]) + [.key(.down), .key(.down), .key(.enter)] + engine.keep(2))
        send(&s, engine.draw([stretch(11), stretch(13)]) + [.key(.enter)] + engine.keep(0))
        send(&s, engine.draw([stretch(17), stretch(19)]) + [.key(.char("u"))] + engine.undo())
        send(&s, engine.draw([stretch(23), stretch(29)]) + [.key(.down), .key(.enter)] + engine.keep(1))
        send(&s, engine.draw([stretch(31), stretch(37), stretch(41)]) + [.key(.down)])
        assertSnapshot(render(s), "candidates")
    }

    func testOpenSession() throws {
        var s = try studio()
        s.sessionPath = "./jukebox-session-20261126-120000"
        var gone = RecentSession(path: "/home/ann/songs/old-blues", genre: "blues", artist: "", keptSeconds: 8,
                                 savedAt: "2026-11-20T18:30:00Z")
        gone.missing = true
        let list = [
            RecentSession(path: "/home/ann/songs/harbour", genre: "folk", artist: "nova lark", keptSeconds: 42,
                          savedAt: "2026-11-26T11:58:07Z"),
            RecentSession(path: "/home/ann/songs/night drive", genre: "electronic", artist: "the pale static",
                          keptSeconds: 125, savedAt: "2026-11-25T22:04:51Z"),
            gone,
        ]
        send(&s, [.key(.ctrl("o")), .recentSessions(list, problem: nil), .key(.down)])
        assertSnapshot(render(s), "open-session")
    }

    func testHelp() throws {
        var s = try studio()
        send(&s, [.key(.f1)])
        assertSnapshot(render(s), "help")
        send(&s, [.key(.right)])
        assertSnapshot(render(s), "help-2")
    }

    /// The overlay draws only the rows its box holds: at 80×24 every line of every page must be drawn.
    func testEveryHelpLineFitsItsPage() throws {
        var s = try studio()
        XCTAssertEqual(s.width, 80)
        XCTAssertEqual(s.height, 24)
        send(&s, [.key(.f1)])
        for page in helpPages.indices {
            s.helpPage = page
            let shown = render(s).text
            for section in helpPages[page].left + helpPages[page].right {
                XCTAssertTrue(shown.contains(section.title), "page \(page + 1): \(section.title)\n\(shown)")
                for k in section.keys {
                    XCTAssertTrue(shown.contains(k.key + String(repeating: " ", count: max(1, 11 - k.key.count)) + k.what),
                                  "page \(page + 1): \(k.key) \(k.what)\n\(shown)")
                }
            }
        }
    }

    func testTooSmall() throws {
        var s = try studio()
        send(&s, [.resize(width: 60, height: 20)])
        assertSnapshot(render(s), "too-small")
    }
}
