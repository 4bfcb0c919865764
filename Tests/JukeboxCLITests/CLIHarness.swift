import Foundation
import XCTest

/// Runs the built `jukebox` executable (it sits beside the test bundle in the build folder).
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum CLI {
    static let buildFolder: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("jukebox").path) {
            url = url.deletingLastPathComponent()
        }
        return url
    }()

    static var executable: String { buildFolder.appendingPathComponent("jukebox").path }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIResult {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        return try Subprocess.run(executable, arguments, environment: merged)
    }

    static func fixture(_ name: String) throws -> String {
        let root = ProcessInfo.processInfo.environment["JUKEBOX_FIXTURES"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? shared.appendingPathComponent("fixtures/reference")
        let url = root.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("fixtures missing at \(url.path)") }
            throw XCTSkip("reference fixtures not found at \(url.path)")
        }
        return url.path
    }
}

func temporaryFolder(_ test: XCTestCase) -> String {
    let path = NSTemporaryDirectory() + "jukebox-cli-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A failure the user sees: non-zero exit, exactly one line on stderr naming `subject`, no crash.
func assertCleanFailure(_ r: CLIResult, naming subject: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNotEqual(r.status, 0, "expected failure", file: file, line: line)
    XCTAssertLessThan(r.status, 128, "crashed with a signal: \(r.stderr)", file: file, line: line)
    let lines = r.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "one line of error, got: \(r.stderr)", file: file, line: line)
    XCTAssertTrue(r.stderr.contains(subject), "error names \(subject): \(r.stderr)", file: file, line: line)
}
