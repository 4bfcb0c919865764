import Foundation
import JukeboxCore

/// Making a trained prior deeper before training it on: more layers at the top of its transformer.
///
/// Each new layer starts as a copy of the nearest earlier layer with the same attention layout, so its
/// attention already looks where that kind of layer learned to look, but with both output projections
/// (attention and MLP) zeroed: it adds nothing to the residual stream, and the deeper prior computes
/// exactly what the trained one did. Training then grows the new layers from there, instead of
/// relearning everything the shallower prior knew.
public enum PriorDepth {
    /// The hyperparameters and weights of the same prior with `depth` transformer layers.
    public static func grow(hps: Hyperparameters, tensors: [String: Tensor], to depth: Int) throws
        -> (hps: Hyperparameters, tensors: [String: Tensor]) {
        let config = try PriorConfig(hps: hps)
        let transformer = config.prior.transformer
        let old = transformer.depth
        guard depth > old else { throw JukeboxError("--depth", "must be more than the prior's \(old) layers, got \(depth)") }
        // Where a layer's place decides what it attends to (lyrics, the encoder), or the residual is scaled
        // by the depth, added layers would change what the trained ones compute.
        guard !config.hasLyrics, config.primePrior == nil else {
            throw JukeboxError("--depth", "grows priors without lyrics only (the lyric layers' places depend on the depth)")
        }
        guard !transformer.resScale else { throw JukeboxError("--depth", "cannot grow a prior with res_scale (its residuals are scaled by the depth)") }
        var values = hps.values
        values["prior_depth"] = depth
        let deeper = Hyperparameters(values, source: hps.source)
        let kinds = try PriorConfig(hps: deeper).prior.transformer.kinds
        var out = tensors
        for d in old..<depth {
            guard let source = (0..<old).last(where: { kinds[$0] == kinds[d] }) else {
                throw JukeboxError("--depth", "layer \(d) would be a \(kinds[d]) layer, a kind the prior has none of to start it from")
            }
            let from = layerPrefix(source), to = layerPrefix(d)
            for (key, tensor) in tensors where key.hasPrefix(from) {
                let name = String(key.dropFirst(from.count))
                out[to + name] = name.hasPrefix("attn.c_proj.") || name.hasPrefix("mlp.c_proj.") ? Tensor(zeros: tensor.shape) : tensor.copy()
            }
        }
        return (deeper, out)
    }

    static func layerPrefix(_ d: Int) -> String { "prior.transformer._attn_mods.\(d)." }
}
