import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

final class UpsamplerConditionerTests: XCTestCase {
    /// For upsamplers the reference's x_cond is exactly the conditioner's output.
    func checkFixture(_ name: String) throws {
        let folder = try Fixtures.folder(name)
        let config = try ModelConfig.load(folder: folder)
        let store = try WeightStore(folder: folder)
        let conditioner = try UpsamplerConditioner(scope: store.scope("conditioner_blocks.0"), hps: config.hps)
        let io = try Fixtures.io(name)
        let zShape = try io.entry("z_cond0").shape
        let out = try conditioner.forward(try io.int64s("z_cond0"), n: zShape[0])
        let reference = try io.tensor("x_cond")
        XCTAssertEqual(out.shape, reference.shape)
        assertClose(out, reference, "\(name) x_cond")

        // The table lists exactly the conditioner's keys in the prior's state dict.
        let table = try UpsamplerConditioner.parameterShapes(config.hps)
        let stored = store.file.names.filter { $0.hasPrefix("conditioner_blocks.0.") }
        XCTAssertEqual(table.map { "conditioner_blocks.0." + $0.key }, stored)
    }

    func testLevel1MatchesTheReference() throws { try checkFixture("upsampler_level1") }
    func testLevel0MatchesTheReference() throws { try checkFixture("upsampler_level0") }

    static func hps(_ changes: [String: Any] = [:]) -> Hyperparameters {
        Hyperparameters([
            "level": 0, "levels": 3, "downs_t": [3, 2, 2], "strides_t": [2, 2, 2], "l_bins": 20, "prior_width": 12,
            "init_scale": 1.0, "cond_width": 10, "cond_depth": 3, "cond_m_conv": 1.5, "cond_dilation_growth_rate": 2,
            "cond_dilation_cycle": 2, "cond_res_scale": false, "cond_zero_out": false, "cond_c_res": 0,
        ].merging(changes) { _, new in new }, source: "test")
    }

    func testRandomConditionerOfOtherShapesUpsamplesAndNormalises() throws {
        for (changes, factor) in [([String: Any](), 4), (["level": 1, "downs_t": [1, 1, 3]], 8),
                                  (["strides_t": [2, 4, 2], "cond_res_scale": true], 16)] {
            let hps = Self.hps(changes)
            let conditioner = try UpsamplerConditioner(parameters: ParameterRecorder(seed: 3),
                                                       settings: .init(hps))
            XCTAssertEqual(conditioner.upsampling, factor)
            let n = 2, tc = 5
            var rng = SeededGenerator(seed: 9)
            let z = (0..<(n * tc)).map { _ in Int(rng.next() % 20) }
            let out = try conditioner.forward(z, n: n)
            XCTAssertEqual(out.shape, [n, tc * factor, 12])
            // ln with unit gain and zero bias: every row has mean 0 and variance 1.
            for r in 0..<(n * tc * factor) {
                let row = (0..<12).map { Double(out.data[r * 12 + $0]) }
                let mean = row.reduce(0, +) / 12
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12
                XCTAssertEqual(mean, 0, accuracy: 1e-4)
                XCTAssertEqual(variance, 1, accuracy: 1e-2)
            }
        }
    }

    func testCheckpointResNamesTheResidualBlocksBlocks() throws {
        let plain = try UpsamplerConditioner.parameterShapes(Self.hps())
        let checkpointed = try UpsamplerConditioner.parameterShapes(Self.hps(["cond_c_res": 1]))
        XCTAssertTrue(plain.contains { $0.key == "cond.model.1.0.model.2.model.1.weight" })
        XCTAssertTrue(checkpointed.contains { $0.key == "cond.model.1.0.blocks.2.model.1.weight" })
        XCTAssertEqual(plain.map(\.shape), checkpointed.map(\.shape))
        // int(1.5 · 10) = 15 channels inside each residual block.
        XCTAssertEqual(plain.first { $0.key == "cond.model.1.0.model.0.model.1.weight" }?.shape, [15, 10, 3])
    }

    func testVQVAESettingsOverrideThePriorsOwn() throws {
        // A prior whose own hps carry the reference DEFAULTS (levels 2, downs_t (1,1)) but the 5b VQ-VAE.
        let vqvae = try VQVAEHyperparameters(Hyperparameters(VQVAEHyperparameters.published5b, source: "5b"))
        let hps = Self.hps(["levels": 2, "downs_t": [1, 1], "strides_t": [2, 2], "l_bins": 7])
        XCTAssertEqual(try UpsamplerConditioner.Settings(hps).downT, 1)
        let settings = try UpsamplerConditioner.Settings(hps, vqvae: vqvae)
        XCTAssertEqual(settings.downT, 2)
        XCTAssertEqual(settings.bins, 2048)
        let table = try UpsamplerConditioner.parameterShapes(hps, vqvae: vqvae)
        XCTAssertEqual(table.first?.shape, [2048, 12])
        XCTAssertTrue(table.contains { $0.key == "cond.model.2.1.weight" })
    }

    func testBadCodesAndTopLevelAreOneLineErrors() throws {
        let conditioner = try UpsamplerConditioner(parameters: ParameterRecorder(seed: 1), settings: .init(Self.hps()))
        for (codes, n) in [([0, 1, 20, 3], 1), ([0, -1], 2), ([0, 1, 2], 2), ([], 1)] {
            XCTAssertThrowsError(try conditioner.forward(codes, n: n)) { error in
                XCTAssertTrue(error is JukeboxError)
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        XCTAssertThrowsError(try UpsamplerConditioner.Settings(Self.hps(["level": 2]))) { error in
            XCTAssertTrue("\(error)".contains("no level above"), "\(error)")
        }
    }
}
