import Foundation
import JukeboxCore

extension Prior {
    /// The reference's train_loss for full windows z (batch rows of n_ctx codes) with label vectors y and,
    /// for upsamplers, x_cond [batch, n_ctx, width] from the conditioner over the level above; adds the
    /// gradient of train_loss with respect to every parameter into `grads`. Returns the loss and the
    /// gradient of x_cond (upsamplers: to go on into the conditioner; nil at the top level). With `guidance` and
    /// `alignTargets` (per code of each row, the key of the character sung then, −1 for none), the guided head's
    /// cross-entropy toward those keys is added.
    func trainingStep(z: [Int], batch: Int, y: [Int]?, xCond: Tensor? = nil, grads: Gradients,
                      guidance: AlignmentGuidance? = nil, alignTargets: [Int]? = nil) throws
        -> (loss: PriorLoss, dXCond: Tensor?) {
        let c = config, w = c.width
        guard batch > 0, z.count == batch * c.nCtx else {
            throw JukeboxError("codes", "training needs full windows: \(batch) rows of \(c.nCtx) codes, got \(z.count)")
        }
        if let bad = z.first(where: { $0 < 0 || $0 >= c.lBins }) {
            throw JukeboxError("codes", "code \(bad) is outside 0..<\(c.lBins)")
        }
        // Conditioning, as conditioning(y:batch:xCond:) but keeping the lyrics encoder's tape.
        var yCond: Tensor? = nil, timing: Tensor? = nil, lyrics: [Int]? = nil
        if let labelConditioner {
            guard let y, y.count == batch * c.labelLength else {
                throw JukeboxError("labels", "expected \(batch) rows of \(c.labelLength) label entries")
            }
            (yCond, timing) = try labelConditioner(y, batch: batch, stride: c.labelLength)
            if c.hasLyrics {
                let first = c.lyricStart
                lyrics = (0..<batch).flatMap { n in y[(n * c.labelLength + first)..<((n + 1) * c.labelLength)] }
            }
        }
        var encoder: LyricsEncoderTape? = nil
        if let lyricsEncoder, let lyrics { encoder = try lyricsEncoder.trainingForward(tokens: lyrics, batch: batch) }
        let given = xCond ?? timing
        if c.conditionsOnLevelAbove && given == nil {
            throw JukeboxError("x_cond", "an upsampler needs x_cond from the conditioner over the level above")
        }
        let cond = Conditioning(batch: batch, yCond: yCond, xCond: c.prior.xCond ? given : nil, lyrics: lyrics,
                                encoderKV: encoder?.encoderKV)
        let seq = try sequence(z: z, L: c.nCtx, cond: cond)
        let total = seq.count / batch, prefix = c.prefixLength
        let (logitsOut, tape) = try prior.trainingForward(tokens: seq, batch: batch, start: yCond?.reshaped([batch, w]),
                                                          xCond: sequenceXCond(cond), encoderKV: encoder?.encoderKV)
        guard let logits = logitsOut else { throw JukeboxError("x_out", "the prior has no output layer") }

        // Loss: gen over the code positions, prime over the lyric positions (single encoder-decoder) or the
        // lyrics encoder's predictions; weighted by prime_loss_fraction and the dimensions, as the reference.
        let primeDims = c.hasLyrics ? c.nTokens : 0
        let totalDims = Double(primeDims + c.nCtx)
        let genWeight = Double(c.nCtx) / totalDims / Double(batch * c.nCtx)
        let primeWeight = primeDims == 0 ? 0 : c.primeLossFraction * Double(primeDims) / totalDims / Double(batch * primeDims)
        let v = prior.bins
        let dLogits = Tensor(zeros: logits.shape)
        var gen = 0.0, prime = 0.0
        for n in 0..<batch {
            for i in 0..<total {
                let r = n * total + i
                let isPrime = i < prefix
                let bits = CrossEntropy.bits(logits.data + r * v, count: v, target: seq[r],
                                             weight: isPrime ? primeWeight : genWeight, dRow: dLogits.data + r * v)
                if isPrime { prime += bits } else { gen += bits }
            }
        }
        var dPrimeLogits: Tensor? = nil
        if let encoder, let lyrics, let lyricsEncoder {
            let pv = lyricsEncoder.vocabulary
            let d = Tensor(zeros: encoder.lyricLogits.shape)
            for r in 0..<(batch * c.nTokens) {
                prime += CrossEntropy.bits(encoder.lyricLogits.data + r * pv, count: pv, target: lyrics[r],
                                           weight: primeWeight, dRow: d.data + r * pv)
            }
            dPrimeLogits = d
        }
        gen /= Double(batch * c.nCtx)
        if primeDims > 0 { prime /= Double(batch * primeDims) }
        // The guide's targets, moved from code positions to rows of the whole sequence (after the lyric prefix).
        var guide: AttentionGuide? = nil
        if let guidance, let alignTargets {
            guard alignTargets.count == batch * c.nCtx else {
                throw JukeboxError("alignment targets", "expected \(batch * c.nCtx), got \(alignTargets.count)")
            }
            var rows = [Int](repeating: -1, count: batch * total)
            for n in 0..<batch { for i in 0..<c.nCtx { rows[n * total + prefix + i] = alignTargets[n * c.nCtx + i] } }
            guide = AttentionGuide(guidance, targets: rows)
        }
        let dEncoderKV = encoder.map { Tensor(zeros: $0.encoderKV.shape) }
        let (dStart, dSeqXCond) = prior.trainingBackward(tape, dLogits: dLogits, dActs: nil, grads: grads,
                                                         encoderKV: encoder?.encoderKV, dEncoderKV: dEncoderKV, guide: guide)
        let loss = PriorLoss(gen: gen, prime: prime,
                             total: c.primeLossFraction * prime * Double(primeDims) / totalDims + gen * Double(c.nCtx) / totalDims,
                             alignment: guide.map(\.meanBits))
        if let encoder, let lyricsEncoder, let dEncoderKV, let dPrimeLogits {
            lyricsEncoder.trainingBackward(encoder, dEncoderKV: dEncoderKV, dLyricLogits: dPrimeLogits, grads: grads)
        }
        // x_cond's gradient without the lyric prefix (whose x_cond is the zeros prior_preprocess puts there).
        var dXCond: Tensor? = nil
        if let d = dSeqXCond, let given {
            let len = given.shape[1]
            let out = Tensor(zeros: given.shape)
            if prefix == 0 {
                out.data.update(from: d.data, count: out.count)
            } else {
                for n in 0..<batch {
                    for t in 0..<c.nCtx {
                        Ops.addInPlace(out.data + (n * len + (len == 1 ? 0 : t)) * w, d.data + (n * total + prefix + t) * w, w)
                    }
                }
            }
            dXCond = out
        }
        if let labelConditioner, let y {
            try labelConditioner.backward(y, batch: batch, stride: c.labelLength, dYCond: dStart.data,
                                          dTiming: xCond == nil ? dXCond : nil, grads: grads)
        }
        return (loss, xCond == nil ? nil : dXCond)
    }
}
