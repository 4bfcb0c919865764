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

    func testCandidates() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))] + samplingEvents())
        send(&s, [.candidatesReady([(0..<304).map { $0 * 7 % 2048 }, (0..<304).map { 2047 - $0 * 5 }, (0..<304).map { _ in 1000 }])])
        send(&s, [.key(.down), .key(.char("r"))])
        send(&s, [.candidatesReady([(0..<304).map { $0 * 3 % 2048 }, (0..<304).map { $0 * 6 % 2048 }, (0..<304).map { $0 % 64 * 32 }])])
        send(&s, [.key(.down), .key(.down), .key(.enter)])
        send(&s, [.candidatesReady([(0..<304).map { $0 * 11 % 2048 }, (0..<304).map { $0 * 13 % 2048 }, (0..<304).map { $0 * 17 % 2048 }])])
        send(&s, [.key(.down)])
        assertSnapshot(render(s), "candidates")
    }

    func testHelp() throws {
        var s = try studio()
        send(&s, [.key(.f1)])
        assertSnapshot(render(s), "help")
    }

    func testTooSmall() throws {
        var s = try studio()
        send(&s, [.resize(width: 60, height: 20)])
        assertSnapshot(render(s), "too-small")
    }
}
