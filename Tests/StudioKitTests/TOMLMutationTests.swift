import Foundation
import JukeboxCore
import JukeboxTestSupport
import XCTest
@testable import StudioKit

/// The studio's own files taken apart: thousands of mutations of the shipped presets and themes (bytes
/// flipped, cut short, inserted, set to extremes) only ever parse or fail with an error naming the file,
/// never crash. TOMLKit's parser is C++, so a crash here would take the studio down with the terminal raw.
final class TOMLMutationTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func shipped(_ folder: String) throws -> [[UInt8]] {
        let dir = Self.root.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".toml") }.sorted()
        XCTAssertFalse(names.isEmpty, "no shipped \(folder)")
        return try names.map { [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    func mutations(_ seeds: [[UInt8]], rounds: Int, _ body: (String) -> Void) {
        let toml = Mutations(inserted: Array("[]=\"'#\n{}0.e-".utf8), extremes: [0x00, 0xFF, 0x22, 0x5B], seed: 7)
        toml.run(seeds, rounds: rounds) { b in
            // Bytes that are not UTF-8 never reach the parser: loading reads text.
            guard let text = String(bytes: b, encoding: .utf8) else { return }
            // TOML_MUTANT_DUMP=1: the mutant under test is in /tmp/toml-mutant.toml when the parser aborts.
            if ProcessInfo.processInfo.environment["TOML_MUTANT_DUMP"] != nil {
                try? text.write(toFile: "/tmp/toml-mutant.toml", atomically: false, encoding: .utf8)
            }
            body(text)
        }
    }

    /// Every mutation parses, or fails in one line naming the file; enough fail that the checks were reached.
    func assertMutationsParseOrNameTheFile(_ folder: String, _ parse: (String) throws -> Void) throws {
        var refused = 0
        mutations(try shipped(folder), rounds: 3000) { text in
            do { try parse(text) } catch {
                refused += 1
                XCTAssertTrue("\(error)".hasPrefix("mutant.toml"), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)")
            }
        }
        XCTAssertGreaterThan(refused, 100, "the mutations reached the checks")
    }

    func testPresetMutationsParseOrNameTheFile() throws {
        try assertMutationsParseOrNameTheFile("presets") { _ = try Preset.parse($0, file: "mutant.toml") }
    }

    func testThemeMutationsParseOrNameTheFile() throws {
        try assertMutationsParseOrNameTheFile("themes") { _ = try Theme.parse($0, file: "mutant.toml") }
    }

    /// Found by the mutations: toml++ aborted on this header (an assertion) where it should have said no.
    func testAHeaderTomlPlusPlusAbortsOnIsRefusedFirst() {
        XCTAssertThrowsError(try Theme.parse("[title]\nbold = true\n\n[}lane_low]\nfg = \"cyan\"\n", file: "t.toml")) {
            XCTAssertEqual("\($0)", "t.toml: line 4, column 1: a table header must be [name] with a bare or quoted name")
        }
        XCTAssertThrowsError(try Preset.parse("genre = \"rock\"\n}x = 1\n", file: "p.toml")) {
            XCTAssertEqual("\($0)", "p.toml: line 2, column 1: a key must be bare (letters, digits, _ and -) or quoted")
        }
        // Found by the libFuzzer target: toml++ aborted on a } where an array expects a value.
        for value in ["[0.95, 0.99, }0]", "[{}, }]", "[ \"x\", }]", "[[}]]", "}"] {
            XCTAssertThrowsError(try Preset.parse("genre = \"rock\"\ntemperatures = \(value)\n", file: "p.toml")) {
                XCTAssertTrue("\($0)".hasPrefix("p.toml: line 2, column "), "\($0)")
                XCTAssertTrue("\($0)".contains("a } that closes no {"), "\($0)")
            }
        }
        XCTAssertNoThrow(try Preset.parse("genre = \"r}ock\" # a } in a comment\ntemperatures = [0.9, 0.95, ]\n", file: "p.toml"))
        // Also found by it: three quotes inside a one-line string open no multi-line string, so the header after
        // them is still checked.
        XCTAssertThrowsError(try Theme.parse("[title]\nbold = \"'''x\"\n\n[\u{8f}ate_high]\nfg = \"blue\"\n", file: "t.toml")) {
            XCTAssertEqual("\($0)", "t.toml: line 4, column 1: a table header must be [name] with a bare or quoted name")
        }
        // Lyrics over several lines are values, not keys: anything goes inside them.
        XCTAssertNoThrow(try Preset.parse("genre = \"rock\"\nlyrics = \"\"\"\n[}not a header]\n= nor a key\n\"\"\"\n", file: "p.toml"))
    }
}
