import Foundation

/// Band-limited sample-rate conversion: a Kaiser-windowed sinc whose cutoff sits at the lower of the
/// two Nyquist rates, so downsampling does not alias.
public enum Resampler {
    /// Half-width of the kernel in zero crossings of the (lower-rate) sinc.
    static let zeroCrossings = 16
    static let beta = 8.6

    public static func resample(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        if source == target || x.isEmpty { return x }
        let ratio = Double(target) / Double(source)
        let outCount = Int((Double(x.count) * ratio).rounded())
        let cutoff = min(1.0, ratio)  // relative to the source Nyquist
        let halfWidth = Double(zeroCrossings) / cutoff  // in source samples
        let i0beta = besselI0(beta)
        var out = [Float](repeating: 0, count: outCount)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                parallelFor(outCount, minChunk: 4096) { range in
                    for j in range {
                        let center = Double(j) / ratio
                        let lo = max(0, Int((center - halfWidth).rounded(.up)))
                        let hi = min(src.count - 1, Int((center + halfWidth).rounded(.down)))
                        var acc = 0.0
                        if lo <= hi {
                            for i in lo...hi {
                                let t = Double(i) - center
                                let u = t / halfWidth
                                let window = besselI0(beta * (1 - u * u).squareRoot()) / i0beta
                                let arg = Double.pi * t * cutoff
                                let sinc = arg == 0 ? 1 : sin(arg) / arg
                                acc += Double(src[i]) * sinc * window * cutoff
                            }
                        }
                        dst[j] = Float(acc)
                    }
                }
            }
        }
        return out
    }

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
