import Foundation
import JukeboxCore

/// The optimizer's settings under the reference's hps names (train.py get_optimizer / get_lr_scheduler,
/// fp16.py FusedAdam): lr, beta1, beta2, eps, weight_decay, clip, ignore_grad_norm and the schedule
/// lr_warmup, lr_decay, lr_gamma, lr_scale, lr_use_linear_decay, lr_start_linear_decay, lr_use_cosine_decay.
public struct AdamSettings: Codable, Sendable, Equatable {
    public var lr = 0.0003
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var eps = 1e-8
    public var weightDecay = 0.0
    /// Gradients whose global L2 norm exceeds `clip` are scaled down to it.
    public var clip = 1.0
    /// A step whose gradient norm exceeds this (when > 0) is skipped, as the reference does.
    public var ignoreGradNorm = 0.0
    public var lrWarmup = 100.0
    public var lrDecay = 1e10
    public var lrGamma = 1.0
    public var lrScale = 1.0
    public var lrUseLinearDecay = false
    public var lrStartLinearDecay = 0
    /// Not in the reference's scheduler (its flag is unused there): half a cosine from 1 to 0 over
    /// lr_decay steps after lr_start_linear_decay, after the same warm-up.
    public var lrUseCosineDecay = false
    /// Ours: the bar clock's table learns at this multiple of the rate (nil: 1). Added at zero to a
    /// trained prior, it has further to go than weights already in place, and each of its rows hears
    /// only the codes at its own place in the bar, so its gradient is noisy and Adam's steps on it
    /// mostly cancel at the prior's own rate.
    public var barClockLrScale: Double? = nil

    public init() {}

    /// Reads every setting present in `hps`; the others keep the reference's defaults (hparams.py).
    public init(hps h: Hyperparameters) throws {
        func d(_ k: String, _ v: inout Double) throws { if h.has(k) { v = try h.double(k) } }
        func b(_ k: String, _ v: inout Bool) throws { if h.has(k) { v = try h.bool(k) } }
        try d("lr", &lr); try d("beta1", &beta1); try d("beta2", &beta2); try d("eps", &eps)
        try d("weight_decay", &weightDecay); try d("clip", &clip); try d("ignore_grad_norm", &ignoreGradNorm)
        try d("lr_warmup", &lrWarmup); try d("lr_decay", &lrDecay); try d("lr_gamma", &lrGamma); try d("lr_scale", &lrScale)
        try b("lr_use_linear_decay", &lrUseLinearDecay); try b("lr_use_cosine_decay", &lrUseCosineDecay)
        if h.has("lr_start_linear_decay") { lrStartLinearDecay = try h.int("lr_start_linear_decay") }
        if h.has("bar_clock_lr_scale") {
            let scale = try h.double("bar_clock_lr_scale")
            guard scale > 0, scale.isFinite else { throw JukeboxError(h.source, "bar_clock_lr_scale must be positive (got \(scale))") }
            barClockLrScale = scale
        }
        guard lr >= 0, beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1, eps > 0, lrDecay > 0 else {
            throw JukeboxError(h.source, "optimizer settings out of range (lr ≥ 0, 0 ≤ beta < 1, eps > 0, lr_decay > 0)")
        }
    }

    /// The learning rate of optimizer step `step` (0-based; the reference's LambdaLR, so step 0 has lr 0
    /// under warm-up): lr · lr_scale · min(1, step/lr_warmup) · decay.
    public func learningRate(step: Int) -> Double {
        let s = Double(step)
        let warm = lrWarmup > 0 ? min(1.0, s / lrWarmup) : 1.0
        let since = max(0.0, s - Double(lrStartLinearDecay))
        let decay: Double
        if lrUseLinearDecay {
            decay = max(0.0, 1.0 - since / lrDecay)
        } else if lrUseCosineDecay {
            decay = 0.5 * (1 + cos(Double.pi * min(1.0, since / lrDecay)))
        } else {
            decay = pow(lrGamma, (s / lrDecay).rounded(.down))
        }
        return lr * lrScale * warm * decay
    }

    enum CodingKeys: String, CodingKey {
        case lr, beta1, beta2, eps, weightDecay = "weight_decay", clip, ignoreGradNorm = "ignore_grad_norm"
        case lrWarmup = "lr_warmup", lrDecay = "lr_decay", lrGamma = "lr_gamma", lrScale = "lr_scale"
        case lrUseLinearDecay = "lr_use_linear_decay", lrStartLinearDecay = "lr_start_linear_decay"
        case lrUseCosineDecay = "lr_use_cosine_decay"
        case barClockLrScale = "bar_clock_lr_scale"
    }

    /// The rate of parameter `key` at a step whose scheduled rate is `lr`.
    func learningRate(_ lr: Double, of key: String) -> Double {
        key == PriorBarClock.tableKey ? lr * (barClockLrScale ?? 1) : lr
    }
}
