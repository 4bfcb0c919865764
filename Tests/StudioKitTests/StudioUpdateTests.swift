import JukeboxCore
import XCTest
@testable import StudioKit

final class StudioUpdateTests: XCTestCase {
    func testTypingAGenreFiltersThePicker() throws {
        var s = try studio()
        send(&s, type("jaz"))
        XCTAssertEqual(s.picker?.kind, .genre)
        XCTAssertEqual(s.picker?.results.first, "jazz")
        send(&s, [.key(.backspace), .key(.backspace), .key(.backspace)] + type("blu"))
        XCTAssertEqual(s.picker?.results.first, "blues")
        // v2 genres are words: the picker searches the word being typed.
        send(&s, type(" cou"))
        XCTAssertEqual(s.picker?.query, "cou")
        XCTAssertEqual(s.picker?.results.first, "country")
        // Without a vocabulary there is nothing to suggest.
        var bare = StudioState()
        send(&bare, type("jaz"))
        XCTAssertNil(bare.picker)
        XCTAssertEqual(bare.genre, "jaz")
    }

    func testEnterSelectsFromThePicker() throws {
        var s = try studio()
        send(&s, type("blu cou"))
        send(&s, [.key(.enter)])
        XCTAssertEqual(s.genre, "blu country")
        XCTAssertNil(s.picker)
        XCTAssertEqual(s.focus, .genre)
        send(&s, [.key(.tab)] + type("beat"))
        XCTAssertEqual(s.picker?.kind, .artist)
        let results = try XCTUnwrap(s.picker?.results)
        XCTAssertEqual(results.first, "the beatles")
        send(&s, [.key(.down), .key(.enter)])
        XCTAssertEqual(s.artist, results[1])
        // Escape closes the picker and keeps what was typed.
        send(&s, [.key(.backspace)])
        XCTAssertNotNil(s.picker)
        send(&s, [.key(.escape)])
        XCTAssertNil(s.picker)
        XCTAssertEqual(s.artist, String(results[1].dropLast()))
    }

    func testUnknownLyricCharactersAreFlagged() throws {
        var s = try studio()
        send(&s, [.key(.backTab)])
        XCTAssertEqual(s.focus, .lyrics)
        send(&s, type("Ça~ va\nok"))
        XCTAssertEqual(s.lyrics, "Ça~ va\nok")
        XCTAssertEqual(s.cleanedLyrics.droppedSummary.map { String($0.character) }, ["Ç", "~"])
        let grid = render(s)
        // The lyrics box starts on row 12, text at column 2: "Ça~ va".
        XCTAssertEqual(grid[2, 12].character, "Ç")
        XCTAssertEqual(grid[2, 12].role, .warning)
        XCTAssertEqual(grid[3, 12].role, .normal)
        XCTAssertEqual(grid[4, 12].role, .warning)
        XCTAssertTrue(grid.text.contains("not seen by the model: Ç×1 ~×1"))
        // Erasing the odd characters clears the warning.
        send(&s, Array(repeating: .key(.backspace), count: 9) + type("Ok"))
        XCTAssertTrue(s.cleanedLyrics.dropped.isEmpty)
        XCTAssertTrue(render(s).text.contains("every character reaches the model"))
    }

    func testStartingSamplingEmitsTheEffect() throws {
        var s = try studio()
        send(&s, type("pop") + [.key(.escape), .key(.tab)] + type("bob dylan") + [.key(.escape), .key(.tab)])
        XCTAssertEqual(s.focus, .seconds)
        send(&s, [.key(.backspace), .key(.backspace), .key(.char("3")), .key(.char("5")), .key(.tab), .key(.right)])
        XCTAssertEqual(s.seconds, 35)
        XCTAssertEqual(s.totalSeconds, 190)
        send(&s, [.key(.tab), .key(.left), .key(.left)])
        XCTAssertEqual(s.temperatures[2], 0.96, accuracy: 1e-9)
        send(&s, [.key(.tab), .key(.tab), .key(.tab)] + type("42") + [.key(.tab), .key(.char("5"))])
        XCTAssertEqual(s.seed, 42)
        XCTAssertEqual(s.candidateCount, 5)
        XCTAssertFalse(s.dirty)
        let effects = send(&s, [.key(.ctrl("r"))])
        XCTAssertEqual(effects, [.startSampling(PromptFields(genre: "pop", artist: "bob dylan", lyrics: "", seconds: 35,
                                                            totalSeconds: 190, temperatures: [0.99, 0.99, 0.96],
                                                            seed: 42, candidates: 5))])
        XCTAssertEqual(s.screen, .lanes)
        // Candidates in flight are not unsaved work: the runtime writes the session folder as it starts.
        XCTAssertTrue(s.sampling)
        XCTAssertFalse(s.dirty)
        // A second start while sampling does nothing; escape cancels.
        XCTAssertEqual(send(&s, [.key(.ctrl("r"))]), [])
        XCTAssertEqual(send(&s, [.key(.escape)]), [.cancelSampling])
        send(&s, [.engine(.cancelled)])
        XCTAssertFalse(s.sampling)
        send(&s, [.key(.escape)])
        XCTAssertEqual(s.screen, .composer)
    }

    func testEngineEventsFillTheLanes() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))] + samplingEvents())
        let top = s.lanes[2]
        XCTAssertEqual(top.total, 760)
        XCTAssertEqual(top.done, 380)
        XCTAssertEqual(top.windowStarts, [0, 152])
        XCTAssertEqual(top.currentWindow, 152..<456)
        // Row 0 of each batch is what the lane shows.
        XCTAssertEqual(top.codes[38], (0 * 97 + 38 * 13) % 2048)
        XCTAssertEqual(top.codes[379], (75 * 31) % 2048)
        XCTAssertEqual(top.codes[380], -1)
        XCTAssertEqual(s.lyricSpan, "Lanterns hum along the harbour\nWe sing until the tide comes in")
        // Events for levels the model lacks, or nonsense positions, are ignored rather than crashing.
        send(&s, [.engine(.tokensSampled(level: 7, samples: 0..<1, positions: 0..<1, values: [1])),
                  .engine(.tokensSampled(level: 1, samples: 0..<1, positions: 0..<4, values: [1])),
                  .engine(.progress(level: 1, done: 5, total: 10, tokensPerSecond: .nan, eta: .infinity))])
        XCTAssertEqual(s.lanes[1].codes.filter { $0 >= 0 }, [])
        XCTAssertEqual(s.lanes[1].tokensPerSecond, 0)
        _ = render(s)
        send(&s, [.engine(.levelFinished(level: 0))])
        XCTAssertFalse(s.sampling)
    }

    func testQuittingWithUnsavedWorkAsksFirst() throws {
        var clean = try studio()
        XCTAssertEqual(send(&clean, [.key(.ctrl("q"))]), [.quit(confirm: false)])

        var s = try studio()
        send(&s, [.key(.ctrl("r")), .candidatesReady([[1, 2], [3, 4]]), .key(.enter)])
        XCTAssertTrue(s.dirty, "a keep is unsaved until the engine's autosave answers")
        XCTAssertEqual(send(&s, [.key(.ctrl("q"))]), [])
        XCTAssertTrue(s.confirmingQuit)
        XCTAssertTrue(render(s).text.contains("y quit without saving"))
        // The engine goes on reporting while the question is asked; the question stays on screen.
        send(&s, [.engine(.audioDecoded(level: 2, samples: 0..<512, audio: [[0]])), .candidatesReady([[5, 6], [7, 8]])])
        XCTAssertTrue(s.confirmingQuit)
        XCTAssertTrue(render(s).text.contains("unsaved work: quit anyway? (y/n"), render(s).text)
        // Anything but y/n is ignored while asking; n stays.
        XCTAssertEqual(send(&s, [.key(.char("x")), .key(.char("n"))]), [])
        XCTAssertFalse(s.confirmingQuit)
        XCTAssertEqual(send(&s, [.key(.char("q")), .key(.char("y"))]), [.quit(confirm: true)])
        // After saving, quitting no longer asks.
        var saved = try studio()
        send(&saved, [.key(.ctrl("r")), .candidatesReady([[1, 2], [3, 4]]), .key(.enter)])
        XCTAssertEqual(send(&saved, [.key(.ctrl("s"))]), [.save])
        send(&saved, [.saved])
        XCTAssertEqual(send(&saved, [.key(.char("q"))]), [.quit(confirm: false)])
    }

    func testResizeShowsTooSmallAndBack() throws {
        var s = try studio()
        let normal = render(s).text
        send(&s, [.resize(width: 60, height: 20)])
        let small = render(s)
        XCTAssertEqual(small.width, 60)
        XCTAssertEqual(small.height, 20)
        XCTAssertTrue(small.text.contains("terminal too small"))
        XCTAssertTrue(small.text.contains("need 80×24, have 60×20"))
        send(&s, [.resize(width: 80, height: 23)])
        XCTAssertTrue(render(s).text.contains("terminal too small"))
        send(&s, [.resize(width: 80, height: 24)])
        XCTAssertEqual(render(s).text, normal)
        // Bigger terminals use the room: the footer sits on the last row.
        send(&s, [.resize(width: 120, height: 40)])
        let big = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(big.count, 40)
        XCTAssertTrue(big[39].hasPrefix("Tab field"))
    }

    func testHelpTogglesAndReturns() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))])
        send(&s, [.key(.char("?"))])
        XCTAssertEqual(s.screen, .help)
        // It opens on the page of the lanes (the screen below), and ← → turn the pages within bounds.
        XCTAssertEqual(s.helpPage, 1)
        let lanesPage = render(s).text
        XCTAssertTrue(lanesPage.contains("Lanes") && lanesPage.contains("Candidates"), lanesPage)
        send(&s, [.key(.right)])
        XCTAssertEqual(s.helpPage, 1)
        send(&s, [.key(.left)])
        XCTAssertEqual(s.helpPage, 0)
        let firstPage = render(s).text
        XCTAssertTrue(firstPage.contains("Everywhere") && firstPage.contains("Composer"), firstPage)
        send(&s, [.key(.left)])
        XCTAssertEqual(s.helpPage, 0)
        // Every key of every footer appears in the help (on one of its pages).
        let help = firstPage + lanesPage
        for screen in [Screen.composer, .lanes, .candidates, .open] {
            for k in footerKeys(screen) where k.key.count > 2 {
                XCTAssertTrue(help.contains(k.key), "\(k.key) of \(screen) missing from help")
            }
        }
        send(&s, [.key(.escape)])
        XCTAssertEqual(s.screen, .lanes)
        // In a text field "?" is a character, F1 is help.
        var c = try studio()
        send(&c, type("?"))
        XCTAssertEqual(c.genre, "?")
        send(&c, [.key(.f1), .key(.f1)])
        XCTAssertEqual(c.screen, .composer)
    }
}
