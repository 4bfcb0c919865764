import Foundation

/// Band-limited sample-rate conversion: a Kaiser-windowed sinc whose cutoff sits at the lower of the
/// two Nyquist rates, so downsampling does not alias.
public enum Resampler {
    /// Half-width of the kernel in zero crossings of the (lower-rate) sinc.
    static let zeroCrossings = 16
    static let beta = 8.6
    /// Ratios with at most this many output phases use a precomputed kernel per phase.
    static let maxTablePhases = 4096

    /// A whole signal at once: the stream below, fed everything and then told it ended, so a file read in
    /// blocks resamples to exactly these samples.
    public static func resample(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        if source == target || x.isEmpty { return x }
        let stream = StreamingResampler(from: source, to: target)
        return stream.push(x) + stream.finish()
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

/// The resampler over a signal that arrives in blocks (an hour-long recording read a few seconds at a
/// time): an output is made once every source sample its kernel reads has arrived, or the signal has ended
/// (past the end the signal is zero). Only the source samples the next outputs still need are kept, so
/// memory does not grow with the signal's length, and the outputs equal the whole signal resampled.
public final class StreamingResampler {
    private let source: Int, target: Int
    private let ratio: Double, cutoff: Double, halfWidth: Double
    /// Output j sits at source position j·step/phases (phases/step the reduced ratio), so only `phases`
    /// distinct fractional offsets occur: one kernel per offset, computed once, when there are few.
    private let phases: Int, step: Int
    private let kernels: [(first: Int, weights: [Double])]?
    /// Source samples from `keptStart` on (earlier ones are needed by no output still to come).
    private var kept: [Float] = []
    private var keptStart = 0
    private var received = 0
    private var produced = 0

    public init(from source: Int, to target: Int) {
        (self.source, self.target) = (source, target)
        let ratio = Double(target) / Double(source)
        let cutoff = min(1.0, ratio)                                // relative to the source Nyquist
        let halfWidth = Double(Resampler.zeroCrossings) / cutoff    // in source samples
        let g = Resampler.gcd(source, target), phases = target / g
        (self.ratio, self.cutoff, self.halfWidth) = (ratio, cutoff, halfWidth)
        (self.phases, step) = (phases, source / g)
        kernels = source == target || phases > Resampler.maxTablePhases ? nil : (0..<phases).map { p in
            Resampler.kernel(offset: Double(p) / Double(phases), halfWidth: halfWidth, cutoff: cutoff)
        }
    }

    /// The outputs the samples received so far complete.
    public func push(_ x: [Float]) -> [Float] {
        if source == target { return x }
        kept.append(contentsOf: x)
        received += x.count
        var end = produced
        while span(end).last < received { end += 1 }
        return make(upTo: end, signalLength: nil)
    }

    /// The remaining outputs, the signal having ended (its length times the ratio in all, rounded).
    public func finish() -> [Float] {
        if source == target { return [] }
        return make(upTo: Int((Double(received) * ratio).rounded()), signalLength: received)
    }

    /// The source samples output j reads (some may lie before 0 or past the end).
    private func span(_ j: Int) -> (first: Int, last: Int) {
        if let kernels {
            let k = kernels[j * step % phases], base = j * step / phases
            return (base + k.first, base + k.first + k.weights.count - 1)
        }
        let center = Double(j) / ratio
        return (Int((center - halfWidth).rounded(.up)), Int((center + halfWidth).rounded(.down)))
    }

    private func make(upTo end: Int, signalLength: Int?) -> [Float] {
        guard end > produced else { return [] }
        let from = produced, limit = signalLength ?? received, start = keptStart
        var out = [Float](repeating: 0, count: end - from)
        kept.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                parallelFor(end - from, minChunk: 4096) { range in
                    for r in range {
                        let j = from + r
                        var acc = 0.0
                        if let kernels {
                            let k = kernels[j * step % phases], first = j * step / phases + k.first
                            for (n, w) in k.weights.enumerated() {
                                let i = first + n
                                if i >= 0 && i < limit { acc += Double(src[i - start]) * w }
                            }
                        } else {
                            let center = Double(j) / ratio
                            let lo = max(0, Int((center - halfWidth).rounded(.up)))
                            let hi = min(limit - 1, Int((center + halfWidth).rounded(.down)))
                            if lo <= hi {
                                for i in lo...hi {
                                    acc += Double(src[i - start]) * Resampler.tap(Double(i) - center, halfWidth: halfWidth, cutoff: cutoff)
                                }
                            }
                        }
                        dst[r] = Float(acc)
                    }
                }
            }
        }
        produced = end
        // Drop what no later output reads (spans only move forward).
        let needed = min(max(span(produced).first, keptStart), received)
        if needed - keptStart > 1 << 16 || signalLength != nil {
            kept.removeFirst(needed - keptStart)
            keptStart = needed
        }
        return out
    }
}
