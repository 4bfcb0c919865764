import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The whole VQ-VAE objective's gradients (straight-through at the bottleneck) and plain gradient descent
/// on a tiny model.
final class VQVAETrainingTests: XCTestCase {
    static let hps = Hyperparameters([
        "levels": 2, "downs_t": [2, 1], "strides_t": [2, 4], "emb_width": 4, "l_bins": 16, "width": 8, "depth": 2,
        "m_conv": 1.0, "dilation_growth_rate": 3, "dilation_cycle": NSNull(), "hvqvae_multipliers": [2, 1],
        "vqvae_reverse_decoder_dilation": true, "sr": 44100, "l_mu": 0.9, "commit": 0.5, "spectral": 0.0,
        "multispectral": 1.0, "loss_fn": "lmix", "lmix_l1": 0.0, "lmix_l2": 1.0, "lmix_linf": 0.1, "linf_k": 16,
        "multispec_loss_n_fft": [64, 32], "multispec_loss_hop_length": [16, 8], "multispec_loss_window_size": [48, 32],
    ], source: "test")

    /// A chord of sines with an envelope, items at different pitches.
    static func signal(n: Int, t: Int) -> Tensor {
        Tensor(shape: [n, t, 1], values: (0..<(n * t)).map { i in
            let (item, j) = (Double(i / t), Double(i % t))
            let env = 0.5 + 0.5 * sin(2 * Double.pi * j / Double(t))
            return Float(0.3 * env * (sin(2 * Double.pi * j * (3 + item) / 64) + 0.5 * sin(2 * Double.pi * j * (7 + item) / 64)))
        })
    }

    /// Decoder weights: the loss by finite differences (codes do not depend on them). Encoder weights: the
    /// straight-through loss, where the decoder's input is the encoder's output plus the fixed offset
    /// x_d − x to its codebook entries, and the commitment term pulls the output toward those entries.
    func testGradientsAreTheStraightThroughEstimator() throws {
        let x = Self.signal(n: 2, t: 128)
        let m = try TrainableVQVAE.random(hps: Self.hps, bandwidth: Bandwidth.measure([Self.signal(n: 2, t: 2048)]), seed: 3)
        _ = try m.accumulateGradients(x, into: Gradients())          // initialises the codebooks from the data
        let grads = Gradients()
        let loss = try m.accumulateGradients(x, into: grads, updateCodebooks: false)
        XCTAssertEqual(loss.total, try m.evaluate(x).loss.total, accuracy: 1e-9, "the same loss with or without gradients")
        let named = m.namedGradients(grads)
        XCTAssertEqual(Set(named.keys), Set(m.trainableParameters.map(\.key)), "every weight but the codebooks")
        XCTAssertFalse(named.keys.contains { $0.hasPrefix("bottleneck") })

        let decoders = m.trainableParameters.filter { $0.key.hasPrefix("decoders.") }
        // The whole loss (≈ 8) comes from a float32 forward whose rounding (≈ 1e-6) puts a few 1e-4 of noise
        // into each difference quotient, hence the larger floor (the layers' own checks use 3e-2); a larger
        // step would trade that for curvature (the spectral norms) and more kinks crossed.
        try GradCheck.check(decoders, gradient: { named[$0] }, seed: 7, floor: 0.25, label: "decoders") { try m.evaluate(x).loss.total }

        let o = m.objective
        let (n, t) = (x.shape[0], x.shape[1])
        let input = x.reshaped([n, 1, t])
        let target = o.multispectralLoss.target(x.data, n: n, t: t)
        for level in 0..<m.config.levels {
            var tape = ConvTape()
            let latents = m.model.encoders[level].trainingForward(input, &tape)
            let q = m.bottlenecks[level].forward(latents, updateCodebook: false)
            let surrogate: () throws -> Double = {
                var t1 = ConvTape(), t2 = ConvTape()
                let h = m.model.encoders[level].trainingForward(input, &t1)
                let shifted = h.copy()
                var commit = 0.0
                for i in 0..<h.count {
                    shifted.data[i] += q.quantised.data[i] - latents.data[i]
                    commit += Double(h.data[i] - q.quantised.data[i]) * Double(h.data[i] - q.quantised.data[i])
                }
                let out = m.model.decoders[level].trainingForward(shifted, &t2)
                let recons = try ReconstructionLoss.loss(o.lossFn, target: x.data, prediction: out.data, n: n, t: t, objective: o).value
                let spectral = o.multispectralLoss.add(weight: o.multispectral / o.bandwidth.spec, target: target,
                                                       prediction: out.data, into: nil)
                return recons + spectral + o.commit * commit / Double(h.count)
            }
            let encoder = m.trainableParameters.filter { $0.key.hasPrefix("encoders.\(level).") }
            try GradCheck.check(encoder, gradient: { named[$0] }, seed: 8 + UInt64(level), floor: 0.25, label: "encoder \(level) (straight-through)",
                                loss: surrogate)
        }
    }

    func testGradientDescentReducesTheLoss() throws {
        let x = Self.signal(n: 2, t: 256)
        let m = try TrainableVQVAE.random(hps: Self.hps, bandwidth: Bandwidth.measure([Self.signal(n: 2, t: 2048)]), seed: 4)
        let grads = Gradients()
        var losses: [Double] = []
        for _ in 0..<40 {
            grads.zero()
            losses.append(try m.accumulateGradients(x, into: grads).total)
            m.sgdStep(grads, lr: 1e-3)
        }
        let after = try m.evaluate(x).loss
        print("SGD: loss \(losses[0]) → \(losses[losses.count - 1]) (evaluation \(after.total)); by step \(losses.map { String(format: "%.3f", $0) })")
        XCTAssertLessThan(after.total, 0.7 * losses[0])
        XCTAssertTrue(after.levels.allSatisfy { $0.recons.isFinite && $0.multispectral.isFinite })
    }
}
