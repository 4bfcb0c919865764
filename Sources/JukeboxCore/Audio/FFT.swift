import Foundation

/// A radix-2 complex FFT used for the power spectra of audio features.
///
/// Sizes are powers of two; twiddles and the bit-reversal permutation are computed once per size.
public struct FFT: Sendable {
    public let size: Int
    private let cosines: [Float], sines: [Float]
    private let reversed: [Int]

    public init(size: Int) {
        invariant(size >= 2 && size & (size - 1) == 0, "FFT size must be a power of two")
        self.size = size
        cosines = (0..<size / 2).map { Float(cos(-2 * Double.pi * Double($0) / Double(size))) }
        sines = (0..<size / 2).map { Float(sin(-2 * Double.pi * Double($0) / Double(size))) }
        let bits = size.trailingZeroBitCount
        reversed = (0..<size).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
    }

    /// |X[k]|² for k in 0...size/2 of a real frame of `size` samples.
    public func powerSpectrum(_ frame: [Float]) -> [Float] {
        var re = [Float](repeating: 0, count: size), im = [Float](repeating: 0, count: size)
        for i in 0..<min(size, frame.count) { re[reversed[i]] = frame[i] }
        var span = 1
        while span < size {
            let stride = size / (2 * span)
            var start = 0
            while start < size {
                for k in 0..<span {
                    let c = cosines[k * stride], s = sines[k * stride]
                    let a = start + k, b = a + span
                    let tr = re[b] * c - im[b] * s, ti = re[b] * s + im[b] * c
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                }
                start += 2 * span
            }
            span *= 2
        }
        return (0...size / 2).map { re[$0] * re[$0] + im[$0] * im[$0] }
    }
}
