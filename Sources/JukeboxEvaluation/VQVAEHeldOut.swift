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
    /// 4–22 kHz spectral flatness of the rebuilds (`HighBandFlatness`), over the frames where the songs
    /// themselves sound in that band, pooled over the songs by power; nil when no song does.
    public let highBandFlatness: Double?
    /// The same frames' flatness in the songs themselves.
    public let cleanHighBandFlatness: Double?

    public var json: [String: Any] {
        var j: [String: Any] = ["level": level, "snr_db": snrDB, "spectral_convergence": spectralConvergence,
                                "spectral_convergence_per_song": spectralConvergencePerSong]
        if let highBandFlatness, let cleanHighBandFlatness {
            j["high_band_flatness"] = highBandFlatness
            j["clean_high_band_flatness"] = cleanHighBandFlatness
        }
        return j
    }
}

public enum VQVAEHeldOut {
    /// The recordings `data` names: a corpus's held-out (split "test") songs, or every audio file below a
    /// folder of recordings (paths, in order).
    public static func recordings(in data: String) throws -> [String] {
        let files: [String]
        if FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent("songs.jsonl")) {
            files = try CorpusIndex.read(data).filter { $0.split == "test" }.map(\.file)
            guard !files.isEmpty else { throw JukeboxError(data, "holds no held-out (test) songs") }
        } else {
            files = try CorpusImporter.audioFiles(in: data)
            guard !files.isEmpty else { throw JukeboxError(data, "holds no audio files") }
        }
        return files.map { (data as NSString).appendingPathComponent($0) }
    }

    /// Every held-out (split "test") song of the corpus at `corpus`, at every level of `vqvae`.
    public static func evaluate(vqvae: VQVAE, corpus: String, middleSeconds: Double? = nil,
                                progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> [VQVAEReconstruction] {
        try evaluate(vqvae: vqvae, files: recordings(in: corpus), middleSeconds: middleSeconds, progress: progress)
    }

    /// Each of `files` encoded whole (or `middleSeconds` from the middle of each), then rebuilt from each
    /// level's codes alone.
    public static func evaluate(vqvae: VQVAE, files: [String], middleSeconds: Double? = nil,
                                progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> [VQVAEReconstruction] {
        guard !files.isEmpty else { throw JukeboxError("recordings", "none to reconstruct") }
        let levels = vqvae.levels
        let stft = SpectralLoss.defaultSTFT
        var signal = 0.0, noise = [Double](repeating: 0, count: levels)
        var reference = 0.0, residual = [Double](repeating: 0, count: levels), perSong = [Double](repeating: 0, count: levels)
        var flatness = [HighBandFlatness.Pool](repeating: .init(), count: levels), cleanFlatness = HighBandFlatness.Pool()
        for (i, source) in files.enumerated() {
            let (x, codes) = try vqvae.encode(file: source, middleSeconds: middleSeconds)
            guard x.count > stft.nFFT / 2 else { throw JukeboxError(source, "too short to measure (\(x.count) samples)") }
            let target = x.withUnsafeBufferPointer { stft.forward($0.baseAddress!, t: x.count).magnitude }
            var songReference = 0.0
            for j in 0..<target.count { songReference += Double(target.data[j]) * Double(target.data[j]) }
            reference += songReference
            for v in x { signal += Double(v) * Double(v) }
            let cleanBand = HighBandFlatness.frames(x, sampleRate: vqvae.sampleRate)
            let sounding = HighBandFlatness.sounding(cleanBand)
            cleanFlatness.add(cleanBand, selected: sounding)
            for level in 0..<levels {
                let y = try vqvae.decode(codes[level], level: level)
                guard y.count == x.count else {
                    throw JukeboxError(source, "level \(level) decoded \(y.count) samples from \(x.count)")
                }
                for j in 0..<x.count { let e = Double(x[j] - y.data[j]); noise[level] += e * e }
                flatness[level].add(HighBandFlatness.frames(y.toArray(), sampleRate: vqvae.sampleRate), selected: sounding)
                let magnitude = stft.forward(y.data, t: y.count).magnitude
                var songResidual = 0.0
                for j in 0..<target.count {
                    let d = Double(target.data[j] - magnitude.data[j])
                    songResidual += d * d
                }
                residual[level] += songResidual
                perSong[level] += songReference > 0 ? (songResidual / songReference).squareRoot() : 0
            }
            progress(i + 1, files.count)
        }
        return (0..<levels).map { level in
            VQVAEReconstruction(level: level, snrDB: 10 * log10(signal / max(noise[level], 1e-30)),
                                spectralConvergence: (residual[level] / max(reference, 1e-30)).squareRoot(),
                                spectralConvergencePerSong: perSong[level] / Double(files.count),
                                highBandFlatness: flatness[level].value, cleanHighBandFlatness: cleanFlatness.value)
        }
    }
}
