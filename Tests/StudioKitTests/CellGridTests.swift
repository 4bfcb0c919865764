import XCTest
@testable import StudioKit

final class CellGridTests: XCTestCase {
    func testPutClipsAndTrims() {
        var g = CellGrid(width: 6, height: 2)
        XCTAssertEqual(g.put("hello world", x: 2, y: 0, role: .accent), 6)
        g.put("ab", x: -1, y: 1)
        g.put("zz", x: 0, y: 5)
        XCTAssertEqual(g.text, "  hell\nb")
        XCTAssertEqual(g[2, 0].role, .accent)
        XCTAssertEqual(g.put("xyz", x: 0, y: 1, maxWidth: 2), 2)
        XCTAssertEqual(g.text, "  hell\nxy")
    }

    func testWideAndCombiningCharacters() {
        var g = CellGrid(width: 5, height: 3)
        XCTAssertEqual(CellGrid.columns(of: "日本"), 4)
        XCTAssertEqual(CellGrid.columns(of: "e\u{301}"), 1)
        XCTAssertEqual(g.put("日本語", x: 0, y: 0), 4)  // the third does not fit in the last column
        XCTAssertTrue(g[1, 0].isContinuation)
        g.put("e\u{301}x", x: 0, y: 1)
        XCTAssertEqual(g[0, 1].character, "e\u{301}")
        // Writing over half of a wide character blanks its other half.
        g.set(1, 0, "a")
        XCTAssertEqual(g.text.split(separator: "\n", omittingEmptySubsequences: false)[0], " a本")
        // A wide character in the last column becomes a space; control characters are drawn, not sent.
        g.put("ab\t\u{1b}", x: 0, y: 2)
        g.set(4, 2, "日")
        XCTAssertEqual(g.text, " a本\néx\nab ·")
    }

    func testGlyphBuckets() {
        XCTAssertEqual(glyph(forCode: -1, bins: 2048), " ")
        XCTAssertEqual(glyph(forCode: 0, bins: 2048), ".")
        XCTAssertEqual(glyph(forCode: 2047, bins: 2048), "@")
        XCTAssertEqual(glyph(forCode: 5000, bins: 2048), "@")
        XCTAssertEqual(glyph(forCode: 1, bins: 2), "+")  // bucket 9 × 1 / 2 = 4
    }
}
