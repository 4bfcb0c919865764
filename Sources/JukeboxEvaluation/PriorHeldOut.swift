import Foundation
import JukeboxCore
import JukeboxTraining

/// A trained prior judged on held-out songs for the model card: its mean bits per code token on windows
/// of the test songs' codes, beside a unigram baseline (each code's frequency in the training songs, with
/// one extra count per codebook entry so no code has probability 0). A prior that has learned anything
/// beats the unigram; log2(l_bins) is what a uniform guess costs.
///
/// What a prior takes from its conditions is measured by scoring the same windows again with a condition
/// borrowed from another window (most likely another song): the level above (upsamplers) or the artist and
/// genres. The bits it then loses are what that condition was worth to it; near zero means the prior
/// ignores it, and its samples cannot follow it either. A prior with a bar clock is also scored with its
/// clock half a bar off: the same tempo, the beats in the wrong places.
public struct PriorHeldOut: Sendable, Equatable {
    public let level: Int
    public let windows: Int
    public let tokens: Int
    public let bitsPerToken: Double
    public let unigramBitsPerToken: Double
    public let uniformBitsPerToken: Double
    /// Bits per token with another window's level above (nil for the top level).
    public let bitsWithOtherAbove: Double?
    /// Bits per token with another window's artist and genres (nil for a prior without labels).
    public let bitsWithOtherLabels: Double?
    /// Bits per token with the bar clock's downbeat moved by half a bar (nil without a clock).
    public var bitsWithClockHalfABarOff: Double? = nil
    /// Bits per token with the artist "unknown" (id 0) in place of each song's own, when asked for: what
    /// naming the artist is worth, even where every held-out song has the same one.
    public var bitsWithUnknownArtist: Double? = nil

    public var json: [String: Any] {
        var json: [String: Any] = [
            "level": level, "windows": windows, "tokens": tokens, "bits_per_token": bitsPerToken,
            "unigram_bits_per_token": unigramBitsPerToken, "uniform_bits_per_token": uniformBitsPerToken]
        json["bits_with_other_above"] = bitsWithOtherAbove
        json["bits_with_other_labels"] = bitsWithOtherLabels
        json["bits_with_clock_half_a_bar_off"] = bitsWithClockHalfABarOff
        json["bits_with_unknown_artist"] = bitsWithUnknownArtist
        return json
    }

    /// Scores `prior` on `windows` seeded windows of the code files in `test`; the baseline counts codes
    /// of the same level in `train`. Windows are drawn as training draws them (labels, lyrics, the level
    /// above), from a fixed seed, so two priors of one recipe are scored on the same windows.
    public static func evaluate(prior: PriorModel, train: String, test: String, windows: Int, seed: UInt64 = 7,
                                unknownArtist: Bool = false) throws -> PriorHeldOut {
        try evaluate(prior: prior, train: train, test: try PriorTrainingData(folder: test, hps: prior.hps), windows: windows, seed: seed,
                     unknownArtist: unknownArtist)
    }

    /// The same on windows from anywhere, such as a model's own sample sessions
    /// (`PriorTrainingData(sessions:vocabulary:hps:)`).
    public static func evaluate(prior: PriorModel, train: String, test testData: PriorTrainingData, windows: Int,
                                seed: UInt64 = 7, unknownArtist: Bool = false) throws -> PriorHeldOut {
        let config = prior.prior.config
        let trainData = try PriorTrainingData(folder: train, hps: prior.hps)
        var counts = [Double](repeating: 1, count: config.lBins)
        for song in trainData.songs { for code in song.codes { counts[code] += 1 } }
        let total = counts.reduce(0, +)
        let labelSpan = config.labelLayout.artistAndGenres
        let clock = config.labelLayout.clock
        var modelBits = 0.0, unigramBits = 0.0, otherAboveBits = 0.0, otherLabelsBits = 0.0, offClockBits = 0.0, unknownArtistBits = 0.0, tokens = 0
        func bits(_ z: [Int], _ zCond: [Int]?, _ y: [Int]?) throws -> Double {
            let scored = try prior.bitsPerToken(z: LevelCodes(n: 1, t: z.count, values: z),
                                                zCond: zCond.map { try LevelCodes(n: 1, t: $0.count, values: $0) },
                                                y: y.map { try LevelCodes(n: 1, t: $0.count, values: $0) })
            return scored.flatMap { $0 }.reduce(0, +)
        }
        let count = max(windows, 1)
        for w in 0..<count {
            let batch = try testData.batch(index: w, size: 1, seed: seed)
            // Another window's conditions: the same seed, an index no scored window uses.
            let other = try testData.batch(index: w + count, size: 1, seed: seed)
            modelBits += try bits(batch.z, batch.zCond, batch.y)
            if batch.zCond != nil { otherAboveBits += try bits(batch.z, other.zCond, batch.y) }
            if var y = batch.y, let otherY = other.y {
                y.replaceSubrange(labelSpan, with: otherY[labelSpan])
                otherLabelsBits += try bits(batch.z, batch.zCond, y)
            }
            if unknownArtist, var y = batch.y {
                y[labelSpan.lowerBound] = 0
                unknownArtistBits += try bits(batch.z, batch.zCond, y)
            }
            if var y = batch.y, !clock.isEmpty {
                y[clock.lowerBound + 1] += y[clock.lowerBound] / 2
                offClockBits += try bits(batch.z, batch.zCond, y)
            }
            for code in batch.z { unigramBits -= log2(counts[code] / total) }
            tokens += batch.z.count
        }
        let n = Double(max(tokens, 1))
        var scored = PriorHeldOut(level: config.level, windows: count, tokens: tokens, bitsPerToken: modelBits / n,
                                  unigramBitsPerToken: unigramBits / n, uniformBitsPerToken: log2(Double(config.lBins)),
                                  bitsWithOtherAbove: config.isTopLevel ? nil : otherAboveBits / n,
                                  bitsWithOtherLabels: config.labels ? otherLabelsBits / n : nil)
        if !clock.isEmpty { scored.bitsWithClockHalfABarOff = offClockBits / n }
        if unknownArtist && config.labels { scored.bitsWithUnknownArtist = unknownArtistBits / n }
        return scored
    }
}
