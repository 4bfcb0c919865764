import Foundation
import JukeboxCore

/// Magnitudes of torch.stft(x, n_fft, hop_length, win_length=window_size, window=hann_window(window_size))
/// as the reference's spec() takes them: centred frames (the signal reflect-padded by n_fft/2 on each
/// side), a periodic Hann window of window_size placed in the middle of the n_fft frame, the one-sided
/// spectrum (n_fft/2 + 1 bins), |X| per bin. The DFT is one sgemm with a precomputed basis: at these
/// sizes (a few dozen frames of ≤ 2048 samples) that is as fast as an FFT and is its own adjoint.
/// Only the window's support is kept in the basis, since the rest of each frame is multiplied by zero.
package struct STFTMagnitude {
    package let nFFT: Int, hop: Int, windowSize: Int
    /// Bins of the one-sided spectrum.
    let bins: Int
    /// Offset of the window inside the n_fft frame: (n_fft − window_size) / 2, as torch pads it.
    let windowOffset: Int
    /// [2·bins, window_size]: rows w[n]·cos(2πfn/N) then −w[n]·sin(2πfn/N), n counted from the frame start.
    let basis: Tensor

    init(nFFT: Int, hop: Int, windowSize: Int) {
        invariant(windowSize <= nFFT && hop > 0, "stft: window \(windowSize) exceeds n_fft \(nFFT) or hop \(hop)")
        (self.nFFT, self.hop, self.windowSize) = (nFFT, hop, windowSize)
        bins = nFFT / 2 + 1
        windowOffset = (nFFT - windowSize) / 2
        basis = Tensor(zeros: [2 * bins, windowSize])
        for i in 0..<windowSize {
            let w = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(windowSize))
            let n = i + windowOffset
            for f in 0..<bins {
                // (f·n) mod N keeps the angle small, so the basis is accurate in double before rounding.
                let angle = 2 * Double.pi * Double((f * n) % nFFT) / Double(nFFT)
                basis.data[f * windowSize + i] = Float(w * cos(angle))
                basis.data[(bins + f) * windowSize + i] = Float(-w * sin(angle))
            }
        }
    }

    /// Frames of a signal of length t: 1 + t / hop (torch's centred framing).
    func frames(_ t: Int) -> Int { 1 + t / hop }

    /// Index into x of position i of the reflect-padded signal (pad n_fft/2 each side).
    @inline(__always) func source(_ i: Int, t: Int) -> Int {
        let j = i - nFFT / 2
        if j < 0 { return -j }
        if j >= t { return 2 * (t - 1) - j }
        return j
    }

    /// One signal x[0..<t] → (spectrum [2·bins, frames]: real rows then imaginary rows, magnitudes [bins, frames]).
    package func forward(_ x: UnsafePointer<Float>, t: Int) -> (spectrum: Tensor, magnitude: Tensor) {
        invariant(t > nFFT / 2, "stft: \(t) samples are too few to reflect-pad by n_fft/2 = \(nFFT / 2)")
        let m = frames(t)
        let cols = Tensor(zeros: [windowSize, m])
        for f in 0..<m {
            for i in 0..<windowSize { cols.data[i * m + f] = x[source(f * hop + windowOffset + i, t: t)] }
        }
        let spectrum = Tensor(zeros: [2 * bins, m])
        BLAS.gemm(basis.data, cols.data, spectrum.data, m: 2 * bins, n: m, k: windowSize)
        let magnitude = Tensor(zeros: [bins, m])
        for i in 0..<(bins * m) {
            let re = spectrum.data[i], im = spectrum.data[bins * m + i]
            magnitude.data[i] = (re * re + im * im).squareRoot()
        }
        return (spectrum, magnitude)
    }

    /// Given d(loss)/d|X| [bins, frames], adds d(loss)/dx into dx[0..<t]. Where |X| = 0 the magnitude has
    /// no gradient; we take 0 there.
    func backward(_ dMagnitude: Tensor, spectrum: Tensor, magnitude: Tensor, t: Int, dx: UnsafeMutablePointer<Float>) {
        let m = frames(t)
        let dSpectrum = Tensor(zeros: [2 * bins, m])
        for i in 0..<(bins * m) {
            let mag = magnitude.data[i]
            guard mag > 0 else { continue }
            let g = dMagnitude.data[i] / mag
            dSpectrum.data[i] = g * spectrum.data[i]
            dSpectrum.data[bins * m + i] = g * spectrum.data[bins * m + i]
        }
        let dCols = Tensor(zeros: [windowSize, m])
        BLAS.gemm(basis.data, dSpectrum.data, dCols.data, m: windowSize, n: m, k: 2 * bins, transA: true)
        for f in 0..<m {
            for i in 0..<windowSize { dx[source(f * hop + windowOffset + i, t: t)] += dCols.data[i * m + f] }
        }
    }
}
