import Foundation
import JukeboxCore

/// The reference's exponential moving average of the weights (utils/ema.py, on when hps.ema): after each
/// optimizer step, state = mu·state + (1 − mu)·weights, in float32. The reference swaps the average in to
/// save a checkpoint, so the average is the model it publishes; here the checkpoint's weights.safetensors
/// holds it, beside the raw weights the optimizer goes on from.
public final class ExponentialMovingAverage: @unchecked Sendable {
    public let mu: Float
    /// Averages by parameter key, for the distinct parameters (a tied x_out shares x_emb's).
    public private(set) var state: [String: Tensor]

    /// Starts from the current weights (as the reference's EMA at construction).
    public init(parameters: [(key: String, tensor: Tensor)], mu: Float) {
        self.mu = mu
        var s: [String: Tensor] = [:]
        for (key, t) in parameters { s[key] = t.copy() }
        state = s
    }

    /// Starts from saved averages (resuming).
    init(state: [String: Tensor], mu: Float) {
        self.state = state
        self.mu = mu
    }

    /// mu from hps: `mu` when set, else the reference's 1 − bs·ngpus/8/1000 (one process: ngpus 1).
    public static func mu(hps: Hyperparameters) throws -> Float {
        if hps.has("mu") { return Float(try hps.double("mu")) }
        let bs = hps.has("bs") ? try hps.int("bs") : 1
        return Float(1 - (Double(bs) / 8) / 1000)
    }

    public func step(_ parameters: [(key: String, tensor: Tensor)]) {
        let mu = self.mu
        for (key, p) in parameters {
            guard let s = state[key] else { continue }
            let sp = s.data, pp = p.data
            parallelFor(p.count, minChunk: 1 << 15) { r in for i in r { sp[i] = mu * sp[i] + (1 - mu) * pp[i] } }
        }
    }
}
