import Foundation
import JukeboxCore

/// What the lyrics encoder's training forward keeps for its backward.
final class LyricsEncoderTape {
    let encoder: AutoregressiveTape
    let projected: Tensor      // [batch·n_tokens, width] prime_state_proj output
    let ln: LayerNormTape
    let encoderKV: Tensor      // [batch, n_tokens, width]
    let lyricLogits: Tensor    // [batch·n_tokens, n_vocab] prime_x_out(encoder_kv)

    init(encoder: AutoregressiveTape, projected: Tensor, ln: LayerNormTape, encoderKV: Tensor, lyricLogits: Tensor) {
        self.encoder = encoder; self.projected = projected; self.ln = ln; self.encoderKV = encoderKV
        self.lyricLogits = lyricLogits
    }
}

extension LyricsEncoder {
    /// encode(tokens:batch:) keeping its tape, plus the lyric logits of the prime loss.
    func trainingForward(tokens: [Int], batch: Int) throws -> LyricsEncoderTape {
        let n = nTokens
        guard tokens.count == batch * n else {
            throw JukeboxError("lyrics", "expected \(batch) rows of \(n) lyric tokens, got \(tokens.count)")
        }
        let (_, tape) = try primePrior.trainingForward(tokens: tokens, batch: batch, start: nil, xCond: nil, encoderKV: nil)
        let rows = batch * n, w = proj.nOut
        let projected = Tensor(zeros: [rows, w])
        proj.apply(tape.acts.data, rows: rows, projected.data)
        let encoderKV = Tensor(zeros: [batch, n, w])
        let ln = LayerNormTape.forward(projected.data, rows: rows, width: w, gamma: lnW, beta: lnB, encoderKV.data)
        let logits = Tensor(zeros: [rows, vocabulary])
        PriorKernels.linearTransposed(encoderKV.data, rows: rows, xOut, logits.data)
        return LyricsEncoderTape(encoder: tape, projected: projected, ln: ln, encoderKV: encoderKV, lyricLogits: logits)
    }

    /// dEncoderKV: what the decoder's encoder-decoder layers sent back; dLyricLogits: the prime loss's.
    func trainingBackward(_ t: LyricsEncoderTape, dEncoderKV: Tensor, dLyricLogits: Tensor, grads: Gradients) {
        let rows = t.projected.shape[0], w = proj.nOut
        Backward.linearTransposed(t.encoderKV.data, dLyricLogits.data, rows: rows, xOut, grads: grads,
                                  dx: dEncoderKV.data, accumulate: true)
        let dProjected = Tensor(zeros: [rows, w])
        t.ln.backward(dEncoderKV.data, gamma: lnW, beta: lnB, grads: grads, dx: dProjected.data)
        let dActs = Tensor(zeros: t.encoder.acts.shape)
        Backward.linear(t.encoder.acts.data, dProjected.data, rows: rows, proj, grads: grads, dx: dActs.data)
        _ = primePrior.trainingBackward(t.encoder, dLogits: nil, dActs: dActs, grads: grads, encoderKV: nil, dEncoderKV: nil)
    }
}
