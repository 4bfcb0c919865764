import Foundation
import JukeboxCore
import JukeboxTraining
import XCTest

/// A set taught a prime before continuing it: each prior, a few steps on the prime's windows under the prompt's
/// labels, predicts the prime better than before; the set it came from is untouched.
final class PrimeAdaptationTests: XCTestCase {
    func testEachPriorHearsThePrimeAndTheSetStaysAsItWas() throws {
        let dir = NSTemporaryDirectory() + "prime-adaptation-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try RandomModelSet.write(preset: .tiny, seed: 5, to: dir + "/set")
        let set = try ModelSet.load(dir + "/set")
        let rate = set.vqvae.sampleRate, frames = 2 * rate / 128 * 128   // whole top-level codes, as the sampler keeps
        // Clicks twice a second.
        let audio: [Float] = (0..<frames).map { (i: Int) -> Float in
            let click: Float = i % (rate / 2) < rate / 100 ? 0.6 : 0
            return click * Float(sin(Double(i) * 0.9))
        }
        let codes = try set.vqvae.encode(Tensor(shape: [1, frames, 1], values: audio))
        let request = PromptRequest(genre: RandomModelSet.genres[0], artist: RandomModelSet.artists[0], lyrics: "la la la", seconds: 4,
                                    seed: 3, mode: .primed)
        let prompt = try PromptResolver.resolve(request, models: set, prime: audio).generation
        let before = try Self.snapshot(dir + "/set")

        let levels = try PrimeAdaptation.adapt(set: dir + "/set", primeCodes: codes, prompt: prompt,
                                               settings: try .init(steps: 8, learningRate: 0.001), to: dir + "/adapted")
        XCTAssertEqual(levels, [2, 1, 0])
        XCTAssertEqual(try Self.snapshot(dir + "/set"), before, "the set taught is a copy")
        let adapted = try ModelSet.load(dir + "/adapted")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/adapted/vqvae/weights.safetensors")),
                       before["vqvae/weights.safetensors"], "the codec is the set's")
        for level in levels {
            let original = try set.prior(level: level), taught = try adapted.prior(level: level)
            let data = try XCTUnwrap(try PriorTrainingData(prime: codes, prompt: prompt, hps: original.hps))
            func bits(_ prior: PriorModel) throws -> Double {
                var total = 0.0, count = 0
                for index in 0..<4 {
                    let b = try data.batch(index: index, size: 1, seed: 11)
                    let scored = try prior.bitsPerToken(z: LevelCodes(n: 1, t: b.z.count, values: b.z),
                                                        zCond: b.zCond.map { try LevelCodes(n: 1, t: $0.count, values: $0) },
                                                        y: b.y.map { try LevelCodes(n: 1, t: $0.count, values: $0) })
                    total += scored.flatMap { $0 }.reduce(0, +); count += b.z.count
                }
                return total / Double(count)
            }
            XCTAssertLessThan(try bits(taught), try bits(original) - 0.05, "level \(level) predicts the prime better")
        }
        // A prime shorter than a window leaves that prior as it was, and says so.
        var notes: [String] = []
        let short = try codes.map { try LevelCodes(n: 1, t: $0.t / 20, values: Array($0.values.prefix($0.t / 20))) }
        let some = try PrimeAdaptation.adapt(set: dir + "/set", primeCodes: short, prompt: prompt, settings: try .init(steps: 1),
                                             to: dir + "/short", log: { notes.append($0) })
        XCTAssertFalse(some.contains(2), "\(some)")
        XCTAssertTrue(notes.contains { $0.contains("shorter than a level-2 window") }, "\(notes)")
        XCTAssertThrowsError(try PrimeAdaptation.adapt(set: dir + "/set", primeCodes: codes, prompt: prompt, settings: try .init(steps: 0),
                                                       to: dir + "/none"))
    }

    static func snapshot(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for item in try FileManager.default.subpathsOfDirectory(atPath: folder) {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + item, isDirectory: &isDir), !isDir.boolValue {
                out[item] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + item))
            }
        }
        return out
    }
}
