import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Windows drawn from code files: the codes, the level above's matching span, and label vectors as the
/// reference's labeller builds them; the same (seed, index) always draws the same batch.
final class PriorTrainingDataTests: XCTestCase {
    func write(_ folder: String, songs: Int, t2: Int, lyrics: [[Int]]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Each code encodes (song, level, position), so a window shows where it came from.
        func level(_ l: Int, _ t: Int) throws -> LevelCodes {
            try LevelCodes(n: songs, t: t, values: (0..<songs).flatMap { n in (0..<t).map { (n * 7 + $0 * (l + 1)) % 13 } })
        }
        let width = lyrics.map(\.count).max() ?? 0
        let padded = lyrics.flatMap { $0 + Array(repeating: -1, count: width - $0.count) }
        try CodesFile.write([("z0", try level(0, t2 * 16)), ("z1", try level(1, t2 * 4)), ("z2", try level(2, t2)),
                             ("labels", try LevelCodes(n: songs, t: 2, values: (0..<songs).flatMap { [$0 + 1, $0 % 3] })),
                             ("lyrics", try LevelCodes(n: songs, t: width, values: padded))],
                            to: folder + "/a.safetensors")
    }

    func testUpsamplerWindowsCarryTheLevelAboveAndTheirLabels() throws {
        let folder = temporaryFolder(self) + "/data"
        try write(folder, songs: 2, t2: 40, lyrics: [[1, 2], [3]])
        let hps = PriorGradCheckTests.hps(["level": 1, "l_bins": 13, "n_ctx": 32])
        let data = try PriorTrainingData(folder: folder, hps: hps)
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data.hopLength, 32); XCTAssertEqual(data.upsampling, 4)
        let b = try data.batch(index: 5, size: 3, seed: 9)
        let again = try data.batch(index: 5, size: 3, seed: 9)
        XCTAssertEqual(b.z, again.z); XCTAssertEqual(b.y, again.y)
        XCTAssertNotEqual(try data.batch(index: 6, size: 3, seed: 9).z + (try data.batch(index: 7, size: 3, seed: 9).z), b.z + b.z)
        let y = try XCTUnwrap(b.y), zCond = try XCTUnwrap(b.zCond)
        XCTAssertEqual(b.z.count, 3 * 32); XCTAssertEqual(zCond.count, 3 * 8); XCTAssertEqual(y.count, 3 * 6)
        for i in 0..<3 {
            let row = Array(y[(i * 6)..<(i * 6 + 6)])
            let song = row[3] - 1, start = row[1] / 32
            XCTAssertEqual(row[0], 160 * 32)                 // the whole song in samples
            XCTAssertEqual(row[2], 32 * 32)                  // the window in samples
            XCTAssertEqual(start % 4, 0, "a window starts on a code of the level above")
            XCTAssertEqual(Array(row[4...]), [song % 3, -1])
            XCTAssertEqual(Array(b.z[(i * 32)..<(i * 32 + 32)]), (0..<32).map { (song * 7 + (start + $0) * 2) % 13 })
            XCTAssertEqual(Array(zCond[(i * 8)..<(i * 8 + 8)]), (0..<8).map { (song * 7 + (start / 4 + $0) * 3) % 13 })
        }
    }

    func testLongerSongsGiveMoreWindows() throws {
        let folder = temporaryFolder(self) + "/data"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Song 0 has 1 window of 16 codes, song 1 has 49: its codes are 1, song 0's are 0.
        try CodesFile.write([("z2", try LevelCodes(n: 1, t: 16, values: Array(repeating: 0, count: 16)))], to: folder + "/a.safetensors")
        try CodesFile.write([("z2", try LevelCodes(n: 1, t: 64, values: Array(repeating: 1, count: 64)))], to: folder + "/b.safetensors")
        let data = try PriorTrainingData(folder: folder, hps: PriorGradCheckTests.hps(["labels": false, "l_bins": 2]))
        let b = try data.batch(index: 0, size: 2000, seed: 5)
        let fromShort = stride(from: 0, to: b.z.count, by: 16).filter { b.z[$0] == 0 }.count
        XCTAssertEqual(Double(fromShort) / 2000, 1.0 / 50, accuracy: 0.012)
    }

    func testLyricWindowsFollowTheLabeller() throws {
        let folder = temporaryFolder(self) + "/data"
        let words = Array(0..<30).map { $0 % 9 }
        try write(folder, songs: 1, t2: 400, lyrics: [words])
        let hps = PriorGradCheckTests.hps(["n_tokens": 6, "n_vocab": 9, "use_tokens": true, "attn_order": 6,
                                           "prior_depth": 4, "n_ctx": 16, "l_bins": 13])
        let data = try PriorTrainingData(folder: folder, hps: hps)
        let b = try data.batch(index: 0, size: 4, seed: 1)
        let y = try XCTUnwrap(b.y), n = 4 + 2 + 6
        for i in 0..<4 {
            let row = Array(y[(i * n)..<((i + 1) * n)])
            let expected = try LyricWindow.relevantTokens(words, nTokens: 6, totalLength: row[0], offset: row[1],
                                                         duration: row[2], arithmetic: .float64).tokens
            XCTAssertEqual(Array(row[6...]), expected)
        }
        // A prior with this data trains (the lyrics encoder sees the windows).
        let model = try TrainablePrior.random(hps: hps, seed: 2)
        XCTAssertNoThrow(try model.lossAndGradients(z: b.z, zCond: nil, y: b.y, batch: 4))
    }

    /// A song longer than the timing signal's max_duration trains as equal consecutive parts within it, each
    /// with its share of the lyric characters, its sung characters within that share and its bar clock moved
    /// to its start; shorter songs and priors without timing keep songs whole.
    func testASongLongerThanMaxDurationTrainsInParts() throws {
        // Top level: 128 samples a code; max_duration 2 s is 689 codes, so 1500 codes (4.35 s) make 3 parts.
        let hps = PriorGradCheckTests.hps(["min_duration": 0.5, "max_duration": 2.0])
        let c = try PriorConfig(hps: hps)
        let sung = (0..<1500).map { min(29, $0 / 40) }
        let song = PriorTrainingData.Song(codes: Array(0..<1500), above: nil, artist: 1, genres: [0, -1], lyrics: Array(100..<130),
                                          barClock: BarClock(barLength: 768, downbeat: 300), sung: sung)
        let parts = PriorTrainingData.parts(song, config: c, hopLength: 128, upsampling: 1)
        XCTAssertEqual(parts.map(\.codes), [Array(0..<500), Array(500..<1000), Array(1000..<1500)])
        XCTAssertEqual(parts.map(\.lyrics), [Array(100..<110), Array(110..<120), Array(120..<130)])
        for (p, part) in parts.enumerated() {
            XCTAssertLessThan(Double(part.length * 128) / c.sr, c.maxDuration)
            XCTAssertEqual(part.barClock?.barLength, 768)
            let downbeat = try XCTUnwrap(part.barClock?.downbeat)
            XCTAssertTrue((0..<768).contains(downbeat) && (downbeat - 300 + p * 500 * 128) % 768 == 0, "\(downbeat)")
            XCTAssertEqual(part.artist, 1); XCTAssertEqual(part.genres, [0, -1]); XCTAssertNil(part.totalSamples)
            XCTAssertEqual(part.sung, sung[(p * 500)..<((p + 1) * 500)].map { $0 >= 10 * p && $0 < 10 * (p + 1) ? $0 - 10 * p : -1 })
        }
        XCTAssertEqual(parts[1].sung?.filter { $0 >= 0 }.count, 300, "characters 10…19 fall in codes 500…899")
        let short = PriorTrainingData.Song(codes: Array(0..<600), above: nil, artist: 1, genres: [0, -1], lyrics: [1])
        XCTAssertEqual(PriorTrainingData.parts(short, config: c, hopLength: 128, upsampling: 1).map(\.codes), [Array(0..<600)])
        let untimed = try PriorConfig(hps: PriorGradCheckTests.hps(["min_duration": 0.5, "max_duration": 2.0, "labels": false]))
        XCTAssertEqual(PriorTrainingData.parts(song, config: untimed, hopLength: 128, upsampling: 1).count, 1)

        // From code files: the long song is no longer left out, and every window is timed within its part.
        let folder = temporaryFolder(self) + "/data"
        try write(folder, songs: 2, t2: 1500, lyrics: [[1], [2]])
        let data = try PriorTrainingData(folder: folder, hps: hps)
        XCTAssertEqual(data.count, 6); XCTAssertEqual(data.skipped, 0)
        let y = try XCTUnwrap(try data.batch(index: 0, size: 8, seed: 3).y), width = y.count / 8
        for i in 0..<8 {
            XCTAssertEqual(y[i * width], 500 * 128)
            XCTAssertLessThanOrEqual(y[i * width + 1] + y[i * width + 2], 500 * 128)
        }
    }

    func testSongsTooShortOrOutsideTheDurationRangeAreLeftOut() throws {
        let folder = temporaryFolder(self) + "/data"
        // 40 top-level codes are 0.12 s: under min_duration (1 s) for the top level's timing signal.
        try write(folder, songs: 2, t2: 40, lyrics: [[1], [2]])
        XCTAssertThrowsError(try PriorTrainingData(folder: folder, hps: PriorGradCheckTests.hps([:]))) { e in
            XCTAssertTrue("\(e)".contains("min_duration"), "\(e)")
        }
        let data = try PriorTrainingData(folder: folder, hps: PriorGradCheckTests.hps(["labels": false]))
        XCTAssertEqual(data.count, 2); XCTAssertEqual(data.skipped, 0)
    }
}
