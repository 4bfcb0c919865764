import Foundation
import JukeboxCore

/// What one level's bottleneck reports per training step (the reference's quantiser metrics).
public struct BottleneckMetrics: Sendable {
    /// Mean squared distance of each latent to its nearest entry (fit).
    public var fit: Double
    /// ‖x − mean(x)‖ / √numel of the encoder's output (pn, "prenorm").
    public var prenorm: Double
    /// Entropy (nats) of this batch's code histogram.
    public var entropy: Double
    /// Entries this batch used at least `threshold` times (used_curr).
    public var usedCurrent: Int
    /// Entries whose running count is at least `threshold` (usage); the rest were revived.
    public var usage: Int
    /// RMS change of the codebook in this update (dk).
    public var dk: Double
}

/// One level's codebook during training, the reference's BottleneckBlock with its EMA state: the
/// codebook k is not learnt by gradients but set to the running mean of the latents assigned to each
/// entry, k = k_sum / k_elem, with k_sum ← μ·k_sum + (1 − μ)·Σ assigned x and k_elem ← μ·k_elem +
/// (1 − μ)·count. An entry whose running count falls below `threshold` is dead and is revived as a
/// random latent of the current batch. Before the first update k is initialised from the data.
/// `k` is the model's own codebook tensor, updated in place, so saving the model saves it.
final class EMABottleneckBlock {
    let k: Tensor                 // [l_bins, emb_width]
    let kSum: Tensor              // [l_bins, emb_width]
    var kElem: [Float]            // [l_bins]
    var initialised = false
    let mu: Float
    var threshold: Float
    let bins: Int, width: Int
    /// The random draws (init and revival) come from a generator seeded by (seed, draws so far), so a
    /// run saved and resumed draws exactly what an uninterrupted one does.
    let seed: UInt64
    var draws = 0

    init(codebook: Tensor, mu: Float, threshold: Float = 1, seed: UInt64) {
        k = codebook
        (bins, width) = (codebook.shape[0], codebook.shape[1])
        kSum = Tensor(zeros: codebook.shape)
        kElem = Array(repeating: 0, count: bins)
        self.mu = mu
        self.threshold = threshold
        self.seed = seed
    }

    /// x [N, C, T] → rows [N·T, C] (the reference's preprocess: NCT → NTC → flat).
    static func rows(_ x: Tensor) -> Tensor {
        let (n, c, t) = (x.shape[0], x.shape[1], x.shape[2])
        let out = Tensor(zeros: [n * t, c])
        for item in 0..<n {
            for ch in 0..<c {
                let src = x.data + (item * c + ch) * t
                for j in 0..<t { out.data[(item * t + j) * c + ch] = src[j] }
            }
        }
        return out
    }

    /// rows [N·T, C] → [N, C, T].
    static func channels(_ rows: Tensor, n: Int) -> Tensor {
        let (nt, c) = (rows.shape[0], rows.shape[1])
        let t = nt / n
        let out = Tensor(zeros: [n, c, t])
        for item in 0..<n {
            for j in 0..<t {
                for ch in 0..<c { out.data[(item * c + ch) * t + j] = rows.data[(item * t + j) * c + ch] }
            }
        }
        return out
    }

    /// `bins` random rows of x, tiled with small noise (std 0.01/√width) when x has fewer rows than
    /// bins, as the reference's _tile and randperm pick them.
    func randomRows(_ x: Tensor) -> Tensor {
        var rng = SeededGenerator(seed: seed ^ (UInt64(draws) &* 0xD6E8_FEB8_6659_FD93))
        draws += 1
        let d = x.shape[0]
        var pool = x
        if d < bins {
            let repeats = (bins + d - 1) / d
            pool = Tensor(zeros: [d * repeats, width])
            let std = 0.01 / Double(width).squareRoot()
            for r in 0..<repeats {
                for i in 0..<(d * width) {
                    pool.data[r * d * width + i] = x.data[i] + Float(Double(rng.nextNormal()) * std)
                }
            }
        }
        var order = Array(0..<pool.shape[0])
        order.shuffle(using: &rng)
        let out = Tensor(zeros: [bins, width])
        for b in 0..<bins { (out.data + b * width).update(from: pool.data + order[b] * width, count: width) }
        return out
    }

    /// init_k: k from random latents, k_sum = k, k_elem = 1.
    func initialise(_ x: Tensor) {
        let chosen = randomRows(x)
        k.data.update(from: chosen.data, count: bins * width)
        kSum.data.update(from: chosen.data, count: bins * width)
        kElem = Array(repeating: 1, count: bins)
        initialised = true
    }

    /// restore_k: continuing from trained weights, the running sums start as if each entry had been
    /// used num_tokens / l_bins times.
    func restore(numTokens: Int?, threshold: Float) {
        let expected = numTokens.map { Float($0) / Float(bins) } ?? 1
        for i in 0..<(bins * width) { kSum.data[i] = k.data[i] * expected }
        kElem = Array(repeating: expected, count: bins)
        self.threshold = threshold
        initialised = true
    }

    /// Nearest entry of each row (argmin ‖x‖² − 2x·k + ‖k‖², first on ties) and the mean of the
    /// minimum distances (fit).
    func quantise(_ x: Tensor) -> (codes: [Int], fit: Double) {
        let rows = x.shape[0]
        let dots = Tensor(zeros: [rows, bins])
        BLAS.gemm(x.data, k.data, dots.data, m: rows, n: bins, k: width, transB: true)
        let kk = (0..<bins).map { b -> Float in
            var s: Float = 0
            for c in 0..<width { s += k.data[b * width + c] * k.data[b * width + c] }
            return s
        }
        var codes = [Int](repeating: 0, count: rows)
        var fit = 0.0
        for r in 0..<rows {
            var xx: Float = 0
            for c in 0..<width { xx += x.data[r * width + c] * x.data[r * width + c] }
            var best = 0, bestD = Float.infinity
            for b in 0..<bins {
                let d = xx - 2 * dots.data[r * bins + b] + kk[b]
                if d < bestD { bestD = d; best = b }
            }
            codes[r] = best
            fit += Double(bestD)
        }
        return (codes, rows > 0 ? fit / Double(rows) : 0)
    }

    /// update_k: the EMA step over this batch's assignments, reviving dead entries from its latents.
    func update(_ x: Tensor, codes: [Int]) -> (entropy: Double, usedCurrent: Int, usage: Int, dk: Double) {
        var batchSum = [Float](repeating: 0, count: bins * width)
        var batchCount = [Float](repeating: 0, count: bins)
        for (r, code) in codes.enumerated() {
            batchCount[code] += 1
            for c in 0..<width { batchSum[code * width + c] += x.data[r * width + c] }
        }
        let random = randomRows(x)   // drawn every step, as the reference does, used only for dead entries
        var usage = 0, change = 0.0
        for b in 0..<bins {
            kElem[b] = mu * kElem[b] + (1 - mu) * batchCount[b]
            let alive = kElem[b] >= threshold
            if alive { usage += 1 }
            for c in 0..<width {
                let i = b * width + c
                kSum.data[i] = mu * kSum.data[i] + (1 - mu) * batchSum[i]
                let new = alive ? kSum.data[i] / kElem[b] : random.data[i]
                change += Double(new - k.data[i]) * Double(new - k.data[i])
                k.data[i] = new
            }
        }
        let total = batchCount.reduce(0, +)
        var entropy = 0.0
        for count in batchCount {
            let p = Double(count / max(total, 1))
            entropy -= p * log(p + 1e-8)
        }
        let usedCurrent = batchCount.filter { $0 >= threshold }.count
        return (entropy, usedCurrent, usage, (change / Double(bins * width)).squareRoot())
    }

    /// The training forward of one level: x [N, C, T] (the encoder's output) → codes, the dequantised
    /// latents [N, C, T] the decoder receives (their gradient passes straight through to x), and the
    /// commitment loss ‖x_d − x‖² / numel with its gradient with respect to x. With `updateCodebook`,
    /// initialises k on first use and takes the EMA step after quantising with the old k, as the reference.
    func forward(_ x: Tensor, updateCodebook: Bool) -> (codes: [Int], quantised: Tensor, commitLoss: Double,
                                                       dCommit: Tensor, metrics: BottleneckMetrics) {
        let n = x.shape[0]
        let rows = Self.rows(x)
        let count = rows.count
        var mean = 0.0
        for i in 0..<count { mean += Double(rows.data[i]) }
        mean /= Double(max(count, 1))
        var spread = 0.0
        for i in 0..<count { spread += (Double(rows.data[i]) - mean) * (Double(rows.data[i]) - mean) }
        if updateCodebook && !initialised { initialise(rows) }
        let (codes, fit) = quantise(rows)
        let xd = Tensor(zeros: rows.shape)
        for (r, code) in codes.enumerated() { (xd.data + r * width).update(from: k.data + code * width, count: width) }
        var metrics = BottleneckMetrics(fit: fit, prenorm: (spread / Double(max(count, 1))).squareRoot(), entropy: 0,
                                        usedCurrent: 0, usage: 0, dk: 0)
        if updateCodebook {
            let u = update(rows, codes: codes)
            (metrics.entropy, metrics.usedCurrent, metrics.usage, metrics.dk) = u
        }
        var commit = 0.0
        let dRows = Tensor(zeros: rows.shape)
        let scale = 2 / Float(max(count, 1))
        for i in 0..<count {
            let diff = rows.data[i] - xd.data[i]
            commit += Double(diff) * Double(diff)
            dRows.data[i] = scale * diff
        }
        return (codes, Self.channels(xd, n: n), commit / Double(max(count, 1)), Self.channels(dRows, n: n), metrics)
    }
}
