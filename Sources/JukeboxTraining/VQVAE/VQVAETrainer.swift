import Foundation
import JukeboxCore

/// Held-out reconstruction quality of one level.
public struct VQVAELevelEvaluation: Sendable, Codable {
    public let level: Int
    /// Mean spectral convergence ‖S − Ŝ‖/‖S‖ (n_fft 2048, hop 256, window 1536), lower is better.
    public let spectralConvergence: Double
    /// Signal-to-noise ratio of the reconstruction in dB, 10·log10(Σx² / Σ(x − x̂)²) over all items.
    public let snr: Double
    /// Distinct codes used over the held-out items, of l_bins.
    public let codesUsed: Int
}

/// Trains a VQ-VAE on corpus crops with Adam as the reference does (train.py: the VQ-VAE's loss,
/// FusedAdam with gradient clipping and the warm-up schedule), and evaluates held-out reconstruction.
public final class VQVAETrainer: @unchecked Sendable {
    public let model: TrainableVQVAE
    public let optimizer: AdamOptimizer
    public let data: VQVAETrainingData
    public let batchSize: Int
    public let dataSeed: UInt64
    /// The reference's moving average of the weights (hps ema; mu, or 1 − bs/8000): the model it evaluates
    /// and saves. The codebooks are buffers, outside it, as in the reference.
    public let ema: ExponentialMovingAverage?
    /// Batches drawn so far (the index of the next one).
    public internal(set) var batchesDrawn = 0
    let grads = Gradients()

    public init(model: TrainableVQVAE, optimizer: AdamOptimizer, data: VQVAETrainingData, batchSize: Int, dataSeed: UInt64,
                ema: ExponentialMovingAverage? = nil) throws {
        guard batchSize > 0 else { throw JukeboxError("bs", "batch size must be at least 1, got \(batchSize)") }
        let top = model.config.hopLengths.last!
        guard data.sampleLength % top == 0 else {
            throw JukeboxError("sample_length", "\(data.sampleLength) is not a multiple of the top level's hop \(top)")
        }
        (self.model, self.optimizer, self.data, self.batchSize, self.dataSeed) = (model, optimizer, data, batchSize, dataSeed)
        self.ema = ema
    }

    /// A fresh run from hyperparameters: the architecture, the objective, sample_length, bs and the
    /// optimizer's settings, all under the reference's names; the bandwidth is measured on `bandwidthItems`
    /// training crops (the reference measures 600 s of items; like it, this needs sample_length > 1024 for
    /// the n_fft 2048 STFT).
    public static func start(hps: Hyperparameters, data: VQVAETrainingData, seed: UInt64, bandwidthItems: Int = 64) throws -> VQVAETrainer {
        let probe = data.batch(index: -1, size: max(bandwidthItems, 1), seed: seed)
        let bandwidth = try Bandwidth.measure([probe])
        let model = try TrainableVQVAE.random(hps: hps, bandwidth: bandwidth, seed: seed)
        let bs = hps.has("bs") ? try hps.int("bs") : 1
        return try VQVAETrainer(model: model, optimizer: AdamOptimizer(settings: AdamSettings(hps: hps)), data: data,
                                batchSize: bs, dataSeed: seed, ema: averaging(model, hps))
    }

    /// The weights' moving average when hps.ema is set.
    public static func averaging(_ model: TrainableVQVAE, _ hps: Hyperparameters) throws -> ExponentialMovingAverage? {
        guard hps.has("ema"), try hps.bool("ema") else { return nil }
        return ExponentialMovingAverage(parameters: model.trainableParameters, mu: try ExponentialMovingAverage.mu(hps: hps))
    }

    public struct StepReport: Sendable {
        public let loss: VQVAELoss
        public let optimizer: AdamOptimizer.StepReport
    }

    /// One optimizer step on the next batch.
    @discardableResult
    public func step() throws -> StepReport {
        let x = data.batch(index: batchesDrawn, size: batchSize, seed: dataSeed)
        batchesDrawn += 1
        grads.zero()
        let loss = try model.accumulateGradients(x, into: grads)
        let report = optimizer.update(model.trainableParameters, grads: model.namedGradients(grads))
        if !report.skipped { ema?.step(model.trainableParameters) }
        return StepReport(loss: loss, optimizer: report)
    }

    /// Runs `body` with the averaged weights in the model (the reference's ema.swap()), then puts the
    /// trained ones back.
    public func withAveragedWeights<T>(_ body: () throws -> T) rethrows -> T {
        guard let ema else { return try body() }
        let raw = model.trainableParameters.map { ($0.tensor, $0.tensor.copy()) }
        for (key, t) in model.trainableParameters { if let a = ema.state[key] { t.data.update(from: a.data, count: t.count) } }
        defer { for (t, saved) in raw { t.data.update(from: saved.data, count: t.count) } }
        return try body()
    }

    /// Reconstruction of the held-out crops (`perSong` per test song) at every level, codebooks unchanged,
    /// with the averaged weights when there are any (as the reference tests).
    public func evaluate(perSong: Int = 2) throws -> [VQVAELevelEvaluation] {
        try withAveragedWeights { try evaluateCurrent(perSong: perSong) }
    }

    func evaluateCurrent(perSong: Int) throws -> [VQVAELevelEvaluation] {
        let items = data.heldOut(perSong: perSong)
        guard !items.isEmpty else { throw JukeboxError("data", "the corpus holds no held-out (test) songs") }
        guard data.sampleLength > SpectralLoss.defaultSTFT.nFFT / 2 else {
            throw JukeboxError("sample_length", "\(data.sampleLength) is too short for spectral convergence's STFT (needs more than 1024)")
        }
        let levels = model.config.levels
        var sc = [Double](repeating: 0, count: levels), signal = 0.0, noise = [Double](repeating: 0, count: levels)
        var codes = [Set<Int>](repeating: [], count: levels)
        var count = 0
        for x in items {
            let (n, t) = (x.shape[0], x.shape[1])
            let (_, outputs, levelCodes) = try model.evaluate(x)
            for j in 0..<(n * t) { signal += Double(x.data[j]) * Double(x.data[j]) }
            for level in 0..<levels {
                let y = outputs[level]
                sc[level] += SpectralLoss.spectralConvergence(target: x.data, prediction: y.data, n: n, t: t) * Double(n)
                for j in 0..<(n * t) { let e = Double(x.data[j] - y.data[j]); noise[level] += e * e }
                codes[level].formUnion(levelCodes[level])
            }
            count += n
        }
        return (0..<levels).map { level in
            VQVAELevelEvaluation(level: level, spectralConvergence: sc[level] / Double(count),
                                 snr: 10 * log10(signal / max(noise[level], 1e-30)), codesUsed: codes[level].count)
        }
    }
}
