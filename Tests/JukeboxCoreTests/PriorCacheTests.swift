import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Random small models of every layout: the full forward against a plain double-precision restatement of
/// the reference, and the key/value cache (one token or uneven chunks at a time) against the full forward.
final class PriorCacheTests: XCTestCase {
    struct Setup {
        var attnOrder = 2, depth = 3, width = 32, heads = 2, nCtx = 24, blocks: Int? = 4, spread: Int? = nil
        var mAttn = 0.5, mMlp = 1.0, resScale = false, bins = 19, batch = 2, encoderDims = 0
        var primeLen: Int? = nil, yCond = true, xCondRows = 0 /* 0 none, 1 one row, else nCtx */
        var mergedDecoder = false, seed: UInt64 = 1
    }

    /// Random numbers large enough that attention is far from uniform, so a wrong key set shows.
    static let initScale = 8.0

    func build(_ s: Setup) throws -> (ConditionalAutoregressive2D, [String: Tensor], AutoregressiveConfig) {
        let t = try TransformerConfig(width: s.width, depth: s.depth, heads: s.heads, nCtx: s.nCtx, attnOrder: s.attnOrder,
                                      blocks: s.blocks, spread: s.spread, mAttn: s.mAttn, mMlp: s.mMlp,
                                      resScale: s.resScale, encoderDims: s.encoderDims, primeLen: s.primeLen)
        let a = AutoregressiveConfig(transformer: t, bins: s.bins, xCond: s.xCondRows > 0, yCond: s.yCond,
                                     mergedDecoder: s.mergedDecoder, onlyEncode: false, initScale: Self.initScale)
        let specs = try ConditionalAutoregressive2D.parameters(prefix: "prior", config: a).specs
        let tensors = ParameterSpec.randomTensors(specs, seed: s.seed)
        return (try ConditionalAutoregressive2D(prefix: "prior", config: a, source: .dictionary(tensors)), tensors, a)
    }

    func random(_ shape: [Int], seed: UInt64, std: Double = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let t = Tensor(zeros: shape)
        rng.fill(t.data, t.count, std: std)
        return t
    }

    func rows(_ t: Tensor, item n: Int) -> [[Double]] {
        let len = t.shape[1], w = t.shape[2]
        return (0..<len).map { i in (0..<w).map { Double(t.data[(n * len + i) * w + $0]) } }
    }

    /// Checks one setup; returns nothing, asserts inside.
    func check(_ s: Setup, naive: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        let (model, tensors, a) = try build(s)
        let w = s.width, L = s.nCtx, N = s.batch
        let yCond = s.yCond ? random([N, 1, w], seed: s.seed + 10) : nil
        let xCond = s.xCondRows > 0 ? random([N, s.xCondRows == 1 ? 1 : L, w], seed: s.seed + 11) : nil
        let enc = s.encoderDims > 0 ? random([N, s.encoderDims, w], seed: s.seed + 12) : nil
        var rng = SeededGenerator(seed: s.seed + 13)
        let tokens = (0..<(N * L)).map { _ in Int(rng.next() % UInt64(s.bins)) }
        var previous = [Int](repeating: 0, count: N * L)
        for n in 0..<N { for i in 1..<L { previous[n * L + i] = tokens[n * L + i - 1] } }
        let what = "order \(s.attnOrder) depth \(s.depth) heads \(s.heads) blocks \(s.blocks ?? 0) batch \(N)"

        let state = try model.makeState(batch: N, yCond: yCond, xCond: xCond, encoderKV: enc)
        let full = try model.forward(state, previous: previous, count: L)!
        XCTAssertEqual(full.shape, [N, L, s.bins], file: file, line: line)

        if naive {
            let expected = Tensor(zeros: [N, L, s.bins])
            for n in 0..<N {
                let start: [Double] = yCond.map { y in (0..<w).map { Double(y[n * w + $0]) } }
                    ?? (0..<w).map { Double(tensors["prior.start_token"]![$0]) }
                let out = NaivePrior.logits(tensors, prefix: "prior", config: a, tokens: Array(tokens[(n * L)..<((n + 1) * L)]),
                                            start: start, xCond: xCond.map { rows($0, item: n) },
                                            encoder: enc.map { rows($0, item: n) })
                for i in 0..<L { for b in 0..<s.bins { expected[(n * L + i) * s.bins + b] = Float(out[i][b]) } }
            }
            assertClose(full, expected, tol: 1e-5, "\(what): full forward vs naive reference", file: file, line: line)
        }

        for chunks in [[1], [5, 1, 3, 8, 2], [L]] {
            let cached = try model.makeState(batch: N, yCond: yCond, xCond: xCond, encoderKV: enc)
            let out = Tensor(zeros: [N, L, s.bins])
            var t = 0, k = 0
            while t < L {
                let T = min(chunks[k % chunks.count], L - t)
                k += 1
                var prev: [Int] = []
                for n in 0..<N { prev += previous[(n * L + t)..<(n * L + t + T)] }
                let logits = try model.forward(cached, previous: prev, count: T, output: T == 1 && k % 2 == 0 ? .lastLogits : .logits)!
                for n in 0..<N {
                    (out.data + (n * L + t) * s.bins).update(from: logits.data + n * T * s.bins, count: T * s.bins)
                }
                t += T
            }
            assertClose(out, full, tol: 1e-5, "\(what): cache in chunks \(chunks) vs full", file: file, line: line)
        }
    }

    func testDense() throws { try check(Setup(attnOrder: 0, depth: 2, heads: 4, blocks: nil, xCondRows: 2)) }
    func testRowAndColumn() throws { try check(Setup(attnOrder: 1, depth: 2, nCtx: 24, blocks: 6, batch: 1)) }
    func testRowColumnPreviousBlock() throws {
        try check(Setup(attnOrder: 2, depth: 3, width: 24, heads: 3, nCtx: 24, blocks: 3, resScale: true, batch: 3, xCondRows: 1))
    }
    func testSummary() throws { try check(Setup(attnOrder: 3, depth: 2, nCtx: 20, blocks: 5, yCond: false, xCondRows: 2)) }
    func testSummarySpread() throws { try check(Setup(attnOrder: 4, depth: 2, nCtx: 24, blocks: 4, spread: 2)) }
    func testRowSummaryRowRow() throws { try check(Setup(attnOrder: 5, depth: 4, width: 16, heads: 1, nCtx: 16, blocks: 4)) }
    func testEncoderDecoderEveryFourth() throws {
        try check(Setup(attnOrder: 6, depth: 4, nCtx: 24, blocks: 4, encoderDims: 5, xCondRows: 2, mergedDecoder: true))
    }
    func testRowColumnPreviousDense() throws { try check(Setup(attnOrder: 9, depth: 4, width: 16, heads: 2, mMlp: 2)) }
    func test5bLyricsOrder() throws {
        try check(Setup(attnOrder: 10, depth: 19, width: 16, heads: 2, nCtx: 16, blocks: 4, bins: 11, encoderDims: 7,
                        xCondRows: 2, mergedDecoder: true))
    }
    func testOrder11() throws {
        try check(Setup(attnOrder: 11, depth: 16, width: 16, heads: 1, nCtx: 12, blocks: 3, bins: 7, encoderDims: 3))
    }
    func test1bLyricsOrder() throws {
        // prime layers keep (6 // 4 + 1)·4 = 8 keys of a 28-long sequence.
        try check(Setup(attnOrder: 12, depth: 16, width: 16, heads: 2, nCtx: 28, blocks: 4, bins: 13, primeLen: 6,
                        xCondRows: 2))
    }
    func testOddShapes() throws {
        // m_attn giving a head width that is not a multiple of 8, one block, larger vocabulary.
        try check(Setup(attnOrder: 2, depth: 3, width: 40, heads: 2, nCtx: 9, blocks: 1, mAttn: 0.25, bins: 300, batch: 2))
        try check(Setup(attnOrder: 2, depth: 3, width: 24, heads: 3, nCtx: 30, blocks: 10, mAttn: 0.75, bins: 5, seed: 7))
    }
    func testLargerChunksUseMatrixAttention() throws {
        // 70 positions of dense attention: queries go through the sgemm path in row chunks.
        try check(Setup(attnOrder: 0, depth: 1, width: 16, heads: 2, nCtx: 140, blocks: nil, bins: 9, batch: 1), naive: false)
        try check(Setup(attnOrder: 2, depth: 3, width: 16, heads: 2, nCtx: 144, blocks: 12, bins: 9, batch: 2), naive: false)
    }

    func testLongKeyRunsSplitAcrossThreads() throws {
        // A step's query over more than `keyChunk` keys is split into pieces (each with its own maximum)
        // shared by the pool's threads and rescaled when added up: 150 dense positions, one step at a time.
        XCTAssertLessThan(FactoredAttention.keyChunk * 2, 150)
        try check(Setup(attnOrder: 0, depth: 2, width: 24, heads: 3, nCtx: 150, blocks: nil, bins: 7, batch: 2))
        // Summary keys (69 block ends) after the reference's zero key, 68 spread ones after two zero keys,
        // and a block and a previous block of 96 keys.
        try check(Setup(attnOrder: 3, depth: 2, width: 16, heads: 1, nCtx: 140, blocks: 70, bins: 5, batch: 1))
        try check(Setup(attnOrder: 4, depth: 2, width: 16, heads: 2, nCtx: 140, blocks: 35, spread: 2, bins: 5, batch: 2))
        try check(Setup(attnOrder: 2, depth: 3, width: 16, heads: 2, nCtx: 192, blocks: 2, bins: 5, batch: 1), naive: false)
        // Heads 150 wide (5B's): outputs in blocks of 128 and a tail of 6.
        try check(Setup(attnOrder: 0, depth: 1, width: 600, heads: 2, nCtx: 70, blocks: nil, bins: 5, batch: 2))
    }

    func testWideModelTakesTheThreadedSmallBatchPath() throws {
        // 512×512 MLP weights split across cores for batches of a few items; 17+ rows go to sgemm.
        try check(Setup(attnOrder: 2, depth: 1, width: 512, heads: 2, nCtx: 24, blocks: 4, mAttn: 0.25, bins: 64, batch: 3),
                  naive: false)
    }

    func testRecordedAttentionWeightsMatchTheNaiveReference() throws {
        for s in [Setup(attnOrder: 12, depth: 16, width: 16, heads: 2, nCtx: 28, blocks: 4, bins: 13, primeLen: 6, xCondRows: 2),
                  Setup(attnOrder: 6, depth: 4, nCtx: 24, blocks: 4, encoderDims: 5, xCondRows: 2, mergedDecoder: true)] {
            let (model, tensors, a) = try build(s)
            let layer = s.attnOrder == 12 ? 15 : 3, L = s.nCtx, w = s.width
            let y = random([1, 1, w], seed: 21), x = random([1, L, w], seed: 22)
            let enc = s.encoderDims > 0 ? random([1, s.encoderDims, w], seed: 23) : nil
            let tokens = (0..<L).map { ($0 * 5 + 1) % s.bins }
            let state = try model.makeState(batch: 1, yCond: y, xCond: x, encoderKV: enc)
            let cache = state.transformer.caches[layer]
            let buffer = Tensor(zeros: [1, s.heads, L, cache.slots])
            cache.record = buffer.data
            cache.recordPositions = L
            try model.forward(state, previous: [0] + tokens.dropLast(), count: L, output: .none)
            var worst = 0.0
            _ = NaivePrior.logits(tensors, prefix: "prior", config: a, tokens: tokens, start: (0..<w).map { Double(y[$0]) },
                                  xCond: rows(x, item: 0), encoder: enc.map { rows($0, item: 0) }) { d, i, h, keys, probs in
                guard d == layer else { return }
                for (k, p) in zip(keys.isEmpty ? Array(0..<probs.count) : keys, probs) {
                    worst = max(worst, abs(Double(buffer[(h * L + i) * cache.slots + k]) - p))
                }
            }
            print("attention weights of layer \(layer) (\(a.transformer.kinds[layer])): max abs difference \(worst)")
            XCTAssertLessThan(worst, 1e-5)
        }
    }

    func testLayerLayoutsFollowTheReferenceTables() throws {
        let k = { (d: Int, o: Int) in try AttentionKind.forLayer(d, attnOrder: o).rawValue }
        XCTAssertEqual(try (0..<6).map { try k($0, 2) }, [1, 2, 3, 1, 2, 3])
        XCTAssertEqual(try (0..<20).map { try k($0, 10) }, [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 6, 1])
        XCTAssertEqual(try k(78, 10), 6)
        XCTAssertEqual(try k(68, 10), 6)   // the 5b_lyrics alignment layer attends to the lyrics
        XCTAssertEqual(try (14..<18).map { try k($0, 12) }, [3, 7, 2, 3])
        XCTAssertEqual(try k(63, 12), 7)   // the 1b_lyrics alignment layer attends to the lyric prefix
        XCTAssertEqual(try k(47, 12), 0)
        XCTAssertEqual(try k(31, 12), 7)
        XCTAssertEqual(try (15..<18).map { try k($0, 7) }, [6, 1, 2])
        XCTAssertThrowsError(try AttentionKind.forLayer(0, attnOrder: 13))
    }

    func testBadShapesAreErrors() throws {
        XCTAssertThrowsError(try TransformerConfig(width: 32, depth: 2, heads: 3, nCtx: 24, attnOrder: 0, blocks: nil))
        XCTAssertThrowsError(try TransformerConfig(width: 32, depth: 2, heads: 2, nCtx: 25, attnOrder: 2, blocks: 4))
        XCTAssertThrowsError(try TransformerConfig(width: 32, depth: 2, heads: 2, nCtx: 24, attnOrder: 2, blocks: nil))
        XCTAssertThrowsError(try TransformerConfig(width: 32, depth: 19, heads: 2, nCtx: 24, attnOrder: 10, blocks: 4))
        let (model, _, _) = try build(Setup(attnOrder: 2, nCtx: 24, blocks: 4, batch: 1, xCondRows: 2))
        let y = random([1, 1, 32], seed: 3), x = random([1, 24, 32], seed: 4)
        let state = try model.makeState(batch: 1, yCond: y, xCond: x)
        XCTAssertThrowsError(try model.forward(state, previous: [0, 19], count: 2))      // token out of range
        XCTAssertThrowsError(try model.forward(state, previous: [0], count: 2))          // wrong count
        XCTAssertThrowsError(try model.forward(state, previous: [Int](repeating: 0, count: 25), count: 25))
        XCTAssertThrowsError(try model.makeState(batch: 1, yCond: nil, xCond: x))
        XCTAssertThrowsError(try model.makeState(batch: 1, yCond: y, xCond: random([1, 5, 32], seed: 5)))
        _ = try model.forward(state, previous: [Int](repeating: 0, count: 24), count: 24)
        XCTAssertThrowsError(try model.forward(state, previous: [0], count: 1))           // past n_ctx
    }
}
