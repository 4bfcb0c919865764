/// The reference's EncoderConvBlock: down_t × [strided conv (filter 2s, padding s/2) → Resnet1D],
/// then a K=3 conv to the output width. Divides the length by stride^down_t.
/// Keys: `model.{i}.0` (strided conv), `model.{i}.1` (Resnet1D), `model.{down_t}` (output conv).
package struct EncoderConvBlock: @unchecked Sendable {
    package let downs: [(conv: Conv1DLayer, resnet: Resnet1D)]
    package let out: Conv1DLayer

    init<P: ParameterSource>(_ p: P, inputWidth: Int, outputWidth: Int, downT: Int, strideT: Int,
                             config: ConvBlockConfig) throws {
        let w = config.width
        downs = try (0..<downT).map { i in
            let s = p.scope("model.\(i)")
            return (try Conv1DLayer(s.scope("0"), cin: i == 0 ? inputWidth : w, cout: w, k: 2 * strideT,
                                    stride: strideT, padding: strideT / 2),
                    try Resnet1D(s.scope("1"), nIn: w, config: config))
        }
        out = try Conv1DLayer(p.scope("model.\(downT)"), cin: w, cout: outputWidth, k: 3, padding: 1)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (conv, resnet) in downs { h = resnet.forward(conv(h)) }
        return out(h)
    }
}

/// The reference's DecoderConvBock (sic): a K=3 conv to `width`, then down_t × [Resnet1D →
/// transposed conv (filter 2s, stride s, padding s/2)], the last one back to the input width.
/// Multiplies the length by stride^down_t.
/// Keys: `model.0` (input conv), `model.{i+1}.0` (Resnet1D), `model.{i+1}.1` (transposed conv).
package struct DecoderConvBock: @unchecked Sendable {
    package let input: Conv1DLayer
    package let ups: [(resnet: Resnet1D, conv: ConvTranspose1DLayer)]

    init<P: ParameterSource>(_ p: P, inputWidth: Int, outputWidth: Int, downT: Int, strideT: Int,
                             config: ConvBlockConfig) throws {
        let w = config.width
        input = try Conv1DLayer(p.scope("model.0"), cin: outputWidth, cout: w, k: 3, padding: 1)
        ups = try (0..<downT).map { i in
            let s = p.scope("model.\(i + 1)")
            return (try Resnet1D(s.scope("0"), nIn: w, config: config),
                    try ConvTranspose1DLayer(s.scope("1"), cin: w, cout: i == downT - 1 ? inputWidth : w,
                                             k: 2 * strideT, stride: strideT, padding: strideT / 2))
        }
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = input(x)
        for (resnet, conv) in ups { h = conv(resnet.forward(h)) }
        return h
    }
}

/// The encoder of one VQ-VAE level L: level blocks 0...L applied in turn (1 channel → emb_width,
/// then emb_width → emb_width). Keys: `level_blocks.{l}`.
package struct Encoder: @unchecked Sendable {
    package let levelBlocks: [EncoderConvBlock]

    init<P: ParameterSource>(_ p: P, level: Int, hps: VQVAEHyperparameters) throws {
        let config = hps.blockConfig(level: level, decoder: false)
        levelBlocks = try (0...level).map { l in
            try EncoderConvBlock(p.scope("level_blocks.\(l)"), inputWidth: l == 0 ? 1 : hps.embWidth,
                                 outputWidth: hps.embWidth, downT: hps.downsT[l], strideT: hps.stridesT[l],
                                 config: config)
        }
    }

    /// [N, 1, T] → [N, emb_width, T / hop].
    func callAsFunction(_ x: Tensor) -> Tensor {
        levelBlocks.reduce(x) { h, block in block(h) }
    }
}

/// The decoder of one VQ-VAE level L: level blocks L...0 (each emb_width → emb_width), then a K=3
/// conv to 1 channel. Decoding a level uses only that level's latents (all_levels=False).
/// Keys: `level_blocks.{l}`, `out`.
package struct Decoder: @unchecked Sendable {
    package let levelBlocks: [DecoderConvBock]
    package let out: Conv1DLayer

    init<P: ParameterSource>(_ p: P, level: Int, hps: VQVAEHyperparameters) throws {
        let config = hps.blockConfig(level: level, decoder: true)
        levelBlocks = try (0...level).map { l in
            try DecoderConvBock(p.scope("level_blocks.\(l)"), inputWidth: hps.embWidth, outputWidth: hps.embWidth,
                                downT: hps.downsT[l], strideT: hps.stridesT[l], config: config)
        }
        out = try Conv1DLayer(p.scope("out"), cin: hps.embWidth, cout: 1, k: 3, padding: 1)
    }

    /// [N, emb_width, T'] → [N, 1, T' · hop].
    func callAsFunction(_ x: Tensor) -> Tensor {
        out(levelBlocks.reversed().reduce(x) { h, block in block(h) })
    }
}
