import Foundation
import JukeboxCore

/// Speed of VQ-VAE training steps on random weights and a synthetic signal: the whole step (every level's
/// encoder, codebook, decoder, losses and backward, then Adam), and the multi-resolution spectral loss
/// with its gradient alone (its share of the step).
public enum VQVAETrainingBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public let preset: String
        public let sampleLength: Int, batch: Int, steps: Int
        public let secondsPerStep: Double
        /// The spectral loss and its gradient for every level's output, per step.
        public let spectralSecondsPerStep: Double
        public let parameters: Int
        public var stepsPerSecond: Double { 1 / secondsPerStep }
        /// Seconds of audio trained on per second of wall time.
        public var audioSecondsPerSecond: Double { Double(sampleLength * batch) / 44100 / secondsPerStep }
        public var description: String {
            String(format: "VQ-VAE training (%@, %d parameters), batch %d × %d samples: %.3f s/step (%.2f steps/s, %.2f s of audio per s); spectral loss %.3f s/step",
                   preset, parameters, batch, sampleLength, secondsPerStep, stepsPerSecond, audioSecondsPerSecond, spectralSecondsPerStep)
        }
    }

    public static func run(preset: RandomModelSet.Preset, sampleLength: Int, batch: Int, steps: Int) throws -> Result {
        let hps = try RandomModelSet.parse(.vqvae, RandomModelSet.vqvaeHps(preset), source: "bench").1.hps
        let x = Tensor(zeros: [batch, sampleLength, 1])
        for i in 0..<x.count {
            let t = Double(i % sampleLength) / 44100
            x.data[i] = Float(0.3 * sin(2 * Double.pi * 220 * t) + 0.1 * sin(2 * Double.pi * 1375 * t))
        }
        let model = try TrainableVQVAE.random(hps: hps, bandwidth: try Bandwidth.measure([x]), seed: 1)
        let optimizer = AdamOptimizer(settings: try AdamSettings(hps: hps))
        let grads = Gradients()
        func step() throws {
            grads.zero()
            _ = try model.accumulateGradients(x, into: grads)
            optimizer.update(model.trainableParameters, grads: model.namedGradients(grads))
        }
        try step()      // warm-up: initialises the codebooks and the optimizer's moments
        let start = Date()
        for _ in 0..<steps { try step() }
        let perStep = Date().timeIntervalSince(start) / Double(steps)
        let spectral = model.objective.multispectralLoss
        let target = spectral.target(x.data, n: batch, t: sampleLength)
        // A prediction unlike the target, so the backward runs too.
        let prediction = Tensor(zeros: [batch, sampleLength]), grad = Tensor(zeros: [batch, sampleLength])
        for i in 0..<prediction.count { prediction.data[i] = 0.5 * x.data[i] }
        let s0 = Date()
        for _ in 0..<model.config.levels { _ = spectral.add(weight: 1, target: target, prediction: prediction.data, into: grad.data) }
        return Result(preset: preset.rawValue, sampleLength: sampleLength, batch: batch, steps: steps, secondsPerStep: perStep,
                      spectralSecondsPerStep: Date().timeIntervalSince(s0), parameters: model.trainableParameters.reduce(0) { $0 + $1.tensor.count })
    }
}
