import Foundation
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining
import XCTest

/// Where the bundled model is looked for, and a set's own sampling defaults (sampling.json).
final class BundledModelLookupTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "bundled-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/checkout/.build/release", withIntermediateDirectories: true)
        addTeardownBlock { [root] in try? FileManager.default.removeItem(atPath: root) }
    }

    func makeSet(_ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder + "/vqvae", withIntermediateDirectories: true)
    }

    func testFoundAboveTheExecutable() throws {
        let set = root + "/checkout/" + BundledModel.relativePath
        try makeSet(set)
        XCTAssertEqual(try BundledModel.locate(environment: [:], executable: root + "/checkout/.build/release/jukebox"), set)
    }

    func testTheEnvironmentWinsAndMustNameASet() throws {
        try makeSet(root + "/checkout/" + BundledModel.relativePath)
        try makeSet(root + "/other")
        let exe = root + "/checkout/.build/release/jukebox"
        XCTAssertEqual(try BundledModel.locate(environment: ["JUKEBOX_MODEL": root + "/other"], executable: exe), root + "/other")
        XCTAssertThrowsError(try BundledModel.locate(environment: ["JUKEBOX_MODEL": root + "/missing"], executable: exe)) {
            XCTAssertEqual("\($0)", "JUKEBOX_MODEL=\(self.root)/missing: no model set there (no vqvae folder)")
        }
    }

    func testAbsentSetSaysWhereItLooked() throws {
        XCTAssertThrowsError(try BundledModel.locate(environment: [:], executable: root + "/checkout/.build/release/jukebox")) {
            let text = "\($0)"
            XCTAssertTrue(text.contains(BundledModel.relativePath) && text.contains("JUKEBOX_MODEL"), text)
            XCTAssertFalse(text.contains("\n"))
        }
        // A named set needs no lookup at all.
        XCTAssertEqual(try BundledModel.resolve("/some/set"), "/some/set")
    }

    func testSamplingDefaultsRoundTripAndSongLength() throws {
        let d = SamplingDefaults(top: 0.9, upsamplers: 0.75, songSeconds: 41, barGuidance: 2, genreBarGuidance: ["Blues": 3.5],
                                 levelTemperatures: [0: 0.95], genreGuidance: 1.5, primeGuidance: 4)
        try d.json.write(to: URL(fileURLWithPath: root + "/sampling.json"))
        XCTAssertEqual(try SamplingDefaults.load(setFolder: root), d)
        XCTAssertEqual(try SamplingDefaults.load(setFolder: root)?.genreGuidance, 1.5)
        XCTAssertEqual(try SamplingDefaults.load(setFolder: root)?.primeGuidance, 4)
        var quiet = d
        quiet.instrumentalArtists = ["b", "a"]
        try quiet.json.write(to: URL(fileURLWithPath: root + "/sampling.json"))
        XCTAssertEqual(try SamplingDefaults.load(setFolder: root)?.instrumentalArtists, ["a", "b"])
        XCTAssertEqual(d.barGuidance(genre: "blues"), 3.5)
        XCTAssertEqual(d.barGuidance(genre: " BLUES"), 3.5, "genres as a user types them")
        XCTAssertEqual(d.barGuidance(genre: "rock"), 2, "other genres take the set's strength")
        XCTAssertEqual(d.temperatures(topLevel: 2), [0.95, 0.75, 0.9], "level 0 at its own temperature")
        XCTAssertEqual(d.temperature(level: 1, topLevel: 1), 0.9, "a level-0 entry never overrides a top level")
        XCTAssertEqual(d.totalSeconds(sampling: 10), 41, "the trained song length")
        XCTAssertEqual(d.totalSeconds(sampling: 50), 50, "never shorter than what is sampled")
        XCTAssertEqual(SamplingDefaults.reference.totalSeconds(sampling: 10), 60)
        XCTAssertEqual(SamplingDefaults.reference.totalSeconds(sampling: 45), 90)
        XCTAssertNil(try SamplingDefaults.load(setFolder: root + "/checkout"), "no file: the reference's values")
    }

    func testBadSamplingFilesNameTheFileAndField() throws {
        let path = root + "/sampling.json"
        for (text, field) in [("[1]", "JSON object"), ("{\"temperature_top\": 0.9}", "temperature_upsamplers"),
                              ("{\"temperature_top\": -1, \"temperature_upsamplers\": 0.9}", "temperature_top"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"song_seconds\": \"long\"}", "song_seconds"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"bar_guidance_by_genre\": {\"blues\": 11}}",
                               "bar_guidance_by_genre of blues"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"temperature_by_level\": {\"bottom\": 1}}",
                               "temperature_by_level of bottom"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"temperature_by_level\": {\"0\": 3}}",
                               "temperature_by_level of 0"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"bar_guidance_by_genre\": [3]}",
                               "bar_guidance_by_genre"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"genre_guidance\": -2}",
                               "genre_guidance"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"prime_guidance\": 12}",
                               "prime_guidance"),
                              ("{\"temperature_top\": 0.9, \"temperature_upsamplers\": 0.9, \"instrumental_artists\": \"x\"}",
                               "instrumental_artists")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try SamplingDefaults.load(setFolder: root), text) {
                let message = "\($0)"
                XCTAssertTrue(message.hasPrefix(path + ": ") && message.contains(field), message)
            }
        }
    }
}
