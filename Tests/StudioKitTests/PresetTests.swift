import Foundation
import JukeboxCore
import XCTest
@testable import StudioKit

final class PresetTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let presetsFolder = root.appendingPathComponent("presets").path

    func testAFullPresetParses() throws {
        let p = try Preset.parse("""
            description = "d"
            model = "1b_lyrics"
            genre = "jazz"
            artist = "Ella Fitzgerald"
            lyrics = \"\"\"
            line one
            line "two"\"\"\"
            seconds = 12.5
            total_seconds = 90
            temperatures = [1, 0.99, 0.97]
            seed = 18446744073709551615
            candidates = 4
            """.replacingOccurrences(of: "18446744073709551615", with: "\"18446744073709551615\""), file: "presets/ella.toml")
        XCTAssertEqual(p, Preset(name: "ella", description: "d", model: "1b_lyrics", genre: "jazz", artist: "Ella Fitzgerald",
                                 lyrics: "line one\nline \"two\"", seconds: 12.5, totalSeconds: 90,
                                 temperatures: [1, 0.99, 0.97], seed: UInt64.max, candidates: 4))
        XCTAssertEqual(try Preset.parse("", file: "empty.toml"), Preset(name: "empty"), "every field is optional")
    }

    func testSavedPresetsReadBackEqual() throws {
        let folder = NSTemporaryDirectory() + "jukebox-presets-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let preset = Preset(name: "my_song-2", genre: "pop rock", artist: "Bob \"the\" Dylan\\",
                            lyrics: "tab\there\nnew line\u{1}bell ünïcode 日本", seconds: 20, totalSeconds: 187.5,
                            temperatures: [0.98, 0.995], seed: 9_223_372_036_854_775_808, candidates: 3)
        let file = try StudioFiles.save(preset, in: folder + "/nested")
        XCTAssertEqual(file, folder + "/nested/my_song-2.toml")
        XCTAssertEqual(try Preset.load(file), preset)
        // Saving again replaces the file whole (no temporary left behind).
        var changed = preset
        changed.seed = 5
        _ = try StudioFiles.save(changed, in: folder + "/nested")
        XCTAssertEqual(try Preset.load(file), changed)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/nested"), ["my_song-2.toml"])
        XCTAssertThrowsError(try StudioFiles.save(Preset(name: "../escape"), in: folder)) { error in
            XCTAssertEqual("\(error)", "../escape: name: letters, digits, - and _ only")
        }
    }

    func assertPresetError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Preset.parse(text, file: "presets/bad.toml"), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testBadPresetsNameTheFileAndField() {
        assertPresetError("genre = \"rock\"\ntempo = 120\n",
                          "presets/bad.toml: tempo: unknown field (known: description, model, genre, artist, lyrics, seconds, total_seconds, temperatures, seed, candidates)")
        assertPresetError("seconds = \"ten\"\n", "presets/bad.toml: seconds: expected a number, found string")
        assertPresetError("seconds = 0\n", "presets/bad.toml: seconds: 0.0 is outside 1.0…3600.0")
        assertPresetError("seconds = 30\ntotal_seconds = 20\n", "presets/bad.toml: total_seconds: 20 is shorter than seconds (30)")
        assertPresetError("temperatures = [0.9, \"hot\"]\n", "presets/bad.toml: temperatures[1]: expected a number, found string")
        assertPresetError("temperatures = [0.9, 5]\n", "presets/bad.toml: temperatures[1]: 5.0 is outside 0.01…3.0")
        assertPresetError("temperatures = [1, 1, 1, 1]\n", "presets/bad.toml: temperatures: expected 1 to 3 values (top level first), found 4")
        assertPresetError("candidates = 12\n", "presets/bad.toml: candidates: 12 is outside 1…9")
        assertPresetError("seed = -1\n", "presets/bad.toml: seed: expected a whole number 0…18446744073709551615")
        assertPresetError("model = \"7b\"\n", "presets/bad.toml: model: unknown model \"7b\" (default, tiny, small, 5b, 5b_lyrics, 1b_lyrics)")
        assertPresetError("artist = [\"a\"]\n", "presets/bad.toml: artist: expected a string, found array")
        XCTAssertThrowsError(try Preset.parse("genre = \"rock\n", file: "presets/bad.toml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("presets/bad.toml: line 1, column "), "\(error)")
        }
    }

    /// The shipped presets load, and their names are in the label lists of the models they are for:
    /// the bundled model's corpus lists, the random sets' made-up lists, and the published priors' v2 (5b, 5b_lyrics) and v3 (1b_lyrics) lists.
    func testShippedPresetsFitTheirModels() throws {
        let entries = PresetEntry.list(folders: [Self.presetsFolder])
        XCTAssertGreaterThanOrEqual(entries.count, 6)
        var hints: Set<String> = []
        for entry in entries {
            let p = try XCTUnwrap(entry.preset, entry.error ?? entry.name)
            let model = try XCTUnwrap(p.model, "\(entry.name) names its model")
            hints.insert(model)
            let genre = try XCTUnwrap(p.genre), artist = try XCTUnwrap(p.artist)
            switch model {
            case "tiny", "small":
                XCTAssertTrue(RandomModelSet.genres.contains(genre), "\(entry.name): \(genre)")
                XCTAssertTrue(RandomModelSet.artists.contains(artist), "\(entry.name): \(artist)")
            case "default":
                let set = Self.root.appendingPathComponent(BundledModel.relativePath + "/prior_level_2").path
                let v = try LabelVocabulary(modelFolder: set, v3: true)
                XCTAssertNil(v.artistID(artist).warning, "\(entry.name): \(artist)")
                XCTAssertTrue(try v.genreIDs(genre, maxBowGenreSize: 1).warnings.isEmpty, "\(entry.name): \(genre)")
            default:
                guard let v = try publishedVocabulary(v3: model == "1b_lyrics") else { continue }
                XCTAssertNil(v.artistID(artist).warning, "\(entry.name): \(artist)")
                XCTAssertTrue(try v.genreIDs(genre, maxBowGenreSize: 5).warnings.isEmpty, "\(entry.name): \(genre)")
            }
        }
        XCTAssertTrue(hints.isSuperset(of: ["default", "tiny", "small", "5b", "5b_lyrics", "1b_lyrics"]), "\(hints)")
    }

    /// The reference's label lists from ../shared/jukebox-labels (skipped without them, except on CI).
    func publishedVocabulary(v3: Bool) throws -> LabelVocabulary? {
        let folder = Self.root.deletingLastPathComponent().appendingPathComponent("shared/jukebox-labels").path
        let v = v3 ? "v3" : "v2"
        guard FileManager.default.fileExists(atPath: "\(folder)/\(v)_artist_ids.txt") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("\(folder) is missing") }
            return nil
        }
        return try LabelVocabulary(artistsFile: "\(folder)/\(v)_artist_ids.txt", genresFile: "\(folder)/\(v)_genre_ids.txt", v3: v3)
    }

    func testABadFileIsListedWithItsError() throws {
        let folder = NSTemporaryDirectory() + "jukebox-presets-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try "candidates = 0\n".write(toFile: folder + "/broken.toml", atomically: true, encoding: .utf8)
        try "genre = \"soul\"\n".write(toFile: folder + "/random-rock-demo.toml", atomically: true, encoding: .utf8)
        let entries = PresetEntry.list(folders: [folder, Self.presetsFolder])
        let broken = try XCTUnwrap(entries.first { $0.name == "broken" })
        XCTAssertNil(broken.preset)
        XCTAssertEqual(broken.error, "\(folder)/broken.toml: candidates: 0 is outside 1…9")
        let demo = try XCTUnwrap(entries.first { $0.name == "random-rock-demo" })
        XCTAssertEqual(demo.preset?.genre, "soul", "a saved preset hides the shipped one of the same name")
        XCTAssertEqual(entries.map(\.name), entries.map(\.name).sorted())
    }

    func testUserPresetsFolder() {
        XCTAssertEqual(StudioFiles.userPresetsFolder(environment: ["XDG_CONFIG_HOME": "/x/cfg", "HOME": "/h"]), "/x/cfg/jukebox/presets")
        XCTAssertEqual(StudioFiles.userPresetsFolder(environment: ["HOME": "/h"]), "/h/.config/jukebox/presets")
    }
}
