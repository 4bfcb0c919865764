import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Float32 weights are used where the file is mapped: loading a model copies none of its matrices.
final class WeightMappingTests: XCTestCase {
    func testPriorMatricesAreTheMappedFileNotCopies() throws {
        for name in ["prior_top_labels", "upsampler_level1", "prior_top_5b_lyrics"] {
            let model = try PriorModel.load(folder: try Fixtures.folder(name))
            let t = model.prior.prior.transformer
            for layer in t.layers {
                for linear in [layer.cAttn, layer.cProj, layer.fc, layer.proj] + (layer.cEncKv.map { [$0] } ?? []) {
                    XCTAssertTrue(linear.w?.storage.isBorrowed == true, "\(name): a transformer matrix was copied")
                }
            }
            XCTAssertTrue(model.prior.prior.xEmb.storage.isBorrowed, name)
        }
    }

    func testVQVAECodebooksAreMapped() throws {
        let store = try WeightStore(folder: try Fixtures.folder("vqvae"))
        XCTAssertTrue(try store.take("bottleneck.level_blocks.0.k", store.file.entries["bottleneck.level_blocks.0.k"]!.shape)
            .storage.isBorrowed)
    }
}
