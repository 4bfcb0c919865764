import Foundation
import JukeboxCore
import XCTest

final class ScoreCommandTests: XCTestCase {
    /// Each bit count equals −log2 softmax of the reference's logits at that code, for every kind of prior.
    func testBitsPerTokenFollowTheReferenceLogits() throws {
        for name in ["prior_top_labels", "prior_top_dense", "prior_top_1b_lyrics", "prior_top_5b_lyrics",
                     "upsampler_level1", "upsampler_level0"] {
            let folder = try CLI.fixture(name)
            let r = try CLI.run(["score", "--prior", folder, folder + "/io.safetensors", "--json"])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let bits = try XCTUnwrap(json["bits_per_token"] as? [[Double]])
            let mean = try XCTUnwrap(json["mean_bits_per_token"] as? Double)

            let io = try SafetensorsFile(path: folder + "/io.safetensors")
            let hps = try ModelConfig.load(folder: folder).hps
            let logits = try io.tensor("logits"), z = try io.int64s("z")
            let (n, t) = (io.entries["z"]!.shape[0], io.entries["z"]!.shape[1])
            let (positions, bins) = (logits.shape[1], logits.shape[2])
            let single = try hps.bool("single_enc_dec")
            let prefix = single ? try hps.int("n_tokens") : 0, shift = single ? try hps.int("n_vocab") : 0
            XCTAssertEqual(bits.count, n)
            var total = 0.0
            for item in 0..<n {
                XCTAssertEqual(bits[item].count, t)
                for i in 0..<t {
                    let row = logits.data + (item * positions + prefix + i) * bins
                    let m = (0..<bins).map { Double(row[$0]) }.max()!
                    let logSum = log((0..<bins).map { exp(Double(row[$0]) - m) }.reduce(0, +)) + m
                    let expected = (logSum - Double(row[z[item * t + i] + shift])) / log(2.0)
                    XCTAssertEqual(bits[item][i], expected, accuracy: 1e-3 + 1e-4 * expected, "\(name) item \(item) code \(i)")
                    total += expected
                }
            }
            XCTAssertEqual(mean, total / Double(n * t), accuracy: 1e-4 * mean)
            if !(try hps.bool("use_tokens")) {
                // Without lyrics the reference's train_loss is exactly the mean bits per code.
                let trainLoss = Double(try io.tensor("train_loss")[0])
                XCTAssertEqual(mean, trainLoss, accuracy: 1e-4 * trainLoss, name)
            }
        }
    }

    func testCodesOutOfRangeAndMissingConditioningFailCleanly() throws {
        let folder = try CLI.fixture("upsampler_level1")
        let io = try SafetensorsFile(path: folder + "/io.safetensors")
        let hps = try ModelConfig.load(folder: folder).hps
        let bins = try hps.int("l_bins")
        let dir = temporaryFolder(self)
        let (n, t) = (io.entries["z"]!.shape[0], io.entries["z"]!.shape[1])
        let zc = io.entries["z_cond0"]!.shape

        var bad = SafetensorsWriter()
        var z = try io.int64s("z")
        z[3] = bins
        bad.add("z", shape: [n, t], int64s: z)
        bad.add("z_cond0", shape: zc, int64s: try io.int64s("z_cond0"))
        bad.add("y", shape: io.entries["y"]!.shape, int64s: try io.int64s("y"))
        try bad.write(to: dir + "/bad.safetensors")
        let r1 = try CLI.run(["score", "--prior", folder, dir + "/bad.safetensors"])
        assertCleanFailure(r1, naming: dir + "/bad.safetensors")
        XCTAssertTrue(r1.stderr.contains("\(bins)"), r1.stderr)

        var missing = SafetensorsWriter()
        missing.add("z", shape: [n, t], int64s: try io.int64s("z"))
        missing.add("y", shape: io.entries["y"]!.shape, int64s: try io.int64s("y"))
        try missing.write(to: dir + "/missing.safetensors")
        assertCleanFailure(try CLI.run(["score", "--prior", folder, dir + "/missing.safetensors"]), naming: "z_cond0")
    }
}
