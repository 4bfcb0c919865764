import Foundation
import JukeboxCore
import XCTest

/// `jukebox quantize`: compact sets that score as their float32 sources do, sample, and say what they are.
final class QuantizeCommandTests: XCTestCase {
    func meanBits(_ prior: String, _ codes: String) throws -> Double {
        let r = try CLI.run(["score", "--prior", prior, codes, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(json["mean_bits_per_token"] as? Double)
    }

    /// Every kind of prior, quantized, scores the reference's codes within the format's budget of its
    /// float32 bits: 0.01 bits a token at q8 (and the 16-bit floats), 0.05 at q4.
    func testQuantizedPriorsScoreWithinTheirBudgetOfFloat32() throws {
        let budget: [WeightFormat: Double] = [.f16: 0.01, .bf16: 0.01, .q8: 0.01, .q4: 0.05]
        let dir = temporaryFolder(self)
        for name in ["prior_top_labels", "prior_top_1b_lyrics", "prior_top_5b_lyrics", "upsampler_level1", "upsampler_level0"] {
            let folder = try CLI.fixture(name)
            let codes = folder + "/io.safetensors"
            let reference = try meanBits(folder, codes)
            for (format, allowed) in budget.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let out = dir + "/\(name)-\(format.rawValue)"
                let q = try CLI.run(["quantize", folder, "--to", format.rawValue, "-o", out])
                XCTAssertEqual(q.status, 0, q.stderr)
                XCTAssertEqual(try ModelConfig.load(folder: out).weightFormat, format)
                let bits = try meanBits(out, codes)
                print("\(name) \(format.rawValue): \(bits) bits a token (float32 \(reference))")
                XCTAssertEqual(bits, reference, accuracy: allowed, "\(name) \(format.rawValue)")
            }
        }
    }

    /// The bundled set in q4: written beside, described by `info`, sampled through all three levels; the
    /// source untouched, and bad requests refused in one line.
    func testAQuantizedSetSamplesAndSaysItsFormat() throws {
        let bundled = try BundledModel.locate(environment: [:], executable: CLI.executable)
        let dir = temporaryFolder(self)
        let before = try Data(contentsOf: URL(fileURLWithPath: bundled + "/prior_level_2/weights.safetensors"))
        let q = try CLI.run(["quantize", bundled, "--to", "q4", "-o", dir + "/q4"])
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertTrue(q.stdout.contains(dir + "/q4/prior_level_2: "), q.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: bundled + "/prior_level_2/weights.safetensors")), before)
        let source = try FileManager.default.attributesOfItem(atPath: bundled + "/prior_level_2/weights.safetensors")[.size] as! Int
        let packed = try FileManager.default.attributesOfItem(atPath: dir + "/q4/prior_level_2/weights.safetensors")[.size] as! Int
        XCTAssertLessThan(packed, source / 2, "the top prior's matrices take an eighth of their float32 bytes")

        let info = try CLI.run(["info", dir + "/q4"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("weight format: q4"), info.stdout)
        XCTAssertTrue(info.stdout.contains("model set, priors for levels 2, 1, 0 (complete)"), info.stdout)
        XCTAssertNotNil(try ModelSet.load(dir + "/q4").alignmentPrior, "the packed alignment prior comes along")

        let song = dir + "/song"
        let s = try CLI.run(["sample", "--model", dir + "/q4", "--genre", "rock", "--artist", "gluxpesh ternail",
                             "--lyrics", "my engine is wild", "--seconds", "2", "-o", song])
        XCTAssertEqual(s.status, 0, s.stderr)
        let audio = try AudioFile.read(song + "/render-level0-sample0.wav")
        XCTAssertEqual(audio.frames, 2 * 44100 / 128 * 128)

        assertCleanFailure(try CLI.run(["quantize", bundled, "--to", "q4", "-o", dir + "/q4"]), naming: dir + "/q4")
        assertCleanFailure(try CLI.run(["quantize", bundled, "--to", "q3", "-o", dir + "/q3"]), naming: "--to")
        assertCleanFailure(try CLI.run(["quantize", dir + "/q4", "--to", "q8", "-o", dir + "/again"]), naming: "config.json")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/again"), "nothing half-written")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }, [],
                       "no staging folder left behind")
    }
}
