import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Held-out bits per token, and what a prior's conditions are worth: the same windows scored with
/// another window's level above and another window's artist and genres.
final class PriorHeldOutTests: XCTestCase {
    /// Code files for a two-level set's level-0 upsampler: `songs` rows of n_ctx codes each (one window
    /// per song), each song with its own level above, artist and genre.
    func writeCodes(_ folder: String, songs: Int, seed: UInt64, length: Int = 16) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: seed)
        let lBins = UInt64(SamplingGeneratorTests.lBins)
        func codes(_ t: Int) throws -> LevelCodes {
            try LevelCodes(n: songs, t: t, values: (0..<(songs * t)).map { _ in Int(rng.next() % lBins) })
        }
        try CodesFile.write([("z0", try codes(length)), ("z1", try codes(length / 2)),
                             ("labels", try LevelCodes(n: songs, t: 2, values: (0..<songs).flatMap { [$0 + 1, $0 % 5] }))],
                            to: folder + "/codes.safetensors")
    }

    func testConditionsFromAnotherWindowCostBitsOnlyWhenTheyDiffer() throws {
        let model = try SamplingGeneratorTests.model(level: 0, seed: 3)
        let dir = temporaryFolder(self)
        try writeCodes(dir + "/train", songs: 3, seed: 1)

        // One held-out song of exactly one window: the "other" window is that window, so nothing changes.
        try writeCodes(dir + "/one", songs: 1, seed: 2)
        let alone = try PriorHeldOut.evaluate(prior: model, train: dir + "/train", test: dir + "/one", windows: 4)
        XCTAssertEqual(alone.tokens, 4 * 16)
        XCTAssertEqual(try XCTUnwrap(alone.bitsWithOtherAbove), alone.bitsPerToken, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(alone.bitsWithOtherLabels), alone.bitsPerToken, accuracy: 1e-9)

        // Several songs: borrowed conditions differ from the window's own, and the bits move.
        try writeCodes(dir + "/many", songs: 6, seed: 4)
        let many = try PriorHeldOut.evaluate(prior: model, train: dir + "/train", test: dir + "/many", windows: 8)
        XCTAssertGreaterThan(abs(try XCTUnwrap(many.bitsWithOtherAbove) - many.bitsPerToken), 1e-4)
        XCTAssertGreaterThan(abs(try XCTUnwrap(many.bitsWithOtherLabels) - many.bitsPerToken), 1e-4)
        XCTAssertEqual(many.uniformBitsPerToken, log2(Double(SamplingGeneratorTests.lBins)), accuracy: 1e-12)
        // The same seed scores the same windows.
        XCTAssertEqual(try PriorHeldOut.evaluate(prior: model, train: dir + "/train", test: dir + "/many", windows: 8), many)
    }

    func testTheTopLevelHasNoLevelAbove() throws {
        let model = try SamplingGeneratorTests.model(level: 1, ["min_duration": 0.0], seed: 3)
        let dir = temporaryFolder(self)
        try writeCodes(dir + "/train", songs: 3, seed: 1, length: 32)
        let scored = try PriorHeldOut.evaluate(prior: model, train: dir + "/train", test: dir + "/train", windows: 2)
        XCTAssertNil(scored.bitsWithOtherAbove)
        XCTAssertNil(scored.json["bits_with_other_above"])
        XCTAssertNotNil(scored.json["bits_with_other_labels"])
        XCTAssertNil(scored.bitsWithClockHalfABarOff, "no bar clock, nothing to move")
    }

    /// A prior with a bar clock is scored again with every downbeat moved by half a bar.
    func testTheBarClockHalfABarOffCostsAClockedPriorBits() throws {
        let model = try SamplingGeneratorTests.model(level: 1, ["min_duration": 0.0, "bar_clock_bins": 8], seed: 5)
        let dir = temporaryFolder(self)
        try writeCodes(dir + "/train", songs: 3, seed: 1, length: 32)
        try CodesFile.write([("z1", try CodesFile.read(dir + "/train/codes.safetensors", "z1")),
                             ("labels", try CodesFile.read(dir + "/train/codes.safetensors", "labels")),
                             ("bar_clock", try LevelCodes(n: 3, t: 2, values: [40, 0, 48, 8, 56, 0]))],
                            to: dir + "/train/codes.safetensors")
        let scored = try PriorHeldOut.evaluate(prior: model, train: dir + "/train", test: dir + "/train", windows: 4)
        let off = try XCTUnwrap(scored.bitsWithClockHalfABarOff)
        XCTAssertGreaterThan(abs(off - scored.bitsPerToken), 1e-4)
        XCTAssertEqual(scored.json["bits_with_clock_half_a_bar_off"] as? Double, off)
    }
}
