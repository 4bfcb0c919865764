import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// train_loss and the gradient of every parameter against the reference's (grads.safetensors), for each
/// prior fixture; sizes come from the fixture's own config.
final class PriorGradFixtureTests: XCTestCase {
    func check(_ name: String) throws {
        let folder = try Fixtures.folder(name)
        let model = try TrainablePrior.load(folder: folder)
        let io = try Fixtures.io(name)
        let batch = try io.entry("z").shape[0]
        let zCond = io.entries["z_cond0"] == nil ? nil : try io.int64s("z_cond0")
        let (loss, grads) = try model.lossAndGradients(z: try io.int64s("z"), zCond: zCond, y: try io.int64s("y"), batch: batch)
        let refLoss = Double(try io.tensor("train_loss")[0])
        print("\(name) train_loss \(loss.total) (reference \(refLoss)), relative error \(abs(loss.total - refLoss) / abs(refLoss))")
        XCTAssertEqual(loss.total, refLoss, accuracy: 1e-4 * abs(refLoss))

        let ref = try SafetensorsFile(path: folder + "/grads.safetensors")
        let refNames = ref.names.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) }
        XCTAssertEqual(Set(grads.keys), Set(refNames), "\(name): the parameters that get a gradient")
        var worst = (0.0, "")
        for key in refNames {
            let r = try ref.tensor("grad." + key)
            guard let g = grads[key] else { XCTFail("\(name): no gradient for \(key)"); continue }
            XCTAssertEqual(g.shape, r.shape, key)
            let err = relativeError(g, r)
            if err > worst.0 { worst = (err, key) }
            XCTAssertLessThanOrEqual(err, 1e-3, "\(name) grad \(key): relative error \(err)")
        }
        print("\(name): \(refNames.count) gradients, worst relative error \(worst.0) (\(worst.1))")
    }

    func testTopDense() throws { try check("prior_top_dense") }
    func testTopLabels() throws { try check("prior_top_labels") }
    func testUpsamplerLevel1() throws { try check("upsampler_level1") }
    func testUpsamplerLevel0() throws { try check("upsampler_level0") }
    func testTop1bLyrics() throws { try check("prior_top_1b_lyrics") }
    func testTop5bLyrics() throws { try check("prior_top_5b_lyrics") }
}
