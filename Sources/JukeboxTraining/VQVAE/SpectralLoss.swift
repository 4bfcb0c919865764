import Foundation
import JukeboxCore

/// The reference's spectral terms between a target and a prediction [N, T] (mono): for each STFT
/// resolution, per item ‖|STFT(target)| − |STFT(prediction)|‖_F; multispectral_loss averages that over
/// the resolutions; the loss is its mean over items divided by bandwidth.spec.
package struct SpectralLoss {
    /// DefaultSTFTValues: spectral_loss, spectral_convergence and the bandwidth use these, whatever the hps.
    package static let defaultSTFT = STFTMagnitude(nFFT: 2048, hop: 256, windowSize: 6 * 256)

    let resolutions: [STFTMagnitude]

    /// The target's magnitudes, computed once per batch and shared by every level's prediction.
    struct Target {
        let magnitudes: [[Tensor]]    // [resolution][item] → [bins, frames]
        let n: Int, t: Int
    }

    func target(_ x: UnsafePointer<Float>, n: Int, t: Int) -> Target {
        Target(magnitudes: resolutions.map { r in (0..<n).map { r.forward(x + $0 * t, t: t).magnitude } }, n: n, t: t)
    }

    /// mean over items of the mean over resolutions of ‖S_target − S_prediction‖, times `weight`; adds
    /// weight·∂/∂prediction into `grad` when given. Where the two spectra are equal the norm has no
    /// gradient; we take 0.
    func add(weight: Double, target: Target, prediction: UnsafePointer<Float>, into grad: UnsafeMutablePointer<Float>?) -> Double {
        let (n, t) = (target.n, target.t)
        let scale = weight / Double(n * resolutions.count)
        var total = 0.0
        for (r, stft) in resolutions.enumerated() {
            for item in 0..<n {
                let (spectrum, magnitude) = stft.forward(prediction + item * t, t: t)
                let reference = target.magnitudes[r][item]
                var sq = 0.0
                for i in 0..<magnitude.count {
                    let d = Double(reference.data[i] - magnitude.data[i])
                    sq += d * d
                }
                let norm = sq.squareRoot()
                total += norm
                guard let grad, norm > 0 else { continue }
                // ∂‖S_ref − S‖/∂S = (S − S_ref)/‖S_ref − S‖
                let dMag = Tensor(zeros: magnitude.shape)
                let g = Float(scale / norm)
                for i in 0..<magnitude.count { dMag.data[i] = g * (magnitude.data[i] - reference.data[i]) }
                stft.backward(dMag, spectrum: spectrum, magnitude: magnitude, t: t, dx: grad + item * t)
            }
        }
        return total * scale
    }

    /// spectral_convergence (an evaluation metric, no gradient): per item ‖S_ref − S‖ / ‖S_ref‖ at the
    /// default STFT, 0 where ‖S_ref‖ ≤ ε and ε the floor of the denominator (ε = 2e-3), averaged over items.
    static func spectralConvergence(target: UnsafePointer<Float>, prediction: UnsafePointer<Float>, n: Int, t: Int,
                                    epsilon: Double = 2e-3) -> Double {
        var total = 0.0
        for item in 0..<n {
            let a = defaultSTFT.forward(target + item * t, t: t).magnitude
            let b = defaultSTFT.forward(prediction + item * t, t: t).magnitude
            var ref = 0.0, res = 0.0
            for i in 0..<a.count {
                ref += Double(a.data[i]) * Double(a.data[i])
                res += Double(a.data[i] - b.data[i]) * Double(a.data[i] - b.data[i])
            }
            let gt = ref.squareRoot()
            total += gt > epsilon ? res.squareRoot() / max(gt, epsilon) : 0
        }
        return total / Double(max(n, 1))
    }
}
