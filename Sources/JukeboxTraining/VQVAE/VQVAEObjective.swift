import Foundation
import JukeboxCore

/// The VQ-VAE's training objective under the reference's hps names, with the reference's DEFAULTS
/// (hparams.py) for keys a config leaves out:
///   loss = Σ_levels [recons(loss_fn) + spectral·spectral_loss + multispectral·multispectral_loss]
///          + commit·Σ_levels commit_loss
/// each recons and spectral term divided by the data's bandwidth.
public struct VQVAEObjective: Sendable {
    public var lossFn: String            // loss_fn: l1, l2, linf or lmix
    public var lmixL1: Double, lmixL2: Double, lmixLinf: Double
    public var linfK: Int                // linf_k
    public var commit: Double
    public var spectral: Double
    public var multispectral: Double
    public var multispecNFFT: [Int], multispecHop: [Int], multispecWindow: [Int]
    public var lMu: Double               // l_mu, the codebooks' EMA decay
    public var revivalThreshold: Double  // revival_threshold (used when continuing from trained weights)
    public var bandwidth: Bandwidth

    public init(_ hps: Hyperparameters, bandwidth: Bandwidth) throws {
        func d(_ k: String, _ v: Double) throws -> Double { hps.has(k) ? try hps.double(k) : v }
        func i(_ k: String, _ v: Int) throws -> Int { hps.has(k) ? try hps.int(k) : v }
        func list(_ k: String, _ v: [Int]) throws -> [Int] { hps.has(k) ? try hps.ints(k) : v }
        lossFn = hps.has("loss_fn") ? try hps.string("loss_fn") : "l2"
        lmixL1 = try d("lmix_l1", 0); lmixL2 = try d("lmix_l2", 0); lmixLinf = try d("lmix_linf", 0)
        linfK = try i("linf_k", 2048)
        commit = try d("commit", 1); spectral = try d("spectral", 0); multispectral = try d("multispectral", 1)
        multispecNFFT = try list("multispec_loss_n_fft", [2048, 1024, 512])
        multispecHop = try list("multispec_loss_hop_length", [240, 120, 50])
        multispecWindow = try list("multispec_loss_window_size", [1200, 600, 240])
        lMu = try d("l_mu", 0.99)
        revivalThreshold = try d("revival_threshold", 1)
        self.bandwidth = bandwidth
        guard ["l1", "l2", "linf", "lmix"].contains(lossFn) else {
            throw JukeboxError(hps.source, "loss_fn '\(lossFn)' is not one of l1, l2, linf, lmix")
        }
        guard multispecNFFT.count == multispecHop.count, multispecHop.count == multispecWindow.count else {
            throw JukeboxError(hps.source, "multispec_loss_n_fft, _hop_length and _window_size differ in length")
        }
        for (n, w) in zip(multispecNFFT, multispecWindow) where w > n || w < 1 {
            throw JukeboxError(hps.source, "multispec_loss_window_size \(w) must lie in 1...n_fft (\(n))")
        }
        if hps.has("use_nonrelative_specloss"), try !hps.bool("use_nonrelative_specloss"), spectral != 0 {
            throw JukeboxError(hps.source, "use_nonrelative_specloss false (spectral convergence as a loss) is not supported")
        }
        guard bandwidth.l1 > 0, bandwidth.l2 > 0, bandwidth.spec > 0 else {
            throw JukeboxError("bandwidth", "the data's bandwidth \(bandwidth) must be positive (is the audio silent?)")
        }
    }

    var multispectralLoss: SpectralLoss {
        SpectralLoss(resolutions: (0..<multispecNFFT.count).map {
            STFTMagnitude(nFFT: multispecNFFT[$0], hop: multispecHop[$0], windowSize: multispecWindow[$0])
        })
    }

    /// Shortest item the spectral terms can frame (reflect padding needs more than n_fft/2 samples).
    var minimumLength: Int {
        max(multispectral != 0 ? (multispecNFFT.max() ?? 0) / 2 + 1 : 1,
            spectral != 0 ? SpectralLoss.defaultSTFT.nFFT / 2 + 1 : 1)
    }
}
