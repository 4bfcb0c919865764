import XCTest
@testable import JukeboxCore
@testable import JukeboxTraining

/// Training a deeper prior on from a trained one (`train prior --init --depth`).
final class PriorDepthTests: XCTestCase {
    private static let upsampler: [String: Any] = ["level": 1, "attn_order": 2, "n_ctx": 16, "blocks": 4]

    func testGrownUpsamplerComputesWhatTheTrainedOneDidThenLearns() throws {
        let model = try TrainablePrior.random(hps: PriorGradCheckTests.hps(Self.upsampler), seed: 3)
        let old = model.config.prior.transformer.depth
        let (hps, grown) = try PriorDepth.grow(hps: model.hps, tensors: PriorWindowTests.tensors(model), to: old + 4)
        XCTAssertEqual(try hps.int("prior_depth"), old + 4)
        let kinds = try PriorConfig(hps: hps).prior.transformer.kinds
        for d in old..<(old + 4) {
            let source = (0..<old).last { kinds[$0] == kinds[d] }!
            for (key, tensor) in PriorWindowTests.tensors(model) where key.hasPrefix(PriorDepth.layerPrefix(source)) {
                let name = String(key.dropFirst(PriorDepth.layerPrefix(source).count))
                let added = try XCTUnwrap(grown[PriorDepth.layerPrefix(d) + name], "layer \(d) \(name)")
                if name.contains("c_proj") {
                    XCTAssertTrue(added.toArray().allSatisfy { $0 == 0 }, "layer \(d) \(name) starts silent")
                } else {
                    XCTAssertEqual(added.toArray(), tensor.toArray(), "layer \(d) \(name) from layer \(source), a \(kinds[d]) layer too")
                }
            }
        }
        for (key, tensor) in PriorWindowTests.tensors(model) { XCTAssertEqual(grown[key]?.toArray(), tensor.toArray(), "\(key) kept") }

        let deeper = try TrainablePrior(hps: hps, tensors: grown)
        let b = PriorGradCheckTests.batch(model, 2, seed: 4)
        let before = try model.lossAndGradients(z: b.z, zCond: b.zCond, y: b.y, batch: 2)
        let after = try deeper.lossAndGradients(z: b.z, zCond: b.zCond, y: b.y, batch: 2)
        XCTAssertEqual(after.loss.total, before.loss.total, accuracy: 1e-5, "the same loss on the same batch")
        // The silent layers still learn: their output projections get a gradient.
        let g = try XCTUnwrap(after.gradients[PriorDepth.layerPrefix(old) + "mlp.c_proj.w"])
        XCTAssertGreaterThan(g.toArray().map { abs($0) }.max() ?? 0, 0)
    }

    func testLoadingAFolderDeeperAndRefusals() throws {
        let model = try TrainablePrior.random(hps: PriorGradCheckTests.hps(Self.upsampler), seed: 3)
        let folder = temporaryFolder(self) + "/prior"
        try TrainingCheckpoint.save(try PriorTrainer.make(model), dataSeed: 0, batchesDrawn: 0, lastLoss: 0, to: folder)
        let old = model.config.prior.transformer.depth
        XCTAssertEqual(try TrainablePrior.load(folder: folder, depth: old + 1).config.prior.transformer.depth, old + 1)
        for depth in [old, old - 1] {
            XCTAssertThrowsError(try TrainablePrior.load(folder: folder, depth: depth)) { XCTAssertTrue("\($0)".hasPrefix("--depth: "), "\($0)") }
        }
        let top = try TrainablePrior.random(hps: PriorGradCheckTests.hps(PriorWindowTests.lyricsPrior), seed: 3)
        XCTAssertThrowsError(try PriorDepth.grow(hps: top.hps, tensors: PriorWindowTests.tensors(top), to: 17)) { XCTAssertTrue("\($0)".contains("lyrics"), "\($0)") }
    }
}
