import Foundation

/// Times decoding with the published 5b VQ-VAE's shapes (random weights, random codes), so speed
/// can be measured and recorded without the checkpoint. Timing lives here, never in tests.
public enum VQVAEBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public let level: Int
        public let batch: Int
        public let audioSeconds: Double
        /// Best wall time over the repeats.
        public let wallSeconds: Double
        /// Audio seconds decoded (all batch items) per wall second.
        public let realtimeFactor: Double
        public let gflops: Double

        public var description: String {
            String(format: "level %d, batch %d: %.2f s of audio in %.3f s = %.2fx real time (%.1f GFLOP/s)",
                   level, batch, audioSeconds, wallSeconds, realtimeFactor, gflops)
        }
    }

    /// Decodes `seconds` of random codes at `level` for `batch` items, `repeats` times, after one short warm-up.
    public static func run(seconds: Double, level: Int, batch: Int = 1, repeats: Int = 3,
                           seed: UInt64 = 0) throws -> Result {
        let hps = Hyperparameters(VQVAEHyperparameters.published5b, source: "5b vqvae (random weights)")
        let model = try VQVAE.random(hps, seed: seed)
        guard level >= 0 && level < model.levels else {
            throw JukeboxError("level", "level \(level) is outside 0..<\(model.levels)")
        }
        let hop = model.hopLengths[level]
        let t = max(1, Int((seconds * Double(model.sampleRate) / Double(hop)).rounded()))
        var rng = SeededGenerator(seed: seed &+ 1)
        let codes = try LevelCodes(n: batch, t: t,
                                   values: (0..<(batch * t)).map { _ in Int(rng.next() % UInt64(model.codebookSize)) })
        _ = try model.decode(LevelCodes(n: 1, t: min(t, 64), values: Array(codes.values.prefix(min(t, 64)))), level: level)
        var best = Double.infinity
        for _ in 0..<max(repeats, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.decode(codes, level: level)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let audio = Double(batch * t * hop) / Double(model.sampleRate)
        return Result(level: level, batch: batch, audioSeconds: audio, wallSeconds: best,
                      realtimeFactor: audio / best,
                      gflops: Double(decodeFlops(model.hps, level: level, codes: t)) * Double(batch) / best / 1e9)
    }

    /// Multiply-adds ×2 of one item's decode of `codes` codes at `level` (convolutions only).
    public static func decodeFlops(_ hps: VQVAEHyperparameters, level: Int, codes: Int) -> Int {
        let c = hps.blockConfig(level: level, decoder: true)
        let (w, s, e) = (c.width, c.stateWidth, hps.embWidth)
        var t = codes, flops = 0
        for l in stride(from: level, through: 0, by: -1) {
            flops += 2 * t * e * w * 3
            for i in 0..<hps.downsT[l] {
                flops += 2 * t * c.depth * (w * s * 3 + s * w)
                let out = i == hps.downsT[l] - 1 ? e : w
                flops += 2 * t * w * out * 2 * hps.stridesT[l]
                t *= hps.stridesT[l]
            }
        }
        return flops + 2 * t * e * 3
    }
}
