import Foundation
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Locates the reference fixtures at ../shared/fixtures (relative to the package root).
/// Absent in a user's clone: tests skip with a notice. Under CI=true their absence fails.
enum Fixtures {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let sharedRoot = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    /// JUKEBOX_FIXTURES points the same tests at another set of fixtures of the same format
    /// (other widths, depths, heads, seeds), made by Tests/tools/make_fixtures.py.
    static let reference: URL = {
        if let other = ProcessInfo.processInfo.environment["JUKEBOX_FIXTURES"], !other.isEmpty {
            return URL(fileURLWithPath: other)
        }
        return sharedRoot.appendingPathComponent("fixtures/reference")
    }()
    static let labels = sharedRoot.appendingPathComponent("jukebox-labels")

    /// The folder of one fixture case, or a skip/failure when the fixtures are missing.
    static func folder(_ name: String) throws -> String {
        let url = reference.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("reference fixtures missing at \(url.path) (required under CI=true)")
                throw XCTSkip("fixtures missing")
            }
            print("notice: reference fixtures not found at \(url.path); skipping")
            throw XCTSkip("reference fixtures not found at \(url.path)")
        }
        return url.path
    }

    static func labelsFolder() throws -> String {
        guard FileManager.default.fileExists(atPath: labels.path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                XCTFail("label lists missing at \(labels.path) (required under CI=true)")
            }
            throw XCTSkip("label lists not found at \(labels.path)")
        }
        return labels.path
    }

    static func io(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: folder(name) + "/io.safetensors")
    }
}

/// Asserts ‖a − b‖₂/‖b‖₂ ≤ tol, printing the measured error so regressions show their size.
func assertClose(_ a: Tensor, _ b: Tensor, tol: Double = 1e-4, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): \(a.shape) vs \(b.shape)", file: file, line: line)
    guard a.count == b.count else { return }
    let err = relativeError(a, b)
    print("\(what): relative error \(err)")
    XCTAssertLessThanOrEqual(err, tol, "\(what): relative error \(err)", file: file, line: line)
}

/// A fresh temporary folder removed when the test ends.
func temporaryFolder(_ test: XCTestCase) -> String {
    let path = NSTemporaryDirectory() + "jukebox-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}
