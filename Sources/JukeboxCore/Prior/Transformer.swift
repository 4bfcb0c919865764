import Foundation

/// Run state of one Transformer for a batch: each layer's key/value cache (weights live elsewhere).
public final class TransformerState: @unchecked Sendable {
    public let config: TransformerConfig
    public let batch: Int
    let caches: [LayerCache]
    let scratch = Scratch()

    init(config: TransformerConfig, batch: Int, halfCache: Bool = false) {
        self.config = config
        self.batch = batch
        caches = config.kinds.map { LayerCache(kind: $0, config: config, batch: batch, half: halfCache) }
    }

    /// Memory the caches hold.
    public var cacheBytes: Int { caches.reduce(0) { $0 + $1.bytes } }

    /// Bytes of keys and values attention has read from the caches so far.
    public var cacheBytesRead: Int { caches.reduce(0) { $0 + $1.rowsRead * 2 * $1.nState * $1.elementSize } }
}

extension TransformerWeights {
    /// Whether run states keep their keys and values as binary16: with q8 or q4 matrices (already an
    /// approximation, and sampled where memory is short); float32 otherwise, so float32 and 16-bit
    /// checkpoints compute what the reference computes.
    var prefersHalfCache: Bool { layers.first.map { $0.cAttn.format.isQuantized } ?? false }

    /// Whether the matrices are packed (computed on the streaming kernels' pool rather than OpenBLAS).
    var isPacked: Bool { layers.first.map { $0.cAttn.format != .f32 } ?? false }

    /// Whether a pass over `rows` rows computes its products on the kernels' pool (packed weights, or a few
    /// float32 rows): the step's other work (attention, the output layer) then goes there too, never beside
    /// OpenBLAS's threads.
    func productsOnPool(rows: Int) -> Bool { isPacked || LinearWeight.denseRowsOnPool(rows) }

    /// Keys and values of the lyrics encoder's output for every decode layer, computed once per state
    /// (the reference caches them at sample_t 0). encoderKV: [batch, encoderDims, width].
    func prepareDecode(_ state: TransformerState, encoderKV: Tensor) throws {
        let c = config
        guard encoderKV.shape == [state.batch, c.encoderDims, c.width] else {
            throw JukeboxError("encoder_kv", "has shape \(encoderKV.shape), expected \([state.batch, c.encoderDims, c.width])")
        }
        let rows = state.batch * c.encoderDims, ns = c.nState
        let kv = state.scratch.buffer(1, rows * 2 * ns)
        for (layer, cache) in zip(layers, state.caches) where layer.kind == .decode {
            guard let encKv = layer.cEncKv else { continue }
            encKv.apply(encoderKV.data, rows: rows, kv)
            for r in 0..<rows { cache.store(r / c.encoderDims, r % c.encoderDims, key: kv + r * 2 * ns, value: kv + r * 2 * ns + ns) }
        }
    }

    /// Runs every ResAttnBlock over positions t0..<t0+T of each item: x [batch, T, width] in place.
    func forward(_ x: UnsafeMutablePointer<Float>, state: TransformerState, t0: Int, count T: Int) {
        let c = config, w = c.width, ns = c.nState, rows = state.batch * T
        let sc = state.scratch
        let h = sc.buffer(1, rows * w)
        let qkv = sc.buffer(2, rows * 3 * ns)
        let a = sc.buffer(3, rows * ns)
        let attnOut = sc.buffer(4, rows * w)
        let x2 = sc.buffer(5, rows * w)
        let f = sc.buffer(6, rows * c.mlpWidth)
        let m = sc.buffer(7, rows * w)
        let rs = c.residualScale, onPool = productsOnPool(rows: rows)
        for (d, (layer, cache)) in zip(layers, state.caches).enumerated() {
            Ops.layerNorm(x, rows: rows, width: w, gamma: layer.ln0W.data, beta: layer.ln0B.data, h)
            layer.cAttn.apply(h, rows: rows, qkv, next: layer.cProj)
            FactoredAttention.forward(cache: cache, config: c, qkv: qkv, qkvWidth: layer.cAttn.nOut, t0: t0,
                                      count: T, out: a, scratch: sc, onKernelPool: onPool)
            if rs == 1 {
                // x + attention, then + MLP: the additions (and the activation) done by the products
                // themselves, in the order the reference adds them.
                layer.cProj.apply(a, rows: rows, attnOut, then: .add(into: x), next: layer.fc)
                Ops.layerNorm(x, rows: rows, width: w, gamma: layer.ln1W.data, beta: layer.ln1B.data, h)
                layer.fc.apply(h, rows: rows, f, then: .quickGelu, next: layer.proj)
                layer.proj.apply(f, rows: rows, m, then: .add(into: x), next: d + 1 < layers.count ? layers[d + 1].cAttn : nil)
                continue
            }
            layer.cProj.apply(a, rows: rows, attnOut)
            for i in 0..<(rows * w) { x2[i] = x[i] + attnOut[i] }
            Ops.layerNorm(x2, rows: rows, width: w, gamma: layer.ln1W.data, beta: layer.ln1B.data, h)
            layer.fc.apply(h, rows: rows, f)
            Ops.quickGeluInPlace(f, rows * c.mlpWidth)
            layer.proj.apply(f, rows: rows, m)
            for i in 0..<(rows * w) { x[i] += rs * (attnOut[i] + m[i]) }
        }
    }
}
