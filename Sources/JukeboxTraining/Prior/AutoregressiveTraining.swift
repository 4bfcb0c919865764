import Foundation
import JukeboxCore

/// What ConditionalAutoregressive2D's training forward keeps for its backward.
final class AutoregressiveTape {
    let batch: Int, length: Int
    let tokens: [Int]              // the sequence itself (batch rows of length); position i reads token i − 1
    let xCondLength: Int           // rows of x_cond per item (length, or 1 when broadcast; 0 without)
    let blocks: [ResAttnBlockTape]
    let acts: Tensor               // [batch·length, width] after the transformer (and x_cond added back)

    init(batch: Int, length: Int, tokens: [Int], xCondLength: Int, blocks: [ResAttnBlockTape], acts: Tensor) {
        self.batch = batch; self.length = length; self.tokens = tokens; self.xCondLength = xCondLength
        self.blocks = blocks; self.acts = acts
    }
}

extension ConditionalAutoregressive2D {
    /// Teacher-forced forward of a whole sequence (batch rows of `length` ≤ n_ctx tokens): start token (the
    /// label embedding `start` [batch, width] when y_cond, else start_token), then x_emb of each previous
    /// token, plus pos_emb and x_cond [batch, length or 1, width]; the transformer; x_cond again unless
    /// merged_decoder. Returns the activations and, unless only_encode, the logits [batch·length, bins].
    func trainingForward(tokens: [Int], batch: Int, start: Tensor?, xCond: Tensor?, encoderKV: Tensor?)
        throws -> (logits: Tensor?, tape: AutoregressiveTape) {
        let w = width, L = tokens.count / batch, rows = batch * L
        guard L > 0, L * batch == tokens.count, L <= nCtx else {
            throw JukeboxError("tokens", "expected \(batch) rows of 1 to \(nCtx) tokens, got \(tokens.count) values")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= bins }) {
            throw JukeboxError("tokens", "token \(bad) is outside 0..<\(bins)")
        }
        let condLength = config.xCond ? (xCond?.shape[1] ?? 0) : 0
        if config.xCond {
            guard let xCond, xCond.rank == 3, xCond.shape[0] == batch, xCond.shape[2] == w,
                  condLength == L || condLength == 1 else {
                throw JukeboxError("x_cond", "expected shape \([batch, L, w]) or \([batch, 1, w])")
            }
        }
        if config.yCond { guard let start, start.count == batch * w else { throw JukeboxError("y_cond", "is required by this prior (labels)") } }
        let x = Tensor(zeros: [rows, w])
        for n in 0..<batch {
            for i in 0..<L {
                let row = x.data + (n * L + i) * w
                if i == 0 {
                    row.update(from: config.yCond ? start!.data + n * w : startToken!.data, count: w)
                } else {
                    row.update(from: xEmb.data + tokens[n * L + i - 1] * w, count: w)
                }
                Ops.addInPlace(row, posEmb.data + i * w, w)
                if let xCond, condLength > 0 { Ops.addInPlace(row, xCond.data + (n * condLength + (condLength == 1 ? 0 : i)) * w, w) }
            }
        }
        let (acts, blockTapes) = transformer.trainingForward(x, batch: batch, length: L, encoderKV: encoderKV)
        if config.addCondAfterTransformer, let xCond, condLength > 0 {
            for n in 0..<batch {
                for i in 0..<L {
                    Ops.addInPlace(acts.data + (n * L + i) * w, xCond.data + (n * condLength + (condLength == 1 ? 0 : i)) * w, w)
                }
            }
        }
        let tape = AutoregressiveTape(batch: batch, length: L, tokens: tokens, xCondLength: condLength,
                                      blocks: blockTapes, acts: acts)
        guard let xOut else { return (nil, tape) }
        let logits = Tensor(zeros: [rows, bins])
        PriorKernels.linearTransposed(acts.data, rows: rows, xOut, logits.data)
        return (logits, tape)
    }

    /// Gradients of the parameters from dLogits [batch·length, bins] (or, for an encoder, dActs
    /// [batch·length, width]). Returns the gradients of the start embedding [batch, width] (y_cond) and of
    /// x_cond (its shape); adds encoder_kv's gradient into dEncoderKV.
    func trainingBackward(_ tape: AutoregressiveTape, dLogits: Tensor?, dActs given: Tensor?, grads: Gradients,
                          encoderKV: Tensor?, dEncoderKV: Tensor?, guide: AttentionGuide? = nil) -> (dStart: Tensor, dXCond: Tensor?) {
        let w = width, batch = tape.batch, L = tape.length, rows = batch * L
        let dActs = given ?? Tensor(zeros: [rows, w])
        if let dLogits, let xOut {
            Backward.linearTransposed(tape.acts.data, dLogits.data, rows: rows, xOut, grads: grads, dx: dActs.data,
                                      accumulate: given != nil)
        }
        var dXCond: Tensor? = nil
        let cl = tape.xCondLength
        if cl > 0 {
            let d = Tensor(zeros: [batch, cl, w])
            if config.addCondAfterTransformer {
                for n in 0..<batch { for i in 0..<L { Ops.addInPlace(d.data + (n * cl + (cl == 1 ? 0 : i)) * w, dActs.data + (n * L + i) * w, w) } }
            }
            dXCond = d
        }
        let dx = transformer.trainingBackward(dActs, tapes: tape.blocks, batch: batch, length: L, grads: grads,
                                              encoderKV: encoderKV, dEncoderKV: dEncoderKV, guide: guide)
        let dPos = grads.of(posEmb), dEmb = grads.of(xEmb)
        let dStart = Tensor(zeros: [batch, w])
        for n in 0..<batch {
            for i in 0..<L {
                let r = dx.data + (n * L + i) * w
                Ops.addInPlace(dPos + i * w, r, w)
                if let d = dXCond { Ops.addInPlace(d.data + (n * cl + (cl == 1 ? 0 : i)) * w, r, w) }
                if i == 0 {
                    Ops.addInPlace(dStart.data + n * w, r, w)
                } else {
                    Ops.addInPlace(dEmb + tape.tokens[n * L + i - 1] * w, r, w)
                }
            }
        }
        if !config.yCond, let startToken {
            let g = grads.of(startToken)
            for n in 0..<batch { Ops.addInPlace(g, dStart.data + n * w, w) }
        }
        return (dStart, dXCond)
    }
}
