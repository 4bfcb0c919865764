import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxTraining

/// How well a VQ-VAE reconstructs the corpus's held-out songs at each level: whole songs encoded, then
/// decoded from one level's codes alone.
public struct VQVAEReconstruction: Sendable {
    public let level: Int
    /// Signal over error energy, pooled over every held-out sample.
    public let snrDB: Double
    /// ‖S − Ŝ‖ / ‖S‖ of the STFT magnitudes (the reference's spectral_convergence STFT), pooled over all
    /// songs: one energy ratio, so near-silent passages weigh what their energy weighs.
    public let spectralConvergence: Double
    /// The same ratio per song, then averaged (the reference's habit for a batch of crops).
    public let spectralConvergencePerSong: Double

    public var json: [String: Any] {
        ["level": level, "snr_db": snrDB, "spectral_convergence": spectralConvergence,
         "spectral_convergence_per_song": spectralConvergencePerSong]
    }
}

public enum VQVAEHeldOut {
    /// Every held-out (split "test") song of the corpus at `corpus`, at every level of `vqvae`.
    public static func evaluate(vqvae: VQVAE, corpus: String,
                                progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> [VQVAEReconstruction] {
        let songs = try CorpusIndex.read(corpus).filter { $0.split == "test" }
        guard !songs.isEmpty else { throw JukeboxError(corpus, "holds no held-out (test) songs") }
        let levels = vqvae.levels
        let stft = SpectralLoss.defaultSTFT
        var signal = 0.0, noise = [Double](repeating: 0, count: levels)
        var reference = 0.0, residual = [Double](repeating: 0, count: levels), perSong = [Double](repeating: 0, count: levels)
        for (i, song) in songs.enumerated() {
            let source = (corpus as NSString).appendingPathComponent(song.file)
            let (x, codes) = try vqvae.encode(file: source)
            guard x.count > stft.nFFT / 2 else { throw JukeboxError(source, "too short to measure (\(x.count) samples)") }
            let target = x.withUnsafeBufferPointer { stft.forward($0.baseAddress!, t: x.count).magnitude }
            var songReference = 0.0
            for j in 0..<target.count { songReference += Double(target.data[j]) * Double(target.data[j]) }
            reference += songReference
            for v in x { signal += Double(v) * Double(v) }
            for level in 0..<levels {
                let y = try vqvae.decode(codes[level], level: level)
                guard y.count == x.count else {
                    throw JukeboxError(source, "level \(level) decoded \(y.count) samples from \(x.count)")
                }
                for j in 0..<x.count { let e = Double(x[j] - y.data[j]); noise[level] += e * e }
                let magnitude = stft.forward(y.data, t: y.count).magnitude
                var songResidual = 0.0
                for j in 0..<target.count {
                    let d = Double(target.data[j] - magnitude.data[j])
                    songResidual += d * d
                }
                residual[level] += songResidual
                perSong[level] += songReference > 0 ? (songResidual / songReference).squareRoot() : 0
            }
            progress(i + 1, songs.count)
        }
        return (0..<levels).map { level in
            VQVAEReconstruction(level: level, snrDB: 10 * log10(signal / max(noise[level], 1e-30)),
                                spectralConvergence: (residual[level] / max(reference, 1e-30)).squareRoot(),
                                spectralConvergencePerSong: perSong[level] / Double(songs.count))
        }
    }
}
