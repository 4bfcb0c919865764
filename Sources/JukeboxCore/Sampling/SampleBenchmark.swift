import Foundation

/// Times the whole pipeline on a random model set: sampling every level (top first) and decoding the
/// finest level, at a given batch. Timing lives here, never in tests.
public enum SampleBenchmark {
    public struct Result: Sendable {
        public let batch: Int
        public let audioSeconds: Double
        /// Tokens per second over the batch at each level (level → rate).
        public let tokensPerSecond: [Int: Double]
        public let samplingSeconds: Double
        public let decodeSeconds: Double
        /// Audio seconds produced (all samples) per wall second, sampling and decoding included.
        public var realtimeFactor: Double { audioSeconds * Double(batch) / (samplingSeconds + decodeSeconds) }
    }

    public static func run(set: ModelSet, seconds: Double, batch: Int, seed: UInt64 = 0) throws -> Result {
        let sr = set.vqvae.sampleRate, top = set.topLevel, hop = set.vqvae.hopLengths[top]
        let sampleLength = max(hop, Int(seconds * Double(sr)) / hop * hop)
        let settings = [SamplingSettings(temperature: 0.99), SamplingSettings(temperature: 0.99), SamplingSettings(temperature: 0.98)]
        var prompt = GenerationPrompt(artistID: 1, genreIDs: [1], lyricTokens: Array(repeating: 30, count: 200),
                                      totalLength: 60 * sr, sampleLength: sampleLength, settings: settings,
                                      seed: seed, samples: batch)
        prompt.chunkSize = 32
        var started: [Int: UInt64] = [:], rates: [Int: Double] = [:], counts: [Int: Int] = [:]
        let t0 = DispatchTime.now().uptimeNanoseconds
        let mode = GenerationMode.ancestral(lowestLevel: set.availableLevels.min() ?? top)
        let result = try Generator(models: set).generate(prompt, mode: mode, events: { e in
            let now = DispatchTime.now().uptimeNanoseconds
            switch e {
            case let .windowStarted(level, _, _, _): if started[level] == nil { started[level] = now }
            case let .tokensSampled(level, samples, positions, _): counts[level, default: 0] += samples.count * positions.count
            case let .levelFinished(level):
                let elapsed = Double(now - (started[level] ?? now)) / 1e9
                rates[level] = elapsed > 0 ? Double(counts[level, default: 0]) / elapsed : 0
            default: break
            }
        })
        let t1 = DispatchTime.now().uptimeNanoseconds
        let finest = result.codes.indices.first { result.codes[$0].t > 0 } ?? top
        _ = try set.vqvae.decode(result.codes[finest], level: finest)
        let t2 = DispatchTime.now().uptimeNanoseconds
        return Result(batch: batch, audioSeconds: Double(sampleLength) / Double(sr), tokensPerSecond: rates,
                      samplingSeconds: Double(t1 - t0) / 1e9, decodeSeconds: Double(t2 - t1) / 1e9)
    }
}
