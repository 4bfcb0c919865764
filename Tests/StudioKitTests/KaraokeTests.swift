import JukeboxCore
import XCTest
@testable import StudioKit

/// While the kept song plays, the lyrics pane follows it: the line being sung, its current word marked, the next
/// line dimmed; seeking moves the mark, and other auditions show the window's lyrics as before.
final class KaraokeTests: XCTestCase {
    /// Two lines, a word every half second from 1 s.
    static func timed() -> LyricAlignment {
        let lyrics = "Lanterns hum along the harbour\nWe sing until the tide comes in"
        let text = TextProcessor(v3: true)
        let chars = Array(text.inspect(lyrics).text.unicodeScalars)
        var onsets: [Double?] = [], word = 0, inWord = false
        for c in chars {
            let letter = c != " " && c != "\n"
            if letter && !inWord { word += 1 }
            inWord = letter
            onsets.append(0.5 + Double(word) * 0.5 + (letter ? 0 : 0.3))
        }
        return LyricAlignment(method: "attention", layer: 15, head: 0, lyrics: lyrics, text: text, onsets: onsets,
                              weights: [Float](repeating: 0.5, count: chars.count), seconds: 8)
    }

    func playing(at t: Double, songOffset: Double? = 0) throws -> StudioState {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))] + samplingEvents() + [.timedLyrics(Self.timed())])
        send(&s, [.playback(PlaybackReport(phase: .playing, title: "L0 bottom final · whole song 0:08.00", position: t, duration: 8))])
        s.playback.songOffset = songOffset
        return s
    }

    /// The cells of `word` on the pane's rows and their roles.
    func roles(of word: String, in grid: CellGrid) -> [StyleRole] {
        let rows = grid.text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let y = rows.firstIndex(where: { $0.contains("Lyrics as sung") }) else { return [] }
        for row in (y + 1)...(y + 2) {
            let line = String(rows[row])
            guard let r = line.range(of: word) else { continue }
            let x = line.distance(from: line.startIndex, to: r.lowerBound)
            return (x..<(x + word.count)).map { grid[$0, row].role }
        }
        return []
    }

    func testTheSungWordIsMarkedAndMovesWithPlayback() throws {
        let a = Self.timed()
        XCTAssertEqual(a.words.map(\.text).prefix(3), ["Lanterns", "hum", "along"])
        let early = render(try playing(at: a.words[1].start + 0.1))
        assertSnapshot(early, "lanes-karaoke")
        XCTAssertTrue(early.text.contains("Lyrics as sung  0:02"), early.text)
        XCTAssertEqual(Set(roles(of: "hum", in: early)), [.selected], "the word sung now")
        XCTAssertEqual(Set(roles(of: "Lanterns", in: early)), [.normal], "sung already")
        XCTAssertEqual(Set(roles(of: "harbour", in: early)), [.dim], "not sung yet")
        XCTAssertEqual(Set(roles(of: "tide", in: early)), [.dim], "the next line is dimmed")

        // Later (a seek lands here the same way): the mark has moved to the second line.
        let later = render(try playing(at: a.words[7].start + 0.05))
        XCTAssertEqual(Set(roles(of: a.words[7].text, in: later)), [.selected], later.text)
        XCTAssertFalse(later.text.contains("Lanterns"), "the first line has scrolled away")

        // Before the first word: the first line, dimmed, as what comes.
        let intro = render(try playing(at: 0.2))
        XCTAssertEqual(Set(roles(of: "Lanterns", in: intro)), [.dim])

        // A candidate's audition is not the kept song: the window's lyrics show instead.
        let other = render(try playing(at: 2, songOffset: nil))
        XCTAssertTrue(other.text.contains("Lyrics of the current top window"), other.text)
    }

    /// The top lane marks where each sung line begins, under the codes it falls on.
    func testTheTopLaneMarksWhereLinesBegin() throws {
        var s = try playing(at: 1)
        s.hopLengths = [8, 32, 128]
        let grid = render(s)
        let rows = grid.text.split(separator: "\n", omittingEmptySubsequences: false)
        let lane = try XCTUnwrap(rows.firstIndex { $0.contains("Level 2 (top)") })
        let markers = Array(rows[lane + 2])
        let total = s.lanes[2].total, perColumn = (total + 75) / 76
        let expected = Self.timed().lines.map { Int($0.start * 44100 / 128) }.filter { $0 < total }
        XCTAssertFalse(expected.isEmpty)
        for code in expected { XCTAssertEqual(markers[2 + code / perColumn], "'", String(markers)) }
        XCTAssertTrue(render(try playing(at: 1)).text.split(separator: "\n")[lane + 2].allSatisfy { $0 != "'" },
                      "no marks without the lanes' hop lengths")
    }

    /// In a narrow terminal the line is cut at a word, never mid-word.
    func testALongLineIsCutAtAWordIn80Columns() throws {
        var s = try playing(at: 1.1)
        let long = String(repeating: "harbour ", count: 15)
        s.timedLyrics = LyricAlignment(method: "attention", lyrics: long, text: TextProcessor(v3: true),
                                       onsets: Array(repeating: 1.0, count: long.count), weights: [], seconds: 8)
        let grid = render(s)
        let rows = grid.text.split(separator: "\n", omittingEmptySubsequences: false)
        let y = try XCTUnwrap(rows.firstIndex { $0.contains("Lyrics as sung") })
        XCTAssertTrue(rows[y + 1].trimmingCharacters(in: .whitespaces).split(separator: " ").allSatisfy { $0 == "harbour" })
        XCTAssertLessThanOrEqual(rows[y + 1].count, 78)
    }
}
