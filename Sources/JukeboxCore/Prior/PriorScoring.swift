import Foundation

/// The reference's training loss (prior.py z_forward), in bits per token.
public struct PriorLoss: Sendable, Equatable {
    /// Mean bits per code (gen_loss, the reference's bpd).
    public let gen: Double
    /// Mean bits per lyric token (prime_loss; 0 without lyrics).
    public let prime: Double
    /// prime_loss_fraction · prime · prime_dims/total_dims + gen · gen_dims/total_dims.
    public let total: Double
    /// Training with alignment guidance: the guided head's mean bits on the character being sung (else nil).
    public let alignment: Double?

    package init(gen: Double, prime: Double, total: Double, alignment: Double? = nil) {
        (self.gen, self.prime, self.total, self.alignment) = (gen, prime, total, alignment)
    }
}

extension Prior {
    /// −log2 p(code | everything before) for each code of each item, over the full output vocabulary
    /// (for the single encoder-decoder only the code positions, with the lyrics as context).
    public func bitsPerToken(z: [Int], batch: Int, y: [Int]?, xCond: Tensor? = nil) throws -> [[Double]] {
        let cond = try conditioning(y: y, batch: batch, xCond: xCond)
        let logits = try self.logits(z: z, cond: cond)
        let L = z.count / batch, prefix = config.prefixLength, offset = config.codeOffset
        return (0..<batch).map { n in
            (0..<L).map { i in
                Prior.bits(logits, item: n, position: prefix + i, target: z[n * L + i] + offset)
            }
        }
    }

    /// The reference's train_loss for full windows of codes z (batch rows of n_ctx).
    public func trainLoss(z: [Int], batch: Int, y: [Int]?, xCond: Tensor? = nil) throws -> PriorLoss {
        let c = config
        let cond = try conditioning(y: y, batch: batch, xCond: xCond)
        guard z.count == batch * c.nCtx else {
            throw JukeboxError("codes", "the training loss needs full windows: \(batch) rows of \(c.nCtx) codes, got \(z.count)")
        }
        let logits = try self.logits(z: z, cond: cond)
        let prefix = c.prefixLength, offset = c.codeOffset
        var gen = 0.0
        for n in 0..<batch {
            for i in 0..<c.nCtx { gen += Prior.bits(logits, item: n, position: prefix + i, target: z[n * c.nCtx + i] + offset) }
        }
        gen /= Double(batch * c.nCtx)

        var prime = 0.0, primeDims = 0
        if let lyrics = cond.lyrics, c.hasLyrics {
            primeDims = c.nTokens
            let source: Tensor
            if c.singleEncDec {
                source = logits
            } else if let encoderKV = cond.encoderKV, let lyricsEncoder {
                source = lyricsEncoder.lyricLogits(encoderKV: encoderKV)
            } else {
                throw JukeboxError("lyrics", "no lyrics encoder output")
            }
            for n in 0..<batch {
                for i in 0..<c.nTokens { prime += Prior.bits(source, item: n, position: i, target: lyrics[n * c.nTokens + i]) }
            }
            prime /= Double(batch * c.nTokens)
        }
        let totalDims = Double(primeDims + c.nCtx)
        let total = c.primeLossFraction * prime * Double(primeDims) / totalDims + gen * Double(c.nCtx) / totalDims
        return PriorLoss(gen: gen, prime: prime, total: total)
    }

    /// −log2 softmax(logits[item, position])[target], in double precision.
    static func bits(_ logits: Tensor, item: Int, position: Int, target: Int) -> Double {
        let len = logits.shape[1], v = logits.shape[2]
        let row = logits.data + (item * len + position) * v
        var m = -Double.infinity
        for j in 0..<v { m = max(m, Double(row[j])) }
        var s = 0.0
        for j in 0..<v { s += exp(Double(row[j]) - m) }
        return (m + log(s) - Double(row[target])) / M_LN2
    }
}
