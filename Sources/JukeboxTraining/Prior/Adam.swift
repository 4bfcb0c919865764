import Foundation
import JukeboxCore

/// Adam as the reference's FusedAdam steps it (apex's fused kernel, eps outside the square root, bias
/// correction folded into the step size, weight decay added to the update), after scaling the gradients
/// down to a global norm of `clip`. State per parameter name: first and second moments and its step count.
public final class AdamOptimizer: @unchecked Sendable {
    public private(set) var settings: AdamSettings
    /// Optimizer steps taken (skipped steps not counted), the scheduler's step.
    public private(set) var step = 0
    var moments: [String: (m: Tensor, v: Tensor, t: Int)] = [:]

    public init(settings: AdamSettings) { self.settings = settings }

    /// Makes the schedule half a cosine from the learning rate to zero over steps 0..<`steps` (after the same
    /// warm-up): a run given a time rather than a step count plans its end once it knows its speed. Saved with
    /// the checkpoint, so a resumed run keeps the plan.
    public func planCosine(endingAt steps: Int) {
        settings.lrUseCosineDecay = true
        settings.lrUseLinearDecay = false
        settings.lrStartLinearDecay = 0
        settings.lrDecay = Double(max(steps, 1))
    }

    public struct StepReport: Sendable {
        public let gradNorm: Double
        public let learningRate: Double
        public let skipped: Bool
    }

    /// Global L2 norm of the gradients of distinct parameters.
    static func norm(_ grads: [String: Tensor]) -> Double {
        var s = 0.0
        for g in grads.values {
            var t = 0.0
            for i in 0..<g.count { t += Double(g.data[i]) * Double(g.data[i]) }
            s += t
        }
        return s.squareRoot()
    }

    /// Updates each parameter (key, tensor) with a gradient in `grads` in place.
    @discardableResult
    public func update(_ parameters: [(key: String, tensor: Tensor)], grads: [String: Tensor]) -> StepReport {
        let s = settings
        let gradNorm = AdamOptimizer.norm(grads)
        let lr = s.learningRate(step: step)
        if !gradNorm.isFinite || (s.ignoreGradNorm > 0 && gradNorm > s.ignoreGradNorm) {
            return StepReport(gradNorm: gradNorm, learningRate: lr, skipped: true)
        }
        // clipped_grad_scale: divide by norm/clip when that exceeds 1.
        let scale = Float(s.clip > 0 && gradNorm / s.clip > 1 ? gradNorm / s.clip : 1)
        let b1 = Float(s.beta1), b2 = Float(s.beta2), eps = Float(s.eps), decay = Float(s.weightDecay)
        var seen = Set<ObjectIdentifier>()
        for (key, p) in parameters {
            guard seen.insert(ObjectIdentifier(p.storage)).inserted, let g = grads[key] else { continue }
            var state = moments[key] ?? (Tensor(zeros: p.shape), Tensor(zeros: p.shape), 0)
            state.t += 1
            let c1 = 1 - powf(b1, Float(state.t)), c2 = 1 - powf(b2, Float(state.t))
            let stepSize = Float(s.learningRate(lr, of: key)) * c2.squareRoot() / c1
            let m = state.m.data, v = state.v.data, w = p.data, gd = g.data
            parallelFor(p.count, minChunk: 1 << 14) { range in
                for i in range {
                    let sg = gd[i] / scale
                    m[i] = b1 * m[i] + (1 - b1) * sg
                    v[i] = b2 * v[i] + (1 - b2) * sg * sg
                    let update = m[i] / (v[i].squareRoot() + eps) + decay * w[i]
                    w[i] -= stepSize * update
                }
            }
            moments[key] = state
        }
        step += 1
        return StepReport(gradNorm: gradNorm, learningRate: lr, skipped: false)
    }

    // MARK: Saving

    /// The moments as tensors `exp_avg.<key>` and `exp_avg_sq.<key>` (the reference's state names), and each
    /// parameter's step count.
    func stateTensors() -> (SafetensorsWriter, [String: Int]) {
        var w = SafetensorsWriter()
        var steps: [String: Int] = [:]
        for key in moments.keys.sorted() {
            let s = moments[key]!
            w.add("exp_avg." + key, s.m)
            w.add("exp_avg_sq." + key, s.v)
            steps[key] = s.t
        }
        return (w, steps)
    }

    func restore(step: Int, steps: [String: Int], file: SafetensorsFile) throws {
        self.step = step
        moments = [:]
        for (key, t) in steps {
            let m = try file.tensor("exp_avg." + key).copy(), v = try file.tensor("exp_avg_sq." + key).copy()
            guard m.shape == v.shape else { throw JukeboxError(file.path, "moments of \(key) differ in shape") }
            moments[key] = (m, v, t)
        }
    }
}
