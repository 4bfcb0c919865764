import Foundation
@testable import JukeboxCore
import JukeboxTraining
import XCTest

/// A model's label lists and embedding tables grown by new music's names (what `model fine-tune` starts from).
final class LabelGrowthTests: XCTestCase {
    func vocabulary(v3: Bool, artists: String, genres: String) throws -> LabelVocabulary {
        LabelVocabulary(artists: try LabelNameList(text: artists, source: "artist_ids.txt"),
                        genres: try LabelNameList(text: genres, source: "genre_ids.txt"), v3: v3)
    }

    func testNewNamesTakeTheNextRowsAndOldNamesKeepTheirs() throws {
        // Two names share id 2, and the prior has a spare row (y_bins 5 artists): new ids start past both.
        let base = try vocabulary(v3: true, artists: "unknown;0\nada;1\nbo;2\nbo b;2\n", genres: "unknown;0\nrock;1\n")
        let growth = try LabelVocabularyGrowth(base, yBins: [2, 5], artists: ["Bo", "Cy Twombly", "cy twombly", "Dee"],
                                               genres: ["Rock", "Chip Tune"])
        XCTAssertEqual(growth.newArtists, ["cy twombly", "dee"])
        XCTAssertEqual(growth.newGenres, ["chip tune"])
        XCTAssertEqual(growth.yBins, [3, 7])
        let v = growth.vocabulary
        XCTAssertEqual(v.artistID("Cy Twombly").id, 5)
        XCTAssertEqual(v.artistID("dee").id, 6)
        XCTAssertEqual(v.artistID("bo b").id, 2)
        XCTAssertEqual(try v.genreIDs("chip tune", maxBowGenreSize: 1).ids, [2])
        // The lists as written read back to the same ids.
        let reread = try vocabulary(v3: true, artists: growth.artistsText, genres: growth.genresText)
        XCTAssertEqual(reread.artists.ids, v.artists.ids)
        XCTAssertEqual(reread.genres.ids, v.genres.ids)
    }

    func testV2GenresGrowByWordAndNamesAreNormalised() throws {
        let base = try vocabulary(v3: false, artists: "unknown;0\nthe_beatles;1\n", genres: "unknown;0\nrock;1\npop;2\n")
        let growth = try LabelVocabularyGrowth(base, yBins: [3, 2], artists: ["The Beatles", "Wesnoth Orchestra!"],
                                               genres: ["Rock Chiptune", "pop"])
        XCTAssertEqual(growth.newArtists, ["wesnoth_orchestra"])
        XCTAssertEqual(growth.newGenres, ["chiptune"])
        XCTAssertEqual(try growth.vocabulary.genreIDs("rock chiptune", maxBowGenreSize: 5).ids, [1, 3, -1, -1, -1])
    }

    func testNamesAListCannotHoldAreRefused() throws {
        let base = try vocabulary(v3: true, artists: "unknown;0\n", genres: "unknown;0\n")
        XCTAssertThrowsError(try LabelVocabularyGrowth(base, yBins: [1, 1], artists: ["a;b"], genres: [])) { error in
            XCTAssertTrue("\(error)".contains("artist_ids.txt"), "\(error)")
        }
    }

    /// New rows start as "unknown": the grown table's new rows equal row 0, the old rows are untouched.
    func testGrownTablesCopyTheUnknownRow() throws {
        let dir = NSTemporaryDirectory() + "label-growth-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RandomModelSet.write(preset: .tiny, seed: 3, to: dir)
        let hps = try ModelConfig.load(folder: dir + "/prior_level_0").hps
        let config = try PriorConfig(hps: hps)
        let file = try SafetensorsFile(path: dir + "/prior_level_0/weights.safetensors")
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        let key = "y_emb.artist_emb.emb.weight"
        let old = try XCTUnwrap(tensors[key])
        tensors = try PriorLabelGrowth.grow(hps: hps, tensors: tensors, yBins: [config.yBins[0] + 1, config.yBins[1] + 2]).tensors
        let grown = try XCTUnwrap(tensors[key]), width = config.width
        XCTAssertEqual(grown.shape, [config.yBins[1] + 2, width])
        XCTAssertEqual(Array(grown.toArray().prefix(old.count)), old.toArray())
        for row in config.yBins[1]..<(config.yBins[1] + 2) {
            XCTAssertEqual(Array(grown.toArray()[(row * width)..<((row + 1) * width)]), Array(old.toArray().prefix(width)))
        }
        XCTAssertThrowsError(try PriorLabelGrowth.grow(hps: hps, tensors: tensors, yBins: [1, 1]))
    }
}
