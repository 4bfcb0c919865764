import Foundation

/// The 5b_lyrics style separate lyrics encoder: `prime_prior` (a ConditionalAutoregressive2D that only
/// encodes, over the n_tokens lyric characters), then `prime_state_proj` and `prime_state_ln` give the
/// encoder_kv the decoder's decode layers attend to; `prime_x_out` predicts the lyrics for the loss.
public struct LyricsEncoder: Sendable {
    public let primePrior: ConditionalAutoregressive2D
    public let proj: LinearWeight  // [prime_width, width]  prime_state_proj
    public let lnW: Tensor       // [width]               prime_state_ln
    public let lnB: Tensor       // [width]
    public let xOut: Tensor      // [n_vocab, width]      prime_x_out (no bias)

    static func parameters(config c: PriorConfig, prime: AutoregressiveConfig) throws -> ParameterList {
        var p = try ConditionalAutoregressive2D.parameters(prefix: "prime_prior", config: prime)
        p.append(outputParameters(config: c, prime: prime))
        return p
    }

    /// The tensors after the encoder's transformer (no common key prefix).
    static func outputParameters(config c: PriorConfig, prime: AutoregressiveConfig) -> ParameterList {
        var p = ParameterList()
        p.conv1D("prime_state_proj", prime.width, c.width, initScale: prime.initScale)
        p.layerNorm("prime_state_ln", c.width)
        p.add("prime_x_out.weight", [prime.bins, c.width], .normal(std: 0.02 * c.initScale))
        return p
    }

    init(config c: PriorConfig, prime: AutoregressiveConfig, source: TensorLookup) throws {
        primePrior = try ConditionalAutoregressive2D(prefix: "prime_prior", config: prime, source: source)
        let read = ParameterReader(LyricsEncoder.outputParameters(config: c, prime: prime), source)
        proj = LinearWeight(w: try read("prime_state_proj.w"), b: try read("prime_state_proj.b"))
        lnW = try read("prime_state_ln.weight"); lnB = try read("prime_state_ln.bias")
        xOut = try read("prime_x_out.weight")
    }

    public var nTokens: Int { primePrior.nCtx }
    public var vocabulary: Int { primePrior.bins }

    /// encoder_kv [batch, n_tokens, width] from lyric tokens (batch rows of n_tokens, each in 0..<n_vocab).
    public func encode(tokens: [Int], batch: Int) throws -> Tensor {
        let n = nTokens
        guard tokens.count == batch * n else {
            throw JukeboxError("lyrics", "expected \(batch) rows of \(n) lyric tokens, got \(tokens.count)")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw JukeboxError("lyrics", "lyric token \(bad) is outside 0..<\(vocabulary)")
        }
        let state = try primePrior.makeState(batch: batch, yCond: nil, xCond: nil)
        // The encoder is autoregressive over the lyrics: position i reads token i−1.
        var previous = [Int](repeating: 0, count: batch * n)
        for b in 0..<batch { for i in 1..<max(n, 1) { previous[b * n + i] = tokens[b * n + i - 1] } }
        guard let acts = try primePrior.forward(state, previous: previous, count: n, output: .activations) else {
            throw JukeboxError("lyrics", "encoder produced no activations")
        }
        let rows = batch * n, w = proj.nOut
        let projected = Tensor(zeros: [batch, n, w])
        proj.apply(acts.data, rows: rows, projected.data)
        let out = Tensor(zeros: [batch, n, w])
        Ops.layerNorm(projected.data, rows: rows, width: w, gamma: lnW.data, beta: lnB.data, out.data)
        return out
    }

    /// prime_x_out(encoder_kv): [batch, n_tokens, n_vocab] logits of the lyric tokens (the prime loss).
    public func lyricLogits(encoderKV: Tensor) -> Tensor {
        let rows = encoderKV.count / encoderKV.shape.last!
        let out = Tensor(zeros: Array(encoderKV.shape.dropLast()) + [vocabulary])
        PriorKernels.linearTransposed(encoderKV.data, rows: rows, xOut, out.data)
        return out
    }
}
