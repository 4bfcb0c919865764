import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Whole priors built from hyperparameters with random weights: lyrics layouts, labels, upsamplers,
/// strict loading and the label conditioner's arithmetic.
final class PriorModelTests: XCTestCase {
    static func hps(_ changes: [String: Any] = [:]) -> Hyperparameters {
        var v: [String: Any] = [
            "level": 2, "levels": 3, "l_bins": 23, "n_ctx": 24, "prior_width": 24, "prior_depth": 3, "heads": 2,
            "attn_order": 2, "blocks": 4, "spread": NSNull(), "m_attn": 0.5, "m_mlp": 1.0, "res_scale": false,
            "init_scale": 6.0, "pos_init": false, "labels": true, "labels_v3": false, "y_bins": [7, 11], "t_bins": 8,
            "max_bow_genre_size": 2, "sr": 44100, "min_duration": 1.0, "max_duration": 60.0,
            "n_tokens": 0, "n_vocab": 0, "use_tokens": false, "single_enc_dec": false, "merged_decoder": false,
            "prime_loss_fraction": 0.4, "copy_input": false,
            "prime_width": 16, "prime_depth": 2, "prime_heads": 2, "prime_attn_order": 2, "prime_blocks": 2,
            "prime_spread": NSNull(), "prime_m_attn": 0.5, "prime_m_mlp": 1.0, "prime_res_scale": false,
            "prime_pos_init": false, "prime_init_scale": 6.0,
        ]
        for (k, x) in changes { v[k] = x }
        return Hyperparameters(v, source: "test hps")
    }

    static let singleEncDec: [String: Any] = [
        "n_tokens": 6, "n_vocab": 9, "use_tokens": true, "single_enc_dec": true, "attn_order": 12, "prior_depth": 16,
        "n_ctx": 26, "blocks": 4, "max_bow_genre_size": 1, "labels_v3": true,
    ]
    static let separateEncoder: [String: Any] = [
        "n_tokens": 8, "n_vocab": 10, "use_tokens": true, "merged_decoder": true, "attn_order": 10, "prior_depth": 19,
        "n_ctx": 16, "blocks": 4,
    ]

    /// Label vectors: total length, offset, sample length, artist, genres (-1 = none), lyric tokens.
    func labels(_ c: PriorConfig, batch: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        var y: [Int] = []
        for n in 0..<batch {
            let total = 44100 * (10 + n)
            y += [total, (n * 7919) % (total / 2), c.nCtx * 128, Int(rng.next() % UInt64(c.yBins[1]))]
            for g in 0..<c.maxBowGenreSize { y.append(g == 1 && n == 0 ? -1 : Int(rng.next() % UInt64(c.yBins[0]))) }
            for _ in 0..<c.nTokens { y.append(Int(rng.next() % UInt64(c.nVocab))) }
        }
        return y
    }

    func codes(_ c: PriorConfig, batch: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        return (0..<(batch * c.nCtx)).map { _ in Int(rng.next() % UInt64(c.lBins)) }
    }

    /// Full forward vs the cache one code at a time and in uneven chunks, through the Prior API.
    func checkCache(_ prior: Prior, batch: Int, xCond: Tensor? = nil, seed: UInt64 = 3,
                    file: StaticString = #filePath, line: UInt = #line) throws {
        let c = prior.config
        let y = c.labels ? labels(c, batch: batch, seed: seed) : nil
        let z = codes(c, batch: batch, seed: seed + 1)
        let full = try prior.logits(z: z, batch: batch, y: y, xCond: xCond)
        XCTAssertEqual(full.shape, [batch, c.prefixLength + c.nCtx, prior.prior.bins], file: file, line: line)
        let L = c.nCtx, v = prior.prior.bins
        let expected = Tensor(zeros: [batch, L, v])
        for n in 0..<batch {
            (expected.data + n * L * v).update(from: full.data + (n * (c.prefixLength + L) + c.prefixLength) * v, count: L * v)
        }
        for chunks in [[1], [4, 1, 7]] {
            let state = try prior.makeState(batch: batch, y: y, xCond: xCond)
            let out = Tensor(zeros: [batch, L, v])
            var t = 0, k = 0
            while t < L {
                let T = min(chunks[k % chunks.count], L - t)
                k += 1
                var prev: [Int] = []
                for n in 0..<batch { for i in 0..<T { prev.append(t + i == 0 ? 0 : z[n * L + t + i - 1]) } }
                let logits = try prior.forward(state, previousCodes: prev, count: T)!
                for n in 0..<batch { (out.data + (n * L + t) * v).update(from: logits.data + n * T * v, count: T * v) }
                t += T
            }
            assertClose(out, expected, tol: 1e-5, "cache \(chunks) vs full", file: file, line: line)
        }
        let bits = try prior.bitsPerToken(z: z, batch: batch, y: y, xCond: xCond)
        XCTAssertEqual(bits.map(\.count), [Int](repeating: L, count: batch), file: file, line: line)
        XCTAssertTrue(bits.joined().allSatisfy { $0 > 0 && $0.isFinite }, file: file, line: line)
        let loss = try prior.trainLoss(z: z, batch: batch, y: y, xCond: xCond)
        XCTAssertEqual(loss.gen, bits.joined().reduce(0, +) / Double(batch * L), accuracy: 1e-9, file: file, line: line)
        if c.hasLyrics {
            XCTAssertGreaterThan(loss.prime, 0, file: file, line: line)
            let dims = Double(c.nTokens + c.nCtx)
            XCTAssertEqual(loss.total, c.primeLossFraction * loss.prime * Double(c.nTokens) / dims
                           + loss.gen * Double(c.nCtx) / dims, accuracy: 1e-12, file: file, line: line)
        } else {
            XCTAssertEqual(loss.total, loss.gen, file: file, line: line)
        }
    }

    func testTopLevelWithLabels() throws {
        try checkCache(Prior.randomWeights(hps: Self.hps(), seed: 1), batch: 3)
    }

    func testTopLevelWithoutLabelsUsesTheLearnedStartToken() throws {
        let prior = try Prior.randomWeights(hps: Self.hps(["labels": false, "attn_order": 0, "blocks": NSNull()]), seed: 2)
        XCTAssertNil(prior.labelConditioner)
        XCTAssertNotNil(prior.prior.startToken)
        try checkCache(prior, batch: 2)
    }

    func testSingleEncoderDecoder() throws {
        let prior = try Prior.randomWeights(hps: Self.hps(Self.singleEncDec), seed: 3)
        XCTAssertEqual(prior.prior.bins, 9 + 23)
        XCTAssertEqual(prior.config.codeOffset, 9)
        try checkCache(prior, batch: 3)
        // The lyrics matter: other lyric tokens change the codes' logits.
        let c = prior.config
        var y = labels(c, batch: 1, seed: 9)
        let z = codes(c, batch: 1, seed: 10)
        let a = try prior.logits(z: z, batch: 1, y: y)
        y[y.count - 2] = (y[y.count - 2] + 1) % c.nVocab
        let b = try prior.logits(z: z, batch: 1, y: y)
        XCTAssertGreaterThan(relativeError(a, b), 1e-4)
    }

    func testSeparateLyricsEncoder() throws {
        let prior = try Prior.randomWeights(hps: Self.hps(Self.separateEncoder), seed: 4)
        XCTAssertNotNil(prior.lyricsEncoder)
        XCTAssertEqual(prior.prior.transformer.layers[18].kind, .decode)
        XCTAssertNotNil(prior.prior.xOut)
        try checkCache(prior, batch: 2)
        let c = prior.config
        var y = labels(c, batch: 1, seed: 9)
        let z = codes(c, batch: 1, seed: 10)
        let a = try prior.logits(z: z, batch: 1, y: y)
        // As in the reference, the encoder reads the lyrics shifted by one: the last token never reaches
        // encoder_kv, the others do.
        y[y.count - 1] = (y[y.count - 1] + 1) % c.nVocab
        XCTAssertEqual(relativeError(a, try prior.logits(z: z, batch: 1, y: y)), 0)
        y[y.count - c.nTokens] = (y[y.count - c.nTokens] + 1) % c.nVocab
        XCTAssertGreaterThan(relativeError(a, try prior.logits(z: z, batch: 1, y: y)), 1e-5)
    }

    func testCopyItemCarriesOneCandidateIntoAnotherSlot() throws {
        for changes in [Self.singleEncDec, Self.separateEncoder, [:]] {
            let prior = try Prior.randomWeights(hps: Self.hps(changes), seed: 11)
            let c = prior.config
            let y = labels(c, batch: 3, seed: 12), z = codes(c, batch: 3, seed: 13)
            let L = c.nCtx, v = prior.prior.bins
            let state = try prior.makeState(batch: 3, y: y)
            var prev: [Int] = []
            for n in 0..<3 { prev += [0] + z[(n * L)..<(n * L + 4)] }
            try prior.forward(state, previousCodes: prev, count: 5, output: .none)
            try state.copyItem(1, to: 0)
            try state.copyItem(1, to: 1)
            let next = try prior.forward(state, previousCodes: [z[L + 4], z[L + 4], z[2 * L + 4]], count: 1)!
            XCTAssertEqual(Array(UnsafeBufferPointer(start: next.data, count: v)),
                           Array(UnsafeBufferPointer(start: next.data + v, count: v)))
            XCTAssertNotEqual(Array(UnsafeBufferPointer(start: next.data, count: v)),
                              Array(UnsafeBufferPointer(start: next.data + 2 * v, count: v)))
            XCTAssertThrowsError(try state.copyItem(0, to: 3))
        }
    }

    func testUpsamplerTakesXCondFromTheCaller() throws {
        let h = Self.hps(["level": 1, "heads": 1, "attn_order": 2])
        let prior = try Prior.randomWeights(hps: h, seed: 5)
        XCTAssertNotNil(prior.labelConditioner)
        XCTAssertFalse(prior.labelConditioner!.includesTimeSignal)
        var rng = SeededGenerator(seed: 6)
        let xCond = Tensor(zeros: [2, 24, 24])
        rng.fill(xCond.data, xCond.count, std: 1)
        try checkCache(prior, batch: 2, xCond: xCond)
        let y = labels(prior.config, batch: 2, seed: 1)
        XCTAssertThrowsError(try prior.makeState(batch: 2, y: y)) { XCTAssertTrue("\($0)".contains("x_cond")) }
        XCTAssertThrowsError(try prior.makeState(batch: 2, y: y, xCond: Tensor(zeros: [2, 23, 24])))
    }

    func testStrictLoadingRoundTrip() throws {
        let h = Self.hps(Self.separateEncoder)
        let tensors = try Prior.randomTensors(hps: h, seed: 7)
        let specs = try Prior.parameters(hps: h)
        func write(_ folder: String, drop: String? = nil, extra: Bool = false, reshape: String? = nil) throws {
            try ModelConfig(kind: .prior, hps: h).write(folder: folder)
            var w = SafetensorsWriter()
            for s in specs where s.key != drop {
                let t = tensors[s.key]!
                w.add(s.key, shape: s.key == reshape ? [t.count] : t.shape, floats: t.toArray())
            }
            if extra { w.add("conditioner_blocks.0.ln.weight", shape: [24], floats: [Float](repeating: 1, count: 24)) }
            try w.write(to: folder + "/weights.safetensors")
        }
        let root = temporaryFolder(self)
        try write(root + "/ok")
        let loaded = try Prior.load(folder: root + "/ok")
        let fresh = try Prior.randomWeights(hps: h, seed: 7)
        let c = loaded.config
        let y = labels(c, batch: 2, seed: 1), z = codes(c, batch: 2, seed: 2)
        XCTAssertEqual(relativeError(try loaded.logits(z: z, batch: 2, y: y), try fresh.logits(z: z, batch: 2, y: y)), 0)

        try write(root + "/missing", drop: "prime_state_ln.bias")
        XCTAssertThrowsError(try Prior.load(folder: root + "/missing")) { XCTAssertTrue("\($0)".contains("prime_state_ln.bias")) }
        try write(root + "/shape", reshape: "prior.x_emb.weight")
        XCTAssertThrowsError(try Prior.load(folder: root + "/shape")) { XCTAssertTrue("\($0)".contains("prior.x_emb.weight")) }
        try write(root + "/extra", extra: true)
        XCTAssertThrowsError(try Prior.load(folder: root + "/extra")) { XCTAssertTrue("\($0)".contains("conditioner_blocks")) }
        XCTAssertNoThrow(try Prior.load(folder: root + "/extra", leaving: ["conditioner_blocks."]))
        var taken: [String] = []
        XCTAssertNoThrow(try Prior.load(folder: root + "/extra") { store in
            taken.append("conditioner_blocks.0.ln.weight")
            _ = try store.take("conditioner_blocks.0.ln.weight", [24])
        })
        XCTAssertEqual(taken.count, 1)
    }

    func testParameterTableShapesAndCount() throws {
        let h = Self.hps(["prior_width": 32, "m_attn": 0.25, "prior_depth": 2, "heads": 2])
        let specs = try Prior.parameters(hps: h)
        let keys = specs.map(\.key)
        XCTAssertEqual(Set(keys).count, keys.count)
        XCTAssertEqual(keys.first, "y_emb.bow_genre_emb.emb.weight")
        XCTAssertEqual(keys.last, "prior.x_out.weight")
        let w = 32, ns = 8, layer = (w * 3 * ns + 3 * ns) + (ns * w + w) + 2 * w + (w * w + w) * 2 + 2 * w
        let labels = (7 + 11 + 3 * 8) * w
        let model = 23 * w + 24 * w + 2 * layer   // x_emb, pos_emb, layers; x_out shares x_emb
        XCTAssertEqual(try Prior.parameterCount(hps: h), labels + model)
        XCTAssertEqual(specs.first { $0.key == "prior.transformer._attn_mods.1.attn.c_attn.w" }?.shape, [32, 24])
        let merged = try Prior.parameters(hps: Self.hps(Self.separateEncoder))
        XCTAssertEqual(merged.first { $0.key == "prime_prior.start_token" }?.shape, [1, 16])
        XCTAssertEqual(merged.first { $0.key == "prior.transformer._attn_mods.18.attn.c_enc_kv.w" }?.shape, [24, 24])
        XCTAssertEqual(merged.first { $0.key == "prior.transformer._attn_mods.18.attn.c_attn.w" }?.shape, [24, 12])
        XCTAssertThrowsError(try Prior.parameters(hps: Self.hps(["pos_init": true])))
        XCTAssertThrowsError(try Prior.parameters(hps: Self.hps(["attn_order": 10, "prior_depth": 19])))  // no lyrics encoder
    }

    func testLabelConditionerArithmetic() throws {
        let prior = try Prior.randomWeights(hps: Self.hps(["n_ctx": 8, "blocks": 2]), seed: 8)
        let lc = prior.labelConditioner!
        let w = 24
        // total 30 s of 1…60 s → bin floor(8·(30−1)/59) = 3; a window at 10 s lasting 1024·128 samples.
        let total = 30 * 44100, offset = 10 * 44100, length = 8 * 128
        let (yCond, timing) = try lc([total, offset, length, 4, 2, -1], batch: 1)
        for j in 0..<w {
            XCTAssertEqual(yCond[j], lc.artistEmb[4 * w + j] + lc.bowGenreEmb[2 * w + j], accuracy: 1e-6)
        }
        let timingSignal = try XCTUnwrap(timing)
        XCTAssertEqual(timingSignal.shape, [1, 8, w])
        for t in 0..<8 {
            let pos = Double(offset) + Double(length) * Double(t) / 8
            let absBin = Int(8 * pos / (60 * 44100)), relBin = Int(8 * pos / Double(total))
            for j in 0..<w {
                let expected = lc.totalLengthEmb![3 * w + j] + lc.absolutePosEmb![absBin * w + j] + lc.relativePosEmb![relBin * w + j]
                XCTAssertEqual(timingSignal[t * w + j], expected, accuracy: 1e-6)
            }
        }
        XCTAssertEqual(try lc.bins(start: 0.999, end: 1.5, range: (0, 1), clamp: true, what: "t", item: 0).last, 7)
        XCTAssertThrowsError(try lc([60 * 44100, 0, length, 4, 2, -1], batch: 1))        // total length at the open end
        XCTAssertThrowsError(try lc([total, 60 * 44100, length, 4, 2, -1], batch: 1))    // offset past max_duration
        XCTAssertThrowsError(try lc([total, offset, length, 11, 2, -1], batch: 1))       // artist out of range
        XCTAssertThrowsError(try lc([total, offset, length, 4, 7, -1], batch: 1))        // genre out of range
        XCTAssertThrowsError(try prior.conditioning(y: [total, offset, length, 4, 2], batch: 1))
    }
}
