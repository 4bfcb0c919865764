import Foundation

/// A trained prior judged on held-out songs for the model card: its mean bits per code token on windows
/// of the test songs' codes, beside a unigram baseline (each code's frequency in the training songs, with
/// one extra count per codebook entry so no code has probability 0). A prior that has learned anything
/// beats the unigram; log2(l_bins) is what a uniform guess costs.
public struct PriorHeldOut: Sendable, Equatable {
    public let level: Int
    public let windows: Int
    public let tokens: Int
    public let bitsPerToken: Double
    public let unigramBitsPerToken: Double
    public let uniformBitsPerToken: Double

    public var json: [String: Any] {
        ["level": level, "windows": windows, "tokens": tokens, "bits_per_token": bitsPerToken,
         "unigram_bits_per_token": unigramBitsPerToken, "uniform_bits_per_token": uniformBitsPerToken]
    }

    /// Scores `prior` on `windows` seeded windows of the code files in `test`; the baseline counts codes
    /// of the same level in `train`. Windows are drawn as training draws them (labels, lyrics, the level
    /// above), from a fixed seed, so two priors of one recipe are scored on the same windows.
    public static func evaluate(prior: PriorModel, train: String, test: String, windows: Int, seed: UInt64 = 7) throws -> PriorHeldOut {
        let config = prior.prior.config
        let testData = try PriorTrainingData(folder: test, hps: prior.hps)
        let trainData = try PriorTrainingData(folder: train, hps: prior.hps)
        var counts = [Double](repeating: 1, count: config.lBins)
        for song in trainData.songs { for code in song.codes { counts[code] += 1 } }
        let total = counts.reduce(0, +)
        var modelBits = 0.0, unigramBits = 0.0, tokens = 0
        for w in 0..<max(windows, 1) {
            let batch = try testData.batch(index: w, size: 1, seed: seed)
            let z = try LevelCodes(n: 1, t: batch.z.count, values: batch.z)
            let zCond = try batch.zCond.map { try LevelCodes(n: 1, t: $0.count, values: $0) }
            let y = try batch.y.map { try LevelCodes(n: 1, t: $0.count, values: $0) }
            let bits = try prior.bitsPerToken(z: z, zCond: zCond, y: y)
            modelBits += bits.flatMap { $0 }.reduce(0, +)
            for code in batch.z { unigramBits -= log2(counts[code] / total) }
            tokens += batch.z.count
        }
        let n = Double(max(tokens, 1))
        return PriorHeldOut(level: config.level, windows: max(windows, 1), tokens: tokens, bitsPerToken: modelBits / n,
                            unigramBitsPerToken: unigramBits / n, uniformBitsPerToken: log2(Double(config.lBins)))
    }
}
