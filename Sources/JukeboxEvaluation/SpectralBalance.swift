import Foundation
import JukeboxCore

/// How a stretch of audio spreads its energy over the spectrum, apart from how loud it is: its long-term
/// average spectrum in third-octave bands (63 Hz to 16 kHz), in dB relative to the bands' mean. Two
/// recordings of one band in one room measure close; a continuation that keeps the prime's instruments and
/// mix keeps its balance, whatever notes it plays.
public struct SpectralBalance: Sendable, Equatable {
    /// Centre frequencies of the bands, Hz.
    public static let centres: [Double] = (-14...12).map { 1000 * pow(2, Double($0) / 3) }
    /// Each band's level minus the mean level over the bands, dB.
    public let bands: [Double]
    /// RMS level of the stretch, dB below full scale.
    public let loudness: Double

    /// The balance of mono `samples` at `rate` (bands above the Nyquist frequency are left out).
    public init(_ samples: ArraySlice<Float>, sampleRate rate: Int) {
        let size = 4096, hop = 2048, fft = FFT(size: size)
        let window = (0..<size).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(size))) }
        var power = [Double](repeating: 0, count: size / 2 + 1)
        var start = samples.startIndex, sumSquares = 0.0
        for x in samples { sumSquares += Double(x) * Double(x) }
        repeat {
            var frame = [Float](repeating: 0, count: size)
            for i in 0..<min(size, samples.endIndex - start) { frame[i] = samples[start + i] * window[i] }
            for (k, p) in fft.powerSpectrum(frame).enumerated() { power[k] += Double(p) }
            start += hop
        } while start + size <= samples.endIndex
        let binHz = Double(rate) / Double(size)
        var energies: [Double] = []
        for centre in Self.centres where centre * pow(2, 1.0 / 6) < Double(rate) / 2 {
            let low = Int((centre / pow(2, 1.0 / 6) / binHz).rounded(.up)), high = Int((centre * pow(2, 1.0 / 6) / binHz).rounded(.down))
            // The lowest bands are narrower than a bin or two: they take the bins that overlap them.
            let bins = max(low, 1)...max(high, max(low, 1))
            energies.append(bins.reduce(0.0) { $0 + power[min($1, power.count - 1)] } / Double(bins.count))
        }
        // Bands more than 120 dB below the loudest count as that: silence in a band is no infinite difference,
        // and a floor relative to the loudest keeps the balance independent of the level.
        let floor = max((energies.max() ?? 0) * 1e-12, 1e-30)
        let levels = energies.map { 10 * log10(max($0, floor)) }
        let mean = levels.reduce(0, +) / Double(max(levels.count, 1))
        bands = levels.map { $0 - mean }
        loudness = 10 * log10(max(sumSquares / Double(max(samples.count, 1)), 1e-20))
    }

    /// RMS difference of two balances over the bands both have, dB: 0 for the same balance.
    public func distance(to other: SpectralBalance) -> Double {
        let n = min(bands.count, other.bands.count)
        guard n > 0 else { return 0 }
        // Re-centred over the shared bands, so a band one of them lacks does not shift the other's levels.
        let a = Array(bands.prefix(n)), b = Array(other.bands.prefix(n))
        let ma = a.reduce(0, +) / Double(n), mb = b.reduce(0, +) / Double(n)
        return (zip(a, b).reduce(0.0) { $0 + pow(($1.0 - ma) - ($1.1 - mb), 2) } / Double(n)).squareRoot()
    }
}
