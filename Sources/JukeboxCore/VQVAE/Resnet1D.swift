/// The reference's ResConv1DBlock: x + res_scale · conv1x1(relu(conv3_dilated(relu(x)))).
/// Keys: `model.1` (the dilated K=3 conv, n_in → n_state), `model.3` (the 1×1 conv, n_state → n_in);
/// `model.0` and `model.2` are the weightless ReLUs.
struct ResConv1DBlock: @unchecked Sendable {
    let conv3: Conv1DLayer
    let conv1: Conv1DLayer
    let resScale: Float
    let dilation: Int

    init<P: ParameterSource>(_ p: P, nIn: Int, nState: Int, dilation: Int, resScale: Float) throws {
        conv3 = try Conv1DLayer(p.scope("model.1"), cin: nIn, cout: nState, k: 3, padding: dilation, dilation: dilation)
        conv1 = try Conv1DLayer(p.scope("model.3"), cin: nState, cout: nIn, k: 1)
        self.resScale = resScale
        self.dilation = dilation
    }

    /// Updates one item x [n_in, T] in place; `relu` [n_in, T] and `hidden` [n_state, T] are scratch.
    func forward(_ x: UnsafeMutablePointer<Float>, t: Int, relu: UnsafeMutablePointer<Float>,
                 hidden: UnsafeMutablePointer<Float>) {
        reluCopy(x, relu, conv3.cin * t)
        Conv.conv1dTaps(x: relu, cin: conv3.cin, t: t, taps: conv3.taps!.data, cout: conv3.cout, k: 3,
                        bias: conv3.bias.data, padding: dilation, dilation: dilation, out: hidden)
        reluCopy(hidden, hidden, conv3.cout * t)
        conv1.accumulate(hidden, t: t, into: x, alpha: resScale)
    }
}

/// dst = max(src, 0) over n floats, split across cores for long signals.
@inline(__always)
func reluCopy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    parallelFor(n, minChunk: 1 << 16) { r in
        for i in r { dst[i] = max(src[i], 0) }
    }
}

/// The reference's Resnet1D: `depth` residual blocks whose dilations grow as rate^(i mod cycle),
/// optionally in reversed order. Keys: `model.{i}` (or `blocks.{i}` when checkpoint_res == 1).
struct Resnet1D: @unchecked Sendable {
    let blocks: [ResConv1DBlock]
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
        let hidden = UnsafeMutablePointer<Float>.allocate(capacity: stateWidth * t)
        defer { relu.deallocate(); hidden.deallocate() }
        for item in 0..<n {
            let xi = x.data + item * width * t
            for block in blocks { block.forward(xi, t: t, relu: relu, hidden: hidden) }
        }
        return x
    }
}
