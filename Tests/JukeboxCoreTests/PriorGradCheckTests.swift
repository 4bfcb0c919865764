import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The backward passes against central finite differences of train_loss on small random priors, over the
/// layouts and shapes the fixtures do not reach (summary, summary-spread, orders 1–12, res_scale, several
/// heads, upsamplers with residual scaling), and the training forward against the sampling forward.
final class PriorGradCheckTests: XCTestCase {
    static func hps(_ changes: [String: Any]) -> Hyperparameters {
        var v: [String: Any] = [
            "level": 2, "levels": 3, "l_bins": 13, "n_ctx": 16, "prior_width": 16, "prior_depth": 3, "heads": 2,
            "attn_order": 2, "blocks": 4, "spread": NSNull(), "m_attn": 0.5, "m_mlp": 1.0, "res_scale": false,
            "init_scale": 4.0, "pos_init": false, "labels": true, "labels_v3": false, "y_bins": [5, 7], "t_bins": 8,
            "max_bow_genre_size": 2, "sr": 44100, "min_duration": 1.0, "max_duration": 60.0,
            "n_tokens": 0, "n_vocab": 0, "use_tokens": false, "single_enc_dec": false, "merged_decoder": false,
            "prime_loss_fraction": 0.4, "copy_input": false,
            "prime_width": 8, "prime_depth": 2, "prime_heads": 2, "prime_attn_order": 2, "prime_blocks": 2,
            "prime_spread": NSNull(), "prime_m_attn": 0.5, "prime_m_mlp": 1.0, "prime_res_scale": false,
            "prime_pos_init": false, "prime_init_scale": 4.0,
            "downs_t": [3, 2, 2], "strides_t": [2, 2, 2], "cond_width": 6, "cond_depth": 2, "cond_m_conv": 1.0,
            "cond_dilation_growth_rate": 3, "cond_dilation_cycle": NSNull(), "cond_res_scale": false,
            "cond_zero_out": false, "cond_c_res": 0,
        ]
        for (k, x) in changes { v[k] = x }
        return Hyperparameters(v, source: "test hps")
    }

    struct Batch { let z: [Int]; let zCond: [Int]?; let y: [Int]?; let batch: Int }

    static func batch(_ m: TrainablePrior, _ n: Int, seed: UInt64) -> Batch {
        let c = m.config
        var rng = SeededGenerator(seed: seed)
        let z = (0..<(n * c.nCtx)).map { _ in Int(rng.next() % UInt64(c.lBins)) }
        var zCond: [Int]? = nil
        if let cond = m.conditioner { zCond = (0..<(n * c.nCtx / cond.upsampling)).map { _ in Int(rng.next() % UInt64(c.lBins)) } }
        var y: [Int]? = nil
        if c.labels {
            var v: [Int] = []
            for i in 0..<n {
                let total = 44100 * (20 + 3 * i)
                v += [total, (i * 7919) % (total / 2), c.nCtx * 128, Int(rng.next() % UInt64(c.yBins[1]))]
                for g in 0..<c.maxBowGenreSize { v.append(g == 1 && i == 0 ? -1 : Int(rng.next() % UInt64(c.yBins[0]))) }
                // Bar clocks of different bars and downbeats; every third item has none ([0, 0]).
                if c.barClockBins > 0 { v += i % 3 == 2 ? [0, 0] : [44100 + 9973 * i, 311 * i] }
                for _ in 0..<c.nTokens { v.append(Int(rng.next() % UInt64(c.nVocab))) }
            }
            y = v
        }
        return Batch(z: z, zCond: zCond, y: y, batch: n)
    }

    static func loss(_ m: TrainablePrior, _ b: Batch) throws -> Double {
        try m.accumulateGradients(z: b.z, zCond: b.zCond, y: b.y, batch: b.batch, into: Gradients()).total
    }

    /// For each parameter tensor, the derivative along a random unit direction by central differences
    /// against the gradient's projection on it, relative to the gradient's norm. A wrong gradient misses by
    /// about ‖g‖/√n along a random direction (n ≤ a few hundred here), far above the tolerance.
    func check(_ changes: [String: Any], batchSize: Int = 2, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) throws {
        let m = try TrainablePrior.random(hps: Self.hps(changes), seed: seed)
        let b = Self.batch(m, batchSize, seed: seed + 10)
        // The training forward computes what the sampling forward does.
        if m.conditioner == nil {
            let reference = try m.prior.trainLoss(z: b.z, batch: b.batch, y: b.y).total
            XCTAssertEqual(try Self.loss(m, b), reference, accuracy: 1e-5 * reference, "training vs sampling forward", file: file, line: line)
        }
        let (_, grads) = try m.lossAndGradients(z: b.z, zCond: b.zCond, y: b.y, batch: b.batch)
        var rng = SeededGenerator(seed: seed + 20)
        var worst = 0.0, worstKey = "", checked = 0
        let h: Float = 1e-3
        for (key, t) in m.distinctParameters {
            let u = Tensor(zeros: t.shape)
            rng.fill(u.data, u.count, std: 1)
            var norm: Float = 0
            for i in 0..<u.count { norm += u.data[i] * u.data[i] }
            for i in 0..<u.count { u.data[i] /= norm.squareRoot() }
            let saved = t.copy()
            for i in 0..<t.count { t.data[i] = saved.data[i] + h * u.data[i] }
            let plus = try Self.loss(m, b)
            for i in 0..<t.count { t.data[i] = saved.data[i] - h * u.data[i] }
            let minus = try Self.loss(m, b)
            t.data.update(from: saved.data, count: t.count)
            let fd = (plus - minus) / (2 * Double(h))
            let g = grads[key]
            var projected = 0.0, gNorm = 0.0
            if let g { for i in 0..<g.count { projected += Double(g.data[i]) * Double(u.data[i]); gNorm += Double(g.data[i] * g.data[i]) } }
            // Relative to the gradient's size (a projection on a random direction can be near zero), with a
            // floor for the float32 forward's rounding (a few 1e-5 in a difference quotient at this step; a
            // smaller step would drown in it, a larger one would cross the conditioner's ReLU kinks).
            let err = abs(fd - projected) / (gNorm.squareRoot() + 3e-2)
            if err > worst { (worst, worstKey) = (err, key) }
            XCTAssertLessThanOrEqual(err, 2e-3, "\(key): finite difference \(fd), gradient·u \(projected), ‖g‖ \(gNorm.squareRoot())",
                                     file: file, line: line)
            checked += 1
        }
        print("grad check \(changes.keys.sorted()): \(checked) tensors, worst error \(worst) (\(worstKey))")
    }

    func testDenseManyHeads() throws { try check(["attn_order": 0, "heads": 4, "blocks": NSNull()]) }
    func testRowAndColumn() throws { try check(["attn_order": 1, "prior_depth": 2]) }
    func testRowColumnPreviousBlockResScale() throws { try check(["attn_order": 2, "res_scale": true, "m_mlp": 2.0]) }
    func testSummary() throws { try check(["attn_order": 3, "prior_depth": 2, "n_ctx": 20, "blocks": 5]) }
    func testSummarySpread() throws { try check(["attn_order": 4, "prior_depth": 2, "spread": 2]) }
    func testRowSummaryRowRow() throws { try check(["attn_order": 5, "prior_depth": 4, "heads": 1]) }
    func testRowColumnPreviousDense() throws { try check(["attn_order": 9, "prior_depth": 4]) }
    func testNoLabels() throws { try check(["labels": false, "attn_order": 1, "prior_depth": 2]) }
    func testSeparateLyricsEncoderEveryFourth() throws {
        try check(["attn_order": 6, "prior_depth": 4, "n_tokens": 8, "n_vocab": 10, "use_tokens": true])
    }
    func test5bLyricsLayout() throws {
        try check(["attn_order": 10, "prior_depth": 10, "n_tokens": 8, "n_vocab": 10, "use_tokens": true,
                   "merged_decoder": true], batchSize: 1)
    }
    func test1bLyricsLayout() throws {
        try check(["attn_order": 12, "prior_depth": 16, "n_tokens": 6, "n_vocab": 9, "use_tokens": true,
                   "single_enc_dec": true, "max_bow_genre_size": 1, "labels_v3": true, "n_ctx": 14, "blocks": 4,
                   "prior_width": 8], batchSize: 1)
    }
    func test1bLyricsLayoutWithBarClock() throws {
        try check(["attn_order": 12, "prior_depth": 4, "n_tokens": 6, "n_vocab": 9, "use_tokens": true,
                   "single_enc_dec": true, "max_bow_genre_size": 1, "labels_v3": true, "n_ctx": 14, "blocks": 4,
                   "prior_width": 8, "bar_clock_bins": 5], batchSize: 3)
    }
    func testUpsamplerWithResidualScaling() throws {
        try check(["level": 1, "attn_order": 2, "cond_res_scale": true, "cond_dilation_cycle": 2, "cond_depth": 3])
    }
    func testBottomUpsamplerWiderConditioner() throws {
        try check(["level": 0, "attn_order": 0, "blocks": NSNull(), "cond_m_conv": 1.5, "strides_t": [2, 4, 2],
                   "n_ctx": 32], batchSize: 1)
    }
}
