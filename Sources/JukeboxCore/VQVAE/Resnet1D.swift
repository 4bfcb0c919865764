/// The reference's ResConv1DBlock: x + res_scale · conv1x1(relu(conv3_dilated(relu(x)))).
/// Keys: `model.1` (the dilated K=3 conv, n_in → n_state), `model.3` (the 1×1 conv, n_state → n_in);
/// `model.0` and `model.2` are the weightless ReLUs.
package struct ResConv1DBlock: @unchecked Sendable {
    package let conv3: Conv1DLayer
    package let conv1: Conv1DLayer
    package let resScale: Float
    let dilation: Int

    init<P: ParameterSource>(_ p: P, nIn: Int, nState: Int, dilation: Int, resScale: Float) throws {
        conv3 = try Conv1DLayer(p.scope("model.1"), cin: nIn, cout: nState, k: 3, padding: dilation, dilation: dilation)
        conv1 = try Conv1DLayer(p.scope("model.3"), cin: nState, cout: nIn, k: 1)
        self.resScale = resScale
        self.dilation = dilation
    }

    /// Columns per tile: the hidden tile (n_state × tile) stays in cache between the K=3 conv,
    /// its ReLU and the 1×1 conv, instead of streaming through memory three times. Narrow blocks get
    /// wider tiles so each (threaded) sgemm call still carries enough work to pay for its start-up.
    /// (4096 at width 64 measured best of 1024…16384 on the 5b shapes; untiled was ~15% slower.)
    static func tile(nIn: Int, nState: Int) -> Int {
        min(max(4096, (1 << 24) / max(nIn * nState, 1)), 65536)
    }

    /// Updates one item x [n_in, T] in place; `relu` [n_in, T] and `hidden` [n_state, tile] are scratch.
    /// relu(x) is filled lazily just ahead of the tile being updated: a tile reads relu columns up to
    /// `dilation` past its end, and x there is still unmodified because tiles go left to right.
    func forward(_ x: UnsafeMutablePointer<Float>, t: Int, relu: UnsafeMutablePointer<Float>,
                 hidden: UnsafeMutablePointer<Float>) {
        let (cin, state) = (conv3.cin, conv3.cout)
        let taps = conv3.taps!.data
        var ready = 0      // relu columns filled so far
        var t0 = 0
        while t0 < t {
            let w = min(Self.tile(nIn: cin, nState: state), t - t0)
            let need = min(t, t0 + w + dilation)
            if need > ready {
                let (from, count) = (ready, need - ready)
                parallelFor(cin, minChunk: max(1, 8192 / count)) { range in
                    for c in range {
                        let src = x + c * t + from, dst = relu + c * t + from
                        for j in 0..<count { dst[j] = max(src[j], 0) }
                    }
                }
                ready = need
            }
            // hidden = relu(b3 + Σ_k W_k · relu[:, j + (k−1)d]) over this tile's columns j. The centre
            // tap always covers the whole tile, so it initialises hidden (beta 0).
            for k in [1, 0, 2] {
                let shift = (k - 1) * dilation
                let lo = max(t0, -shift), hi = min(t0 + w, t - shift)
                guard hi > lo else { continue }
                BLAS.gemm(taps + k * state * cin, relu + lo + shift, hidden + (lo - t0), m: state, n: hi - lo, k: cin,
                          beta: k == 1 ? 0 : 1, ldb: t, ldc: w)
            }
            for c in 0..<state {
                let b = conv3.bias[c], row = hidden + c * w
                for j in 0..<w { row[j] = max(row[j] + b, 0) }
            }
            // x += res_scale · (W1 · hidden + b1) on the tile.
            for c in 0..<cin {
                let b = resScale * conv1.bias[c], row = x + c * t + t0
                for j in 0..<w { row[j] += b }
            }
            BLAS.gemm(conv1.weight.data, hidden, x + t0, m: cin, n: w, k: state, alpha: resScale, beta: 1,
                      ldb: w, ldc: t)
            t0 += w
        }
    }
}

/// The reference's Resnet1D: `depth` residual blocks whose dilations grow as rate^(i mod cycle),
/// optionally in reversed order. Keys: `model.{i}` (or `blocks.{i}` when checkpoint_res == 1).
package struct Resnet1D: @unchecked Sendable {
    package let blocks: [ResConv1DBlock]
    let width: Int
    let stateWidth: Int

    init<P: ParameterSource>(_ p: P, nIn: Int, config: ConvBlockConfig) throws {
        let depth = config.depth
        let scale: Float = config.resScale ? 1 / Float(Double(depth).squareRoot()) : 1
        var dilations = (0..<depth).map { config.dilation(atDepth: $0) }
        if config.reverseDilation { dilations.reverse() }
        let list = p.scope(config.checkpointRes ? "blocks" : "model")
        blocks = try dilations.enumerated().map { i, d in
            try ResConv1DBlock(list.scope("\(i)"), nIn: nIn, nState: config.stateWidth, dilation: d, resScale: scale)
        }
        width = nIn
        stateWidth = config.stateWidth
    }

    /// Runs every block over x [N, width, T] in place and returns x.
    @discardableResult
    func forward(_ x: Tensor) -> Tensor {
        guard !blocks.isEmpty else { return x }
        let (n, t) = (x.shape[0], x.shape[2])
        let relu = UnsafeMutablePointer<Float>.allocate(capacity: width * t)
        let hidden = UnsafeMutablePointer<Float>.allocate(
            capacity: stateWidth * min(t, ResConv1DBlock.tile(nIn: width, nState: stateWidth)))
        defer { relu.deallocate(); hidden.deallocate() }
        for item in 0..<n {
            let xi = x.data + item * width * t
            for block in blocks { block.forward(xi, t: t, relu: relu, hidden: hidden) }
        }
        return x
    }
}
