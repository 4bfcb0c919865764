import XCTest
@testable import JukeboxCore

final class PlainProgressTests: XCTestCase {
    func testShortWorkPrintsNothing() {
        var p = PlainProgress(interval: 30)
        for (done, t) in [(1, 2.0), (5, 10.0), (10, 29.0)] {
            XCTAssertNil(p.line(label: "encoding", done: done, total: 10, unit: "songs", elapsed: t))
        }
    }

    func testLongWorkPrintsALineEachIntervalAndOnceWhenDone() {
        var p = PlainProgress(interval: 30)
        XCTAssertNil(p.line(label: "encoding", done: 1, total: 4, unit: "songs", elapsed: 20))
        XCTAssertEqual(p.line(label: "encoding", done: 1, total: 4, unit: "songs", elapsed: 31),
                       "encoding: 25% (1/4 songs) after 31s, ETA 1m 33s")
        // The next line waits a whole interval from the last one, not from the start.
        XCTAssertNil(p.line(label: "encoding", done: 2, total: 4, unit: "songs", elapsed: 60))
        XCTAssertEqual(p.line(label: "encoding", done: 3, total: 4, unit: "songs", elapsed: 3700),
                       "encoding: 75% (3/4 songs) after 1h 01m, ETA 20m 33s")
        XCTAssertEqual(p.line(label: "encoding", done: 4, total: 4, unit: "songs", elapsed: 3701),
                       "encoding: done (4/4 songs) in 1h 01m")
        XCTAssertNil(p.line(label: "encoding", done: 4, total: 4, unit: "songs", elapsed: 4000), "one closing line only")
    }

    func testNoCountWithoutAUnitAndNoETABeforeAnyProgress() {
        var p = PlainProgress(interval: 5)
        XCTAssertEqual(p.line(label: "training", done: 0, total: 1, unit: "", elapsed: 6), "training: 0% after 6s")
        XCTAssertEqual(p.line(label: "training", done: 1, total: 1, unit: "", elapsed: 7), "training: done in 7s")
    }
}
