import Foundation

/// Sampling speed of a random top-level prior with labels, through the key/value cache: the number the
/// `bench` command records. Nothing here is asserted by tests.
public enum PriorBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public let batch: Int
        public let steps: Int
        public let seconds: Double
        public let cacheBytes: Int
        /// Tokens produced per second over the whole batch (steps × batch / seconds).
        public var tokensPerSecond: Double { Double(steps * batch) / seconds }
        /// Positions advanced per second (each advancing every item of the batch).
        public var stepsPerSecond: Double { Double(steps) / seconds }
        public var description: String {
            String(format: "batch %d: %d steps in %.3f s, %.1f steps/s, %.1f tokens/s, cache %.1f MB",
                   batch, steps, seconds, stepsPerSecond, tokensPerSecond, Double(cacheBytes) / 1e6)
        }
    }

    /// Hyperparameters of a labelled top-level prior of the given shape (v2 labels, a 2048-code VQ-VAE).
    public static func hps(width: Int, depth: Int, heads: Int, nCtx: Int, attnOrder: Int, blocks: Int?) -> Hyperparameters {
        Hyperparameters([
            "level": 2, "levels": 3, "l_bins": 2048, "n_ctx": nCtx, "prior_width": width, "prior_depth": depth,
            "heads": heads, "attn_order": attnOrder, "blocks": blocks as Any? ?? NSNull(), "spread": NSNull(),
            "m_attn": 0.25, "m_mlp": 1.0, "res_scale": false, "init_scale": 1.0, "pos_init": false,
            "labels": true, "labels_v3": false, "y_bins": [120, 4111], "t_bins": 128, "max_bow_genre_size": 5,
            "sr": 44100, "min_duration": 60.0, "max_duration": 600.0,
            "n_tokens": 0, "n_vocab": 80, "use_tokens": false, "single_enc_dec": false, "merged_decoder": false,
            "prime_loss_fraction": 0.0, "copy_input": false,
        ], source: "benchmark")
    }

    /// Samples `tokens` positions for `batch` items from a random prior; returns tokens per second
    /// over the batch (steps × batch / seconds).
    public static func run(width: Int, depth: Int, heads: Int, nCtx: Int, attnOrder: Int, blocks: Int?,
                           tokens: Int, batch: Int) throws -> Double {
        try measure(width: width, depth: depth, heads: heads, nCtx: nCtx, attnOrder: attnOrder, blocks: blocks,
                    tokens: tokens, batch: batch).tokensPerSecond
    }

    public static func measure(width: Int, depth: Int, heads: Int, nCtx: Int, attnOrder: Int, blocks: Int?,
                               tokens: Int, batch: Int, seed: UInt64 = 0) throws -> Result {
        let h = hps(width: width, depth: depth, heads: heads, nCtx: nCtx, attnOrder: attnOrder, blocks: blocks)
        let prior = try Prior.randomWeights(hps: h, seed: seed)
        let steps = min(tokens, nCtx)
        // 3 minutes of a 4-minute song, with a genre bag and an artist.
        var y: [Int] = []
        for n in 0..<batch { y += [Int(240 * 44100), Int(60 * 44100), nCtx * 128, n % 4111, 3, 17, -1, -1, -1] }
        let state = try prior.makeState(batch: batch, y: y)
        var rng = SeededGenerator(seed: seed + 1)
        var previous = [Int](repeating: 0, count: batch)
        let bins = prior.prior.bins
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps {
            let logits = try prior.forward(state, previousCodes: previous, count: 1, output: .lastLogits)!
            for n in 0..<batch {
                previous[n] = sampleCategorical(logits.data + n * bins, bins, uniform: Double(rng.next() >> 11) * 0x1p-53)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(batch: batch, steps: steps, seconds: seconds, cacheBytes: state.cacheBytes)
    }

    /// Inverse-CDF draw from softmax(logits).
    static func sampleCategorical(_ logits: UnsafePointer<Float>, _ n: Int, uniform u: Double) -> Int {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, logits[i]) }
        var total = 0.0
        for i in 0..<n { total += Double(expf(logits[i] - m)) }
        var acc = 0.0
        let target = u * total
        for i in 0..<n {
            acc += Double(expf(logits[i] - m))
            if acc > target { return i }
        }
        return n - 1
    }
}

extension PriorBenchmark {
    /// The linear layers alone of the benchmark model (width, depth, 2048-entry x_out), applied to `rows`
    /// rows: passes per second. Separates weight streaming from everything else a token costs.
    public static func linearPasses(width: Int, depth: Int, rows: Int, passes: Int) -> Double {
        let ns = width / 4
        let shapes = Array(repeating: [(width, 3 * ns), (ns, width), (width, width), (width, width)], count: depth)
            .flatMap { $0 }
        var rng = SeededGenerator(seed: 5)
        let ws = shapes.map { s -> LinearWeight in
            let t = Tensor(zeros: [s.0, s.1]); rng.fill(t.data, t.count, std: 0.02); return LinearWeight(w: t, b: nil)
        }
        let xOut = Tensor(zeros: [2048, width]); rng.fill(xOut.data, xOut.count, std: 0.02)
        let x = Tensor(zeros: [rows, 4 * width]), y = Tensor(zeros: [rows, 4 * width]), logits = Tensor(zeros: [rows, 2048])
        rng.fill(x.data, x.count, std: 1)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<passes {
            for w in ws { w.apply(x.data, rows: rows, y.data) }
            PriorKernels.linearTransposed(x.data, rows: rows, xOut, logits.data)
        }
        return Double(passes) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}
