import Foundation

extension Prior {
    /// The attention weights one layer and head put on the lyric tokens, for each code of a window: the
    /// reference's get_attn_weights as align.py uses it (5b_lyrics: layer 68, head 2; 1b_lyrics: layer 63,
    /// head 0). Returns [batch, L, n_tokens]: softmax weights of code position i over lyric token j, as the
    /// reference records them (for the single encoder-decoder, over the lyric part of the prefix only, not
    /// renormalised). The layer must attend to the lyrics (a decode or prime layer).
    public func lyricAttention(layer: Int, head: Int, z: [Int], batch: Int, y: [Int]?, xCond: Tensor? = nil) throws -> Tensor {
        let heads = prior.transformer.config.heads
        guard head >= 0 && head < heads else {
            throw JukeboxError("alignment_head", "is \(head); the prior has heads 0..<\(heads)")
        }
        let all = try lyricAttention(layers: [layer], z: z, batch: batch, y: y, xCond: xCond)[0]
        let L = all.shape[2], nTokens = all.shape[3]
        let out = Tensor(zeros: [batch, L, nTokens])
        for b in 0..<batch {
            (out.data + b * L * nTokens).update(from: all.data + (b * heads + head) * L * nTokens, count: L * nTokens)
        }
        return out
    }

    /// The layers that see the lyrics (decode or prime attention): where an alignment can come from.
    public var lyricLayers: [Int] {
        prior.transformer.layers.indices.filter { [.decode, .prime].contains(prior.transformer.layers[$0].kind) }
    }

    /// Every head's attention on the lyric tokens at each of `layers`, from one forward pass:
    /// [batch, heads, L, n_tokens] per layer, in the order asked.
    public func lyricAttention(layers wanted: [Int], z: [Int], batch: Int, y: [Int]?, xCond: Tensor? = nil) throws -> [Tensor] {
        let c = config
        let layers = prior.transformer.layers
        for layer in wanted {
            guard layer >= 0 && layer < layers.count else {
                throw JukeboxError("alignment_layer", "is \(layer); the prior has layers 0..<\(layers.count)")
            }
            let kind = layers[layer].kind
            guard kind == .decode || kind == .prime else {
                throw JukeboxError("alignment_layer", "layer \(layer) is \(kind) attention; only decode or prime layers see the lyrics")
            }
        }
        let heads = prior.transformer.config.heads
        let cond = try conditioning(y: y, batch: batch, xCond: xCond)
        guard batch > 0, !z.isEmpty, z.count % batch == 0, z.count / batch <= c.nCtx else {
            throw JukeboxError("codes", "expected \(batch) rows of at most \(c.nCtx) codes, got \(z.count) values")
        }
        if let bad = z.first(where: { $0 < 0 || $0 >= c.lBins }) { throw JukeboxError("codes", "code \(bad) is outside 0..<\(c.lBins)") }
        let L = z.count / batch
        let seq = try sequence(z: z, L: L, cond: cond)
        let total = seq.count / batch
        let state = try prior.makeState(batch: batch, yCond: cond.yCond, xCond: sequenceXCond(cond), encoderKV: cond.encoderKV)
        let positions = prior.nCtx
        let buffers = wanted.map { layer -> Tensor in
            let cache = state.transformer.caches[layer]
            let buffer = Tensor(zeros: [batch, heads, positions, cache.slots])
            cache.record = buffer.data
            cache.recordPositions = positions
            return buffer
        }
        defer { for layer in wanted { state.transformer.caches[layer].record = nil } }
        var previous = [Int](repeating: 0, count: seq.count)
        for b in 0..<batch { for i in 1..<max(total, 1) { previous[b * total + i] = seq[b * total + i - 1] } }
        try prior.forward(state, previous: previous, count: total, output: .none)

        let nTokens = c.nTokens, prefix = c.prefixLength
        return zip(wanted, buffers).map { layer, buffer in
            let slots = state.transformer.caches[layer].slots
            let out = Tensor(zeros: [batch, heads, L, nTokens])
            for b in 0..<batch {
                for h in 0..<heads {
                    for i in 0..<L {
                        let src = buffer.data + ((b * heads + h) * positions + prefix + i) * slots
                        (out.data + ((b * heads + h) * L + i) * nTokens).update(from: src, count: min(nTokens, slots))
                    }
                }
            }
            return out
        }
    }
}
