import Foundation
import XCTest
@testable import StudioKit

/// Compares a rendered screen with Snapshots/<name>.txt. With STUDIO_RECORD=1 a missing snapshot is
/// written (and the test fails so nobody forgets to look at it); otherwise a missing one fails.
func assertSnapshot(_ grid: CellGrid, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let folder = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots")
    let url = folder.appendingPathComponent(name + ".txt")
    let actual = grid.text + "\n"
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        if ProcessInfo.processInfo.environment["STUDIO_RECORD"] == "1" {
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try? actual.write(to: url, atomically: true, encoding: .utf8)
            XCTFail("recorded snapshot \(name).txt: review it by eye, then run again", file: file, line: line)
        } else {
            XCTFail("missing snapshot \(name).txt (run with STUDIO_RECORD=1 to record)", file: file, line: line)
        }
        return
    }
    if expected != actual {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let row = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
        XCTFail("snapshot \(name).txt differs from row \(row):\nexpected: \(row < e.count ? String(e[row]) : "")\nactual:   \(row < a.count ? String(a[row]) : "")\n--- actual screen ---\n\(actual)",
                file: file, line: line)
    }
}
