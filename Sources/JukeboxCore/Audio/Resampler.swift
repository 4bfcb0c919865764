import Foundation

/// Band-limited sample-rate conversion: a Kaiser-windowed sinc whose cutoff sits at the lower of the
/// two Nyquist rates, so downsampling does not alias.
public enum Resampler {
    /// Half-width of the kernel in zero crossings of the (lower-rate) sinc.
    static let zeroCrossings = 16
    static let beta = 8.6
    /// Ratios with at most this many output phases use a precomputed kernel per phase.
    static let maxTablePhases = 4096

    public static func resample(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        if source == target || x.isEmpty { return x }
        let ratio = Double(target) / Double(source)
        let outCount = Int((Double(x.count) * ratio).rounded())
        let cutoff = min(1.0, ratio)  // relative to the source Nyquist
        let halfWidth = Double(zeroCrossings) / cutoff  // in source samples
        // Output j sits at source position j·M/L (L/M the reduced ratio), so only L distinct
        // fractional offsets occur: one kernel per offset, computed once, instead of a Bessel
        // series and a sine per tap per output sample.
        let g = gcd(source, target), phases = target / g, step = source / g
        var out = [Float](repeating: 0, count: outCount)
        if phases <= maxTablePhases {
            let kernels = (0..<phases).map { p in kernel(offset: Double(p) / Double(phases), halfWidth: halfWidth, cutoff: cutoff) }
            x.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    parallelFor(outCount, minChunk: 4096) { range in
                        for j in range {
                            let base = j * step / phases
                            let k = kernels[j * step % phases]
                            var acc = 0.0
                            for (n, w) in k.weights.enumerated() {
                                let i = base + k.first + n
                                if i >= 0 && i < src.count { acc += Double(src[i]) * w }
                            }
                            dst[j] = Float(acc)
                        }
                    }
                }
            }
            return out
        }
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                parallelFor(outCount, minChunk: 4096) { range in
                    for j in range {
                        let center = Double(j) / ratio
                        let lo = max(0, Int((center - halfWidth).rounded(.up)))
                        let hi = min(src.count - 1, Int((center + halfWidth).rounded(.down)))
                        var acc = 0.0
                        if lo <= hi {
                            for i in lo...hi { acc += Double(src[i]) * tap(Double(i) - center, halfWidth: halfWidth, cutoff: cutoff) }
                        }
                        dst[j] = Float(acc)
                    }
                }
            }
        }
        return out
    }

    /// The taps for an output that sits `offset` (0 ≤ offset < 1) past a source sample: the source
    /// samples it reads start `first` samples from that one.
    static func kernel(offset: Double, halfWidth: Double, cutoff: Double) -> (first: Int, weights: [Double]) {
        let first = Int((offset - halfWidth).rounded(.up)), last = Int((offset + halfWidth).rounded(.down))
        return (first, (first...last).map { tap(Double($0) - offset, halfWidth: halfWidth, cutoff: cutoff) })
    }

    /// The windowed sinc at `t` source samples from the output's position.
    static func tap(_ t: Double, halfWidth: Double, cutoff: Double) -> Double {
        let u = t / halfWidth
        let window = besselI0(beta * max(0, 1 - u * u).squareRoot()) / besselI0(beta)
        let arg = Double.pi * t * cutoff
        let sinc = arg == 0 ? 1 : sin(arg) / arg
        return sinc * window * cutoff
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0
        let q = x * x / 4
        for k in 1..<50 {
            term *= q / Double(k * k)
            sum += term
            if term < sum * 1e-12 { break }
        }
        return sum
    }
}
