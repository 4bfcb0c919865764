import Foundation
import JukeboxCore

/// Changing a trained prior's window (n_ctx) before fine-tuning it on longer or shorter windows.
///
/// Only two things in a prior depend on n_ctx: the learned position table and, for the factored attention
/// layouts, the number of blocks. Every other weight acts per position or per block, so it carries over.
/// The block length is kept, so each attention layer still sees what it learned to see; the new positions
/// start as repeats of the learned ones (position p of the codes takes the row of p modulo the old window),
/// which is where a prior that has only ever seen the old window is least surprised.
public enum PriorWindow {
    /// The hyperparameters and weights of the same prior over windows of `nCtx` codes.
    public static func resize(hps: Hyperparameters, tensors: [String: Tensor], to nCtx: Int) throws
        -> (hps: Hyperparameters, tensors: [String: Tensor]) {
        let config = try PriorConfig(hps: hps)
        let oldCtx = config.nCtx
        guard nCtx > 0 else { throw JukeboxError("--n-ctx", "must be positive, got \(nCtx)") }
        // In the single encoder-decoder the lyric tokens come first in the same sequence and table.
        let prefix = config.singleEncDec ? config.nTokens : 0
        var values = hps.values
        values["n_ctx"] = nCtx
        if let blocks = try hps.optionalInt("blocks") {
            let blockLength = (prefix + oldCtx) / blocks
            guard (prefix + nCtx) % blockLength == 0 else {
                throw JukeboxError("--n-ctx", "\(nCtx) plus the \(prefix) lyric positions is not a whole number of "
                                   + "the prior's \(blockLength)-position attention blocks")
            }
            values["blocks"] = (prefix + nCtx) / blockLength
        }
        let resized = Hyperparameters(values, source: hps.source)
        _ = try PriorConfig(hps: resized)  // the new window must suit the rest of the architecture too

        let key = "prior.pos_emb.pos_emb"
        guard let table = tensors[key] else { throw JukeboxError("weights", "missing tensor \(key)") }
        let width = config.width
        guard table.shape == [prefix + oldCtx, width] else {
            throw JukeboxError("weights", "tensor \(key) has shape \(table.shape) but the model expects \([prefix + oldCtx, width])")
        }
        let old = table.toArray()
        var rows = [Float](repeating: 0, count: (prefix + nCtx) * width)
        for p in 0..<(prefix + nCtx) {
            let from = p < prefix ? p : prefix + (p - prefix) % oldCtx
            for c in 0..<width { rows[p * width + c] = old[from * width + c] }
        }
        var out = tensors
        out[key] = Tensor(shape: [prefix + nCtx, width], values: rows)
        return (resized, out)
    }
}
