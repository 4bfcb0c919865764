import Foundation

/// How a token is drawn from a level's logits (the reference's temp, top_k, top_p).
public struct SamplingSettings: Sendable, Equatable {
    /// Logits are divided by it; 0 means greedy (argmax), an extension of ours for tests and previews.
    public var temperature: Double
    /// Keep only the k largest logits (0 = off).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches top_p (0 = off).
    public var topP: Double

    public init(temperature: Double = 1, topK: Int = 0, topP: Double = 0) {
        (self.temperature, self.topK, self.topP) = (temperature, topK, topP)
    }

    public func validate() throws {
        guard temperature >= 0, temperature.isFinite else { throw JukeboxError("temperature", "\(temperature) must be finite and ≥ 0") }
        guard topK >= 0 else { throw JukeboxError("top_k", "\(topK) must be ≥ 0") }
        guard topP >= 0, topP <= 1 else { throw JukeboxError("top_p", "\(topP) must lie in [0, 1]") }
        // filter_logits asserts this too.
        guard topK == 0 || topP == 0 else { throw JukeboxError("top_k", "top_k and top_p cannot both be set") }
    }
}

/// The randomness of one token: a stream per (seed, level, sample, position). A sample's codes depend
/// only on these, never on the batch it is sampled in or the other samples, and a run cancelled and
/// continued draws what the uninterrupted run would have drawn.
public enum SampleStreams {
    public static func generator(seed: UInt64, level: Int, sample: Int, position: Int) -> SeededGenerator {
        var mix = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: level) &* 0xD1B5_4A32_D192_ED03)
                                  ^ (UInt64(truncatingIfNeeded: sample) &* 0x8CB9_2BA7_2F3D_8DD7))
        var stream = SeededGenerator(seed: mix.next() ^ (UInt64(truncatingIfNeeded: position) &* 0x9FB2_1C65_1E98_DF25))
        _ = stream.next()
        return SeededGenerator(seed: stream.next())
    }
}

/// Temperature, top-k / top-p filtering (the reference's filter_logits) and a categorical draw over
/// one row of logits. Reuses its scratch; one per thread.
public struct TokenSampler {
    private var order: [Int] = []
    private var probs: [Double] = []

    public init() {}

    /// Draws an index in 0..<count from softmax(filter(logits / temperature)). Modifies `logits`.
    public mutating func draw(_ logits: UnsafeMutablePointer<Float>, count: Int, settings s: SamplingSettings,
                              rng: inout SeededGenerator) -> Int {
        guard count > 1 else { return 0 }
        if s.temperature == 0 { return argmax(logits, count) }
        let inv = Float(1 / s.temperature)
        for i in 0..<count { logits[i] *= inv }
        LogitFilter.topK(logits, count: count, k: s.topK)
        if s.topP > 0 { topP(logits, count: count, p: s.topP) }
        // Always consume one draw, so streams stay aligned whatever the logits.
        let u = Double(rng.next() >> 11) * 0x1p-53
        return categorical(logits, count, uniform: u)
    }

    func argmax(_ x: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        for i in 1..<n where x[i] > x[best] { best = i }
        return best
    }

    /// Nucleus filtering: sort descending, keep tokens while the probability mass before them is at
    /// most p (the first one always), drop the rest.
    mutating func topP(_ x: UnsafeMutablePointer<Float>, count n: Int, p: Double) {
        if order.count != n { order = Array(0..<n); probs = [Double](repeating: 0, count: n) }
        for i in 0..<n { order[i] = i }
        // Ties keep index order (torch's sort order for ties is unspecified).
        order.sort { x[$0] > x[$1] || (x[$0] == x[$1] && $0 < $1) }
        let m = x[order[0]]
        var total = 0.0
        for i in 0..<n { let e = Double(expf(x[i] - m)); probs[i] = e; total += e }
        var cumulative = 0.0
        var removing = false
        for i in order {
            if removing { x[i] = -.infinity; continue }
            cumulative += probs[i] / total
            if cumulative > p { removing = true }
        }
    }

    /// Inverse-CDF draw from softmax(logits); -inf entries have probability 0.
    func categorical(_ x: UnsafePointer<Float>, _ n: Int, uniform u: Double) -> Int {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, x[i]) }
        guard m.isFinite else { return 0 }
        var total = 0.0
        for i in 0..<n { total += Double(expf(x[i] - m)) }
        let target = u * total
        var acc = 0.0, last = 0
        for i in 0..<n where x[i] > -.infinity {
            acc += Double(expf(x[i] - m))
            last = i
            if acc > target { return i }
        }
        return last
    }
}

public enum LogitFilter {
    /// Sets to -inf every logit below the k-th largest (ties with it are kept), as filter_logits does.
    public static func topK(_ x: UnsafeMutablePointer<Float>, count n: Int, k: Int) {
        guard k > 0, k < n else { return }
        var values = [Float](UnsafeBufferPointer(start: x, count: n))
        values.sort(by: >)
        let threshold = values[k - 1]
        for i in 0..<n where x[i] < threshold { x[i] = -.infinity }
    }
}
