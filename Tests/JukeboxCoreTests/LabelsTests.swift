import Foundation
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

final class LabelsTests: XCTestCase {
    // MARK: Lyrics (text.json)

    private struct TextFixture: Decodable {
        struct TextCase: Decodable { let v3: Bool; let text: String; let clean: String; let tokens: [Int] }
        struct WindowCase: Decodable {
            let full_len: Int; let n_tokens: Int; let total_length: Int; let offset: Int; let duration: Int
            let tokens: [Int]; let indices: [Int]
        }
        let text_cases: [TextCase]
        let window_cases: [WindowCase]
    }

    private func textFixture() throws -> TextFixture {
        let path = try Fixtures.folder("text.json")  // skips (or fails under CI) when absent
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(TextFixture.self, from: data)
    }

    func testTextCasesMatchReference() throws {
        let fixture = try textFixture()
        XCTAssertFalse(fixture.text_cases.isEmpty)
        for c in fixture.text_cases {
            let processor = TextProcessor(v3: c.v3)
            let clean = processor.clean(c.text)
            XCTAssertEqual(clean, c.clean, "clean v3=\(c.v3) \(c.text.debugDescription)")
            XCTAssertEqual(processor.tokenise(clean), c.tokens, "tokens v3=\(c.v3) \(c.text.debugDescription)")
            XCTAssertEqual(processor.tokens(forLyrics: c.text), c.tokens)
            XCTAssertEqual(processor.textise(c.tokens), c.clean, "textise v3=\(c.v3)")
            XCTAssertTrue(c.tokens.allSatisfy { $0 >= 1 && $0 < processor.nVocab })
        }
    }

    func testVocabularySizes() {
        XCTAssertEqual(TextProcessor(v3: false).nVocab, 80)
        XCTAssertEqual(TextProcessor(v3: true).nVocab, 79)
        XCTAssertEqual(TextProcessor(v3: false).tokenise("+"), [70])
        XCTAssertEqual(TextProcessor(v3: true).clean("a+b"), "ab")
        XCTAssertEqual(TextProcessor(v3: true).tokenise("\n"), [78])
    }

    func testWindowCasesMatchReference() throws {
        let fixture = try textFixture()
        XCTAssertFalse(fixture.window_cases.isEmpty)
        for c in fixture.window_cases {
            // The fixture's full lyrics are the tokens 1...full_len (token i+1 at index i).
            let full = Array(1...c.full_len)
            for arithmetic in [LyricWindow.Arithmetic.float32, .float64] {
                let (tokens, indices) = try LyricWindow.relevantTokens(full, nTokens: c.n_tokens, totalLength: c.total_length,
                                                                       offset: c.offset, duration: c.duration, arithmetic: arithmetic)
                XCTAssertEqual(tokens, c.tokens, "window \(c.offset)/\(c.total_length) n=\(c.n_tokens) \(arithmetic)")
                XCTAssertEqual(indices, c.indices, "indices \(c.offset)/\(c.total_length) n=\(c.n_tokens) \(arithmetic)")
            }
        }
    }

    func testWindowArithmeticFollowsTheSampler() throws {
        // 1b_lyrics-like numbers where the float32 product rounds up to an integer that float64
        // (1150.9999...) does not reach: the sampler's torch float32 path gives 1151.
        let full = Array(1...1567)
        let args = (n: 384, total: 240 * 44100, offset: 7_380_992, duration: 6144 * 128)
        let f32 = try LyricWindow.relevantTokens(full, nTokens: args.n, totalLength: args.total, offset: args.offset,
                                                 duration: args.duration, arithmetic: .float32)
        let f64 = try LyricWindow.relevantTokens(full, nTokens: args.n, totalLength: args.total, offset: args.offset,
                                                 duration: args.duration, arithmetic: .float64)
        XCTAssertEqual(f32.indices.first, 1151 - 192)
        XCTAssertEqual(f64.indices.first, 1150 - 192)
        XCTAssertEqual(f32.tokens.count, 384)
    }

    func testWindowEdgesAndErrors() throws {
        let full = Array(1...10)
        // Odd n_tokens still yields n tokens inside the lyrics (the reference would assert).
        let odd = try LyricWindow.relevantTokens(full, nTokens: 3, totalLength: 100, offset: 99, duration: 10)
        XCTAssertEqual(odd.indices, [7, 8, 9])
        let exact = try LyricWindow.relevantTokens(full, nTokens: 10, totalLength: 100, offset: 50, duration: 10)
        XCTAssertEqual(exact.tokens, full)
        let none = try LyricWindow.relevantTokens([], nTokens: 4, totalLength: 100, offset: 0, duration: 10)
        XCTAssertEqual(none.tokens, [0, 0, 0, 0])
        XCTAssertEqual(none.indices, [-1, -1, -1, -1])
        XCTAssertThrowsError(try LyricWindow.relevantTokens(full, nTokens: 4, totalLength: 100, offset: 100, duration: 10))
        XCTAssertThrowsError(try LyricWindow.relevantTokens(full, nTokens: 4, totalLength: 0, offset: 0, duration: 10))
    }

    // MARK: Label vectors of the prior fixtures

    /// The lyric part of each fixture y row equals our cleaning + tokenising + windowing of the
    /// raw lyrics in the metadata, given the row's own total_length, offset and sample_length.
    private func checkPriorLabels(_ name: String) throws {
        let folder = try Fixtures.folder(name)
        let io = try Fixtures.io(name)
        let hps = try ModelConfig.load(folder: folder).hps
        let layout = try LabelLayout(hps: hps)
        let processor = TextProcessor(v3: try hps.bool("labels_v3"))
        let y = try io.int64s("y").map { Int($0) }
        let rows = y.count / layout.count
        XCTAssertEqual(rows * layout.count, y.count, "\(name): y width is 4 + max_bow_genre_size + n_tokens")
        guard let json = io.metadata["lyrics"], let lyrics = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] else {
            return XCTFail("\(name): metadata 'lyrics' is not a JSON list of strings")
        }
        XCTAssertEqual(lyrics.count, rows)
        for r in 0..<min(rows, lyrics.count) {
            let row = Array(y[r * layout.count..<(r + 1) * layout.count])
            let song = SongLabels(artistID: row[3], genreIDs: row[4..<layout.lyricStart].filter { $0 >= 0 },
                                  fullTokens: processor.tokens(forLyrics: lyrics[r]), totalLength: row[0], offset: row[1])
            let (ours, _) = try LabelVector.forWindow(song, start: 0, rawToTokens: 1, sampleLength: row[2], layout: layout)
            XCTAssertEqual(ours, row, "\(name) row \(r)")
            XCTAssertEqual(Array(ours[layout.lyricStart...]), Array(row[layout.lyricStart...]), "\(name) row \(r) lyric tokens")
            XCTAssertNoThrow(try LabelVector.validate(row, layout: layout, artistBins: try hps.ints("y_bins")[1],
                                                      genreBins: try hps.ints("y_bins")[0], nVocab: max(processor.nVocab, 1)))
        }
    }

    func testPriorFixtureLabels1bLyrics() throws { try checkPriorLabels("prior_top_1b_lyrics") }
    func testPriorFixtureLabels5bLyrics() throws { try checkPriorLabels("prior_top_5b_lyrics") }
    func testPriorFixtureLabelsNoLyrics() throws { try checkPriorLabels("prior_top_labels") }

    func testLabelVectorPerWindow() throws {
        let layout = LabelLayout(maxBowGenreSize: 5, nTokens: 8)
        let processor = TextProcessor(v3: false)
        let full = processor.tokens(forLyrics: String(repeating: "la la land ", count: 20))
        let song = SongLabels(artistID: 145, genreIDs: [11, 8], fullTokens: full, totalLength: 60 * 44100, offset: 0)
        let sampleLength = 8192 * 128
        for start in [0, 1024, 8192] {
            let (y, indices) = try LabelVector.forWindow(song, start: start, rawToTokens: 128, sampleLength: sampleLength, layout: layout)
            XCTAssertEqual(y.count, layout.count)
            XCTAssertEqual(Array(y[0..<9]), [60 * 44100, start * 128, sampleLength, 145, 11, 8, -1, -1, -1])
            let expected = try LyricWindow.relevantTokens(full, nTokens: 8, totalLength: 60 * 44100, offset: start * 128, duration: sampleLength)
            XCTAssertEqual(Array(y[layout.lyricStart...]), expected.tokens)
            XCTAssertEqual(indices, expected.indices)
            XCTAssertEqual(indices.map { full[$0] }, expected.tokens)
        }
        let noLyrics = LabelLayout(maxBowGenreSize: 1, nTokens: 0)
        var oneGenre = song
        oneGenre.genreIDs = [11]
        XCTAssertThrowsError(try LabelVector.forWindow(song, start: 0, rawToTokens: 128, sampleLength: sampleLength, layout: noLyrics))
        let plain = try LabelVector.forWindow(oneGenre, start: 10, rawToTokens: 128, sampleLength: sampleLength, layout: noLyrics)
        XCTAssertEqual(plain.y, [60 * 44100, 1280, sampleLength, 145, 11])
        XCTAssertTrue(plain.lyricIndices.isEmpty)
        XCTAssertThrowsError(try LabelVector.make(totalLength: 1, offset: 0, sampleLength: 1, artistID: 0, genreIDs: [1, 2],
                                                  lyricTokens: [], layout: noLyrics))
        XCTAssertThrowsError(try LabelVector.validate([10, 0, 5, 99, 0], layout: noLyrics, artistBins: 10, genreBins: 10, nVocab: 0))
    }

    // MARK: Dropped characters and ASCII folding

    func testDroppedCharactersAreReported() {
        let processor = TextProcessor(v3: true)
        let cleaned = processor.inspect("naïve\r\ncafé ~ e\u{301}")
        XCTAssertEqual(cleaned.text, "nave\ncaf  e")
        XCTAssertEqual(cleaned.dropped.map(\.offset), [2, 5, 10, 12, 15])
        XCTAssertEqual(cleaned.dropped.map(\.scalar), ["ï", "\r", "é", "~", "\u{301}"])
        XCTAssertEqual(cleaned.droppedSummary.count, 5)
        XCTAssertTrue(cleaned.folded.isEmpty)
        let summary = processor.inspect("~~a~").droppedSummary
        XCTAssertEqual(summary.map(\.character), ["~"])
        XCTAssertEqual(summary.map(\.count), [3])
    }

    func testASCIIFoldingApproximatesUnidecode() {
        let processor = TextProcessor(v3: false, asciiFolding: true)
        XCTAssertEqual(processor.clean("Ünïcödé naïve café"), "Unicode naive cafe")
        XCTAssertEqual(processor.clean("Don’t — stop… Straße, “Œuvre”"), "Don't -- stop... Strasse, \"OEuvre\"")
        let inspected = processor.inspect("é王")
        XCTAssertEqual(inspected.folded.map(\.replacement), ["e"])
        XCTAssertEqual(inspected.dropped.map(\.scalar), ["王"])
    }

    // MARK: Artist and genre ids (real v2/v3 lists)

    private func vocabulary(v3: Bool) throws -> LabelVocabulary {
        let folder = try Fixtures.labelsFolder()
        let version = v3 ? "v3" : "v2"
        return try LabelVocabulary(artistsFile: folder + "/\(version)_artist_ids.txt",
                                   genresFile: folder + "/\(version)_genre_ids.txt", v3: v3)
    }

    func testV2Names() throws {
        let v = try vocabulary(v3: false)
        XCTAssertEqual(v.artists.maxID + 1, 4109)
        XCTAssertEqual(v.genres.maxID + 1, 120)
        XCTAssertEqual(v.artistID("Alan Jackson").id, 145)
        XCTAssertNil(v.artistID("Alan Jackson").warning)
        XCTAssertEqual(v.artistID("  The Beatles!! ").id, 278)
        XCTAssertEqual(v.artistID("András Schiff").id, 1)
        XCTAssertEqual(v.artistID("").id, 0)
        XCTAssertNil(v.artistID("").warning, "the v2 list has an empty name")
        XCTAssertEqual(LabelVocabulary.normV2("__Hip--Hop & R&B__"), "hip_hop_r_b")
        XCTAssertEqual(try v.genreIDs("Country Rock", maxBowGenreSize: 5).ids, [11, 8, -1, -1, -1])
        XCTAssertEqual(try v.genreIDs("R&B", maxBowGenreSize: 5).ids, [17, 18, -1, -1, -1])
        XCTAssertEqual(try v.genreIDs("hip hop", maxBowGenreSize: 2).ids, [3, 4])
        XCTAssertThrowsError(try v.genreIDs("a b c d e f", maxBowGenreSize: 5))
        XCTAssertEqual(v.artistName(id: 0), "_unknown_various")
        XCTAssertEqual(v.artistName(id: 145), "alan_jackson")
        XCTAssertEqual(v.genreName(ids: [11, 8, -1, -1, -1]), "country_rock")

        let unknown = v.artistID("Alan Jacksn")
        XCTAssertEqual(unknown.id, 0)
        let warning = try XCTUnwrap(unknown.warning)
        XCTAssertTrue(warning.contains("alan_jacksn") && warning.contains("v2_artist_ids.txt"), warning)
        XCTAssertTrue(warning.contains("alan jackson"), warning)
        XCTAssertEqual(v.suggestArtists("beatles").first, "the beatles")
        XCTAssertEqual(v.artistID(try XCTUnwrap(v.suggestArtists("Alan Jacksn").first)).id, 145)

        let genres = try v.genreIDs("Country Rokc", maxBowGenreSize: 5)
        XCTAssertEqual(genres.ids, [11, 0, -1, -1, -1])
        XCTAssertEqual(genres.warnings.count, 1)
        XCTAssertTrue(genres.warnings[0].contains("rock"), genres.warnings[0])
        XCTAssertTrue(v.suggestGenres("Country Rokc").contains("rock"))
    }

    func testV3Names() throws {
        let v = try vocabulary(v3: true)
        XCTAssertEqual(v.artists.maxID + 1, 7898)
        XCTAssertEqual(v.genres.maxID + 1, 604)
        XCTAssertEqual(v.artistID("Alan Jackson").id, 6785)
        XCTAssertEqual(v.artistID("Beat Farmers").id, 1)
        XCTAssertEqual(v.artistID("alan_jackson").id, 0, "v3 does not normalise punctuation")
        XCTAssertEqual(v.artistID("speaker").id, 7896, "a later line with the same name wins")
        XCTAssertNil(v.artistName(id: 3675), "an id whose only name was replaced has no name")
        XCTAssertEqual(v.artistID("MIGUEL BOSÉ").id, 536)
        XCTAssertEqual(try v.genreIDs("Country Rock", maxBowGenreSize: 1).ids, [546])
        XCTAssertEqual(try v.genreIDs("psychedelic rock", maxBowGenreSize: 1).ids, [185])
        XCTAssertEqual(try v.genreIDs("psychedelic rock\u{200E}", maxBowGenreSize: 1).ids, [7])
        XCTAssertEqual(v.genreName(ids: [546]), "country rock")
        XCTAssertEqual(v.display("psychedelic rock\u{200E}"), "psychedelic rock\\u{200E}")

        let unknown = try v.genreIDs("psychedelic rok", maxBowGenreSize: 1)
        XCTAssertEqual(unknown.ids, [0])
        XCTAssertTrue(unknown.warnings[0].contains("psychedelic rock"), unknown.warnings[0])
        XCTAssertTrue(unknown.warnings[0].contains("v3_genre_ids.txt"))

        // Suggestions over the ~7900 v3 artists: measured, not asserted.
        let clock = ContinuousClock()
        var suggestions: [String] = []
        let elapsed = clock.measure { suggestions = v.suggestArtists("Alan Jaksonn") }
        print("v3 artist suggestions for 'Alan Jaksonn': \(suggestions) in \(elapsed)")
        XCTAssertEqual(suggestions.first, "alan jackson")
    }

    func testLabellerResolvesAndDescribes() throws {
        let labeller = Labeller(vocabulary: try vocabulary(v3: true), layout: LabelLayout(maxBowGenreSize: 1, nTokens: 384),
                                sampleLength: 6144 * 128)
        let lyrics = String(repeating: "Old town road, café\\", count: 40)
        let resolved = try labeller.resolve(artist: "Alan Jackson", genre: "Country Rokc", lyrics: lyrics, totalLength: 180 * 44100)
        XCTAssertEqual(resolved.song.artistID, 6785)
        XCTAssertEqual(resolved.song.genreIDs, [0])
        XCTAssertEqual(resolved.warnings.count, 1)
        XCTAssertEqual(resolved.lyrics.dropped.map(\.scalar), Array(repeating: "é", count: 40))
        XCTAssertEqual(resolved.song.fullTokens.count, 40 * 19)
        let (y, indices) = try labeller.y(resolved.song, start: 4096, rawToTokens: 128)
        XCTAssertEqual(Array(y[0..<5]), [180 * 44100, 4096 * 128, 6144 * 128, 6785, 0])
        XCTAssertEqual(indices.count, 384)
        let described = try labeller.describe(y)
        XCTAssertEqual(described.artist, "alan jackson")
        XCTAssertEqual(described.genre, "unknown")
        XCTAssertEqual(described.lyrics, labeller.text.textise(indices.map { resolved.song.fullTokens[$0] }))
        XCTAssertThrowsError(try labeller.resolve(artist: "x", genre: "pop", lyrics: "", totalLength: 100, offset: 100))
    }

    func testModelFolderLists() throws {
        let labels = try Fixtures.labelsFolder()
        let folder = temporaryFolder(self)
        XCTAssertThrowsError(try LabelVocabulary(modelFolder: folder, v3: true))
        try FileManager.default.copyItem(atPath: labels + "/v3_artist_ids.txt", toPath: folder + "/" + LabelVocabulary.artistsFileName)
        try FileManager.default.copyItem(atPath: labels + "/v3_genre_ids.txt", toPath: folder + "/v3_genre_ids.txt")
        let v = try LabelVocabulary(modelFolder: folder, v3: true)
        XCTAssertEqual(v.artistID("alan jackson").id, 6785)
        XCTAssertEqual(v.genres.fileName, "v3_genre_ids.txt")
    }

    func testNameListParsing() throws {
        let list = try LabelNameList(text: "B;2\r\n  a b ;1\nb;3\n\n", source: "test.txt")
        // Like the reference: the line is stripped, the name itself is not (its trailing space stays).
        XCTAssertEqual(list.ids, ["b": 3, "a b ": 1])
        XCTAssertEqual(list.entries.map(\.name), ["b", "a b "])
        XCTAssertEqual(list.names[3], "b")
        XCTAssertNil(list.names[2])
        XCTAssertThrowsError(try LabelNameList(text: "a;b;1\n", source: "bad.txt")) { error in
            XCTAssertTrue("\(error)".contains("bad.txt"))
        }
        XCTAssertThrowsError(try LabelNameList(text: "a;x\n", source: "bad.txt"))
        XCTAssertThrowsError(try LabelNameList(text: "\n", source: "empty.txt"))
        XCTAssertEqual(PythonText.lower("ΟΔΟΣ ΣΑ"), "οδος σα")
        XCTAssertEqual(PythonText.lower("İ"), "i\u{307}")
    }
}
