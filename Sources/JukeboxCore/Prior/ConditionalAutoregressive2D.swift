import Foundation

/// Weights of the reference ConditionalAutoregressive2D (autoregressive.py): token embedding, learned
/// position embedding, start token (when the labels do not provide one), the transformer and x_out.
public struct ConditionalAutoregressive2D: Sendable {
    public let config: AutoregressiveConfig
    public let transformer: TransformerWeights
    public let xEmb: Tensor          // [bins, width]
    public let posEmb: Tensor        // [nCtx, width]   pos_emb.pos_emb
    public let startToken: Tensor?   // [1, width]      when the start token is not the label embedding
    public let xOut: Tensor?         // [bins, width]   nn.Linear without bias; the same values as x_emb unless merged_decoder

    static func parameters(prefix: String, config c: AutoregressiveConfig) throws -> ParameterList {
        guard !c.posInit else {
            throw JukeboxError("pos_init", "is true; only the published learned position table (pos_init false) is supported")
        }
        var p = ParameterList(prefix: prefix)
        let w = c.width, s = c.initScale
        if !c.yCond { p.add("start_token", [1, w], .normal(std: 0.01 * s)) }
        p.add("x_emb.weight", [c.bins, w], .normal(std: 0.02 * s))
        p.add("pos_emb.pos_emb", [c.nCtx, w], .normal(std: 0.01 * s))
        for layer in TransformerWeights.parameters(prefix: p.key("transformer"), config: c.transformer, initScale: s) {
            p.append(layer)
        }
        if !c.onlyEncode {
            p.add("x_out.weight", [c.bins, w], c.shareXEmbXOut ? .sameAs(p.key("x_emb.weight")) : .normal(std: 0.02 * s))
        }
        return p
    }

    init(prefix: String, config c: AutoregressiveConfig, source: TensorLookup) throws {
        config = c
        let read = ParameterReader(try ConditionalAutoregressive2D.parameters(prefix: prefix, config: c), source)
        startToken = c.yCond ? nil : try read("start_token")
        xEmb = try read("x_emb.weight")
        posEmb = try read("pos_emb.pos_emb")
        transformer = try TransformerWeights(prefix: read.prefix + ".transformer", config: c.transformer,
                                             initScale: c.initScale, source: source)
        xOut = c.onlyEncode ? nil : try read("x_out.weight")
    }

    public var width: Int { config.width }
    public var bins: Int { config.bins }
    public var nCtx: Int { config.nCtx }

    /// A fresh run state for `batch` items.
    /// - yCond: [batch, 1, width] label embedding used as the start token (when the model uses one).
    /// - xCond: [batch, nCtx, width] or [batch, 1, width] conditioning added to every input (when used).
    /// - encoderKV: [batch, encoderDims, width] lyrics encoder output (when the model has decode layers).
    public func makeState(batch: Int, yCond: Tensor?, xCond: Tensor?, encoderKV: Tensor? = nil) throws -> AutoregressiveState {
        guard batch > 0 else { throw JukeboxError("batch", "must be at least 1, got \(batch)") }
        let w = width
        let start = Tensor(zeros: [batch, w])
        if config.yCond {
            guard let yCond else { throw JukeboxError("y_cond", "is required by this prior (labels)") }
            guard yCond.count == batch * w, yCond.shape.last == w else {
                throw JukeboxError("y_cond", "has shape \(yCond.shape), expected \([batch, 1, w])")
            }
            start.data.update(from: yCond.data, count: batch * w)
        } else if let startToken {
            for n in 0..<batch { (start.data + n * w).update(from: startToken.data, count: w) }
        }
        if config.xCond {
            guard let xCond else { throw JukeboxError("x_cond", "is required by this prior") }
            guard xCond.rank == 3, xCond.shape[0] == batch, xCond.shape[2] == w,
                  xCond.shape[1] == nCtx || xCond.shape[1] == 1 else {
                throw JukeboxError("x_cond", "has shape \(xCond.shape), expected \([batch, nCtx, w]) or \([batch, 1, w])")
            }
        }
        // The state owns its conditioning (items can be copied within it without touching the caller's tensor).
        let state = AutoregressiveState(batch: batch, start: start, xCond: config.xCond ? xCond?.copy() : nil,
                                        transformer: TransformerState(config: config.transformer, batch: batch,
                                                                                   halfCache: transformer.prefersHalfCache))
        if config.transformer.kinds.contains(.decode) {
            guard let encoderKV else { throw JukeboxError("encoder_kv", "is required (this prior attends to lyrics)") }
            try transformer.prepareDecode(state.transformer, encoderKV: encoderKV)
        }
        return state
    }

    /// What a forward call returns.
    public enum Output: Sendable {
        /// [batch, T, bins]
        case logits
        /// [batch, 1, bins] for the last position only (sampling).
        case lastLogits
        /// [batch, T, width] transformer output (after the conditioning is added back, as the reference's acts).
        case activations
        /// Only fills the caches (priming).
        case none
    }

    /// Runs positions state.length ..< state.length + T for every item and advances the state.
    /// previous[n·T + i] is the token before position state.length + i (its input, the reference's shifted
    /// sequence); at position 0 the start token is used and the value is ignored.
    @discardableResult
    public func forward(_ state: AutoregressiveState, previous: [Int], count T: Int, output: Output = .logits) throws -> Tensor? {
        let batch = state.batch, w = width, t0 = state.length
        guard T > 0 else { throw JukeboxError("tokens", "a forward call needs at least one position") }
        guard previous.count == batch * T else {
            throw JukeboxError("tokens", "got \(previous.count) tokens for \(batch) items × \(T) positions")
        }
        guard t0 + T <= nCtx else {
            throw JukeboxError("tokens", "positions \(t0)..<\(t0 + T) run past the context of \(nCtx)")
        }
        let rows = batch * T
        let x = state.transformer.scratch.buffer(10, rows * w)
        for n in 0..<batch {
            for i in 0..<T {
                let p = t0 + i, row = x + (n * T + i) * w
                if p == 0 {
                    row.update(from: state.start.data + n * w, count: w)
                } else {
                    let tok = previous[n * T + i]
                    guard tok >= 0 && tok < bins else {
                        throw JukeboxError("tokens", "token \(tok) at position \(p - 1) of item \(n) is outside 0..<\(bins)")
                    }
                    row.update(from: xEmb.data + tok * w, count: w)
                }
                Ops.addInPlace(row, posEmb.data + p * w, w)
                if let cond = state.condRow(n, p) { Ops.addInPlace(row, cond, w) }
            }
        }
        transformer.forward(x, state: state.transformer, t0: t0, count: T)
        state.length += T
        if config.addCondAfterTransformer {
            for n in 0..<batch {
                for i in 0..<T {
                    if let cond = state.condRow(n, t0 + i) { Ops.addInPlace(x + (n * T + i) * w, cond, w) }
                }
            }
        }
        switch output {
        case .none:
            return nil
        case .activations:
            let out = Tensor(zeros: [batch, T, w])
            out.data.update(from: x, count: rows * w)
            return out
        case .logits:
            guard let xOut else { throw JukeboxError("x_out", "this model only encodes (no output layer)") }
            let out = Tensor(zeros: [batch, T, bins])
            PriorKernels.linearTransposed(x, rows: rows, xOut, out.data, onPool: transformer.productsOnPool(rows: rows))
            return out
        case .lastLogits:
            guard let xOut else { throw JukeboxError("x_out", "this model only encodes (no output layer)") }
            let out = Tensor(zeros: [batch, 1, bins])
            if T == 1 {
                PriorKernels.linearTransposed(x, rows: batch, xOut, out.data, onPool: transformer.productsOnPool(rows: batch))
            } else {
                let last = state.transformer.scratch.buffer(11, batch * w)
                for n in 0..<batch { (last + n * w).update(from: x + (n * T + T - 1) * w, count: w) }
                PriorKernels.linearTransposed(last, rows: batch, xOut, out.data)
            }
            return out
        }
    }
}

/// Run state of a ConditionalAutoregressive2D for a batch: position, conditioning and the transformer's caches.
public final class AutoregressiveState: @unchecked Sendable {
    public let batch: Int
    /// Positions processed so far (the reference's sample_t).
    public internal(set) var length: Int = 0
    let start: Tensor        // [batch, width]
    let xCond: Tensor?       // [batch, nCtx or 1, width]
    let transformer: TransformerState

    init(batch: Int, start: Tensor, xCond: Tensor?, transformer: TransformerState) {
        self.batch = batch
        self.start = start
        self.xCond = xCond
        self.transformer = transformer
    }

    /// Memory held by the key/value caches.
    public var cacheBytes: Int { transformer.cacheBytes }

    /// Advances the state over `positions` positions whose keys and values are random (benchmarks: a step's
    /// cost at a position depends on what the caches hold, not on its values).
    func fillWithRandom(positions: Int, seed: UInt64) {
        let c = transformer.config
        var rng = SeededGenerator(seed: seed)
        let key = UnsafeMutablePointer<Float>.allocate(capacity: c.nState), value = UnsafeMutablePointer<Float>.allocate(capacity: c.nState)
        defer { key.deallocate(); value.deallocate() }
        for cache in transformer.caches where cache.kind != .decode {
            for n in 0..<batch {
                for p in length..<(length + positions) {
                    guard let s = cache.slot(p) else { continue }
                    rng.fill(key, c.nState, std: 1)
                    rng.fill(value, c.nState, std: 1)
                    cache.store(n, s, key: key, value: value)
                }
            }
        }
        length += positions
    }

    /// Makes item `to` continue exactly as item `from` (caches and conditioning), e.g. to carry one chosen
    /// candidate into every slot of the batch.
    public func copyItem(_ from: Int, to: Int) throws {
        guard from >= 0, from < batch, to >= 0, to < batch else {
            throw JukeboxError("batch", "items \(from) and \(to) must be in 0..<\(batch)")
        }
        guard from != to else { return }
        let w = start.shape[1]
        (start.data + to * w).update(from: start.data + from * w, count: w)
        if let xCond {
            let n = xCond.shape[1] * xCond.shape[2]
            (xCond.data + to * n).update(from: xCond.data + from * n, count: n)
        }
        for cache in transformer.caches { cache.copyItem(from, to: to) }
    }

    @inline(__always)
    func condRow(_ n: Int, _ p: Int) -> UnsafePointer<Float>? {
        guard let xCond else { return nil }
        let len = xCond.shape[1], w = xCond.shape[2]
        return UnsafePointer(xCond.data + (n * len + (len == 1 ? 0 : p)) * w)
    }
}
