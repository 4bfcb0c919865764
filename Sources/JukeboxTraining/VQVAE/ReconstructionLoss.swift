import Foundation
import JukeboxCore

/// The reference's hps.bandwidth: scales that make each loss term about 1 for the data at hand
/// (calculate_bandwidth): l2 the variance of the samples, l1 their mean |x|, spec the mean Frobenius
/// norm of an item's STFT magnitudes (n_fft 2048, hop 256, window 1536).
public struct Bandwidth: Sendable, Equatable {
    public var l1: Double, l2: Double, spec: Double
    public init(l1: Double, l2: Double, spec: Double) { (self.l1, self.l2, self.spec) = (l1, l2, spec) }

    /// Measured over audio items [N, T, 1] (or [N, T]) as calculate_bandwidth does over dataset items,
    /// each longer than 1024 samples (the default STFT's reflect padding).
    public static func measure(_ items: [Tensor]) throws -> Bandwidth {
        let stft = SpectralLoss.defaultSTFT
        if let short = items.first(where: { $0.shape[1] <= stft.nFFT / 2 }) {
            throw JukeboxError("bandwidth", "items of \(short.shape[1]) samples are too short to measure (need more than \(stft.nFFT / 2))")
        }
        var (l1, total, totalSq, seen, specNorm, specItems) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        for x in items {
            let t = x.shape[1]
            for item in 0..<x.shape[0] {
                let p = x.data + item * t
                for j in 0..<t { let v = Double(p[j]); l1 += abs(v); total += v; totalSq += v * v }
                seen += Double(t)
                let (_, mag) = stft.forward(p, t: t)
                var s = 0.0
                for i in 0..<mag.count { s += Double(mag.data[i]) * Double(mag.data[i]) }
                specNorm += s.squareRoot()
                specItems += 1
            }
        }
        let mean = total / max(seen, 1)
        return Bandwidth(l1: l1 / max(seen, 1), l2: totalSq / max(seen, 1) - mean * mean,
                         spec: specNorm / max(specItems, 1))
    }
}

/// The reference's _loss_fn over a batch of predictions and targets [N, T]: 'l1' mean |e| / bw.l1,
/// 'l2' mean e² / bw.l2, 'linf' the mean of each item's linf_k largest e² / bw.l2, and 'lmix' the
/// lmix_l1 / lmix_l2 / lmix_linf weighted sum of those (terms with weight 0 are skipped), e = pred − target.
enum ReconstructionLoss {
    /// Loss and its gradient with respect to the prediction, for `n` items of `t` samples.
    static func loss(_ name: String, target: UnsafePointer<Float>, prediction: UnsafePointer<Float>, n: Int, t: Int,
                     objective: VQVAEObjective) throws -> (value: Double, gradient: Tensor) {
        let grad = Tensor(zeros: [n, t])
        let value = try add(name, weight: 1, target: target, prediction: prediction, n: n, t: t, objective: objective,
                            into: grad.data)
        return (value, grad)
    }

    /// Adds weight·∂loss/∂prediction into `grad` and returns weight·loss.
    static func add(_ name: String, weight: Double, target: UnsafePointer<Float>, prediction: UnsafePointer<Float>,
                    n: Int, t: Int, objective o: VQVAEObjective, into grad: UnsafeMutablePointer<Float>) throws -> Double {
        let count = n * t
        switch name {
        case "l1":
            let s = weight / (Double(count) * o.bandwidth.l1)
            var sum = 0.0
            for i in 0..<count {
                let e = prediction[i] - target[i]
                sum += Double(abs(e))
                grad[i] += Float(s) * (e > 0 ? 1 : e < 0 ? -1 : 0)
            }
            return sum * s
        case "l2":
            let s = weight / (Double(count) * o.bandwidth.l2)
            var sum = 0.0
            for i in 0..<count {
                let e = prediction[i] - target[i]
                sum += Double(e) * Double(e)
                grad[i] += Float(2 * s) * e
            }
            return sum * s
        case "linf":
            // torch.topk needs linf_k ≤ T; shorter items use all their samples.
            let kTop = min(o.linfK, t)
            let s = weight / (Double(n * kTop) * o.bandwidth.l2)
            var sum = 0.0
            for item in 0..<n {
                let base = item * t
                let order = (0..<t).sorted { a, b in
                    let ea = prediction[base + a] - target[base + a], eb = prediction[base + b] - target[base + b]
                    return ea * ea > eb * eb
                }
                for j in order.prefix(kTop) {
                    let e = prediction[base + j] - target[base + j]
                    sum += Double(e) * Double(e)
                    grad[base + j] += Float(2 * s) * e
                }
            }
            return sum * s
        case "lmix":
            var total = 0.0
            for (term, w) in [("l1", o.lmixL1), ("l2", o.lmixL2), ("linf", o.lmixLinf)] where w != 0 {
                total += try add(term, weight: weight * w, target: target, prediction: prediction, n: n, t: t,
                                 objective: o, into: grad)
            }
            return total
        default:
            throw JukeboxError("loss_fn", "unknown loss_fn '\(name)' (expected l1, l2, linf or lmix)")
        }
    }
}
