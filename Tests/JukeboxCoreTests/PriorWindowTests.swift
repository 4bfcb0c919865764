import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Fine-tuning a trained prior on windows of another length (`train prior --init --n-ctx`).
final class PriorWindowTests: XCTestCase {
    static let lyricsPrior: [String: Any] = [
        "attn_order": 12, "prior_depth": 16, "n_tokens": 6, "n_vocab": 9, "use_tokens": true, "single_enc_dec": true,
        "max_bow_genre_size": 1, "labels_v3": true, "n_ctx": 14, "blocks": 4, "prior_width": 8,
    ]

    /// A prior's parameters by key (a tied x_out once), as the window and depth changes take them.
    static func tensors(_ m: TrainablePrior) -> [String: Tensor] {
        Dictionary(m.parameters.map { ($0.key, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    /// Resizes, then checks the hyperparameters, the position table and that every other weight is kept.
    private func resize(_ changes: [String: Any], to nCtx: Int, prefix: Int) throws -> TrainablePrior {
        let model = try TrainablePrior.random(hps: PriorGradCheckTests.hps(changes), seed: 3)
        let old = model.config.nCtx, blocks = try model.hps.int("blocks")
        let (hps, resized) = try PriorWindow.resize(hps: model.hps, tensors: Self.tensors(model), to: nCtx)
        XCTAssertEqual(try hps.int("n_ctx"), nCtx)
        XCTAssertEqual((prefix + nCtx) / (try hps.int("blocks")), (prefix + old) / blocks, "the block length is kept")

        let key = "prior.pos_emb.pos_emb", width = model.config.width
        let before = Self.tensors(model)[key]!.toArray(), after = resized[key]!
        XCTAssertEqual(after.shape, [prefix + nCtx, width])
        let rows = after.toArray()
        for p in 0..<(prefix + nCtx) {
            let from = p < prefix ? p : prefix + (p - prefix) % old
            XCTAssertEqual(Array(rows[p * width..<(p + 1) * width]), Array(before[from * width..<(from + 1) * width]), "row \(p)")
        }
        for (k, t) in Self.tensors(model) where k != key {
            XCTAssertEqual(resized[k]?.toArray(), t.toArray(), k)
        }
        // The resized prior builds, and trains on the new windows.
        let tuned = try TrainablePrior(hps: hps, tensors: resized)
        XCTAssertEqual(tuned.config.nCtx, nCtx)
        let b = PriorGradCheckTests.batch(tuned, 1, seed: 4)
        XCTAssertEqual(b.z.count, nCtx)
        let loss = try tuned.lossAndGradients(z: b.z, zCond: b.zCond, y: b.y, batch: 1).loss.total
        XCTAssertTrue(loss.isFinite && loss > 0, "\(loss)")
        return tuned
    }

    func testLyricsPriorWidensItsWindowAfterTheLyricPositions() throws {
        // (6 + 14) / 4 blocks = 5 positions a block; 6 + 24 is 6 blocks.
        _ = try resize(Self.lyricsPrior, to: 24, prefix: 6)
    }

    func testUpsamplerWindowWidensAndNarrows() throws {
        let upsampler: [String: Any] = ["level": 1, "attn_order": 2, "n_ctx": 16, "blocks": 4]
        _ = try resize(upsampler, to: 32, prefix: 0)
        _ = try resize(upsampler, to: 8, prefix: 0)
    }

    func testAWindowThatSplitsABlockIsRefused() throws {
        let model = try TrainablePrior.random(hps: PriorGradCheckTests.hps(Self.lyricsPrior), seed: 3)
        XCTAssertThrowsError(try PriorWindow.resize(hps: model.hps, tensors: Self.tensors(model), to: 25)) { error in
            XCTAssertTrue("\(error)".contains("--n-ctx"), "\(error)")
        }
        XCTAssertThrowsError(try PriorWindow.resize(hps: model.hps, tensors: Self.tensors(model), to: 0))
    }

    func testLoadingAFolderWithAnotherWindow() throws {
        let model = try TrainablePrior.random(hps: PriorGradCheckTests.hps(Self.lyricsPrior), seed: 3)
        let folder = temporaryFolder(self) + "/prior"
        try TrainingCheckpoint.save(try PriorTrainer.make(model), dataSeed: 0, batchesDrawn: 0, lastLoss: 0, to: folder)
        let wide = try TrainablePrior.load(folder: folder, nCtx: 34)
        XCTAssertEqual(wide.config.nCtx, 34)
        XCTAssertEqual(try wide.hps.int("blocks"), 8)
        XCTAssertEqual(try TrainablePrior.load(folder: folder).config.nCtx, 14)
    }
}
