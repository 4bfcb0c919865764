/// Weights of one ResAttnBlock (transformer.py): factored attention and a quick-GELU MLP, each after a LayerNorm.
public struct ResAttnBlockWeights: Sendable {
    public let kind: AttentionKind
    public let cAttn: LinearWeight     // [width, 3·nState], or [width, nState] (queries only) for decode layers
    public let cEncKv: LinearWeight?   // [width, 2·nState] decode layers: keys and values of the lyrics encoder output
    public let cProj: LinearWeight     // [nState, width]
    public let ln0W: Tensor, ln0B: Tensor      // [width]
    public let fc: LinearWeight        // mlp.c_fc [width, mlpWidth]
    public let proj: LinearWeight      // mlp.c_proj [mlpWidth, width]
    public let ln1W: Tensor, ln1B: Tensor      // [width]

    /// The block's Conv1D layers: the matrices a sampling format packs (their keys end in `<name>.w`).
    public static let linearNames = ["attn.c_attn", "attn.c_enc_kv", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]

    /// Whether a parameter is one of those matrices.
    public static func isMatrix(_ spec: ParameterSpec) -> Bool {
        spec.shape.count == 2 && linearNames.contains { spec.key.hasSuffix("." + $0 + ".w") }
    }

    static func parameters(_ p: ParameterList, kind: AttentionKind, config c: TransformerConfig,
                           initScale: Double) -> ParameterList {
        var p = p
        let w = c.width, ns = c.nState
        if kind == .decode {
            p.conv1D("attn.c_attn", w, ns, initScale: initScale)
            p.conv1D("attn.c_enc_kv", w, 2 * ns, initScale: initScale)
        } else {
            p.conv1D("attn.c_attn", w, 3 * ns, initScale: initScale)
        }
        // The reference zero-initialises output projections under zero_out (always for decode layers);
        // a random model for tests keeps them random so every path shows in the output.
        p.conv1D("attn.c_proj", ns, w, initScale: initScale)
        p.layerNorm("ln_0", w)
        p.conv1D("mlp.c_fc", w, c.mlpWidth, initScale: initScale)
        p.conv1D("mlp.c_proj", c.mlpWidth, w, initScale: initScale)
        p.layerNorm("ln_1", w)
        return p
    }

    init(kind: AttentionKind, read: ParameterReader) throws {
        self.kind = kind
        cAttn = try read.linear("attn.c_attn")
        cEncKv = kind == .decode ? try read.linear("attn.c_enc_kv") : nil
        cProj = try read.linear("attn.c_proj")
        ln0W = try read("ln_0.weight"); ln0B = try read("ln_0.bias")
        fc = try read.linear("mlp.c_fc")
        proj = try read.linear("mlp.c_proj")
        ln1W = try read("ln_1.weight"); ln1B = try read("ln_1.bias")
    }
}

/// Weights of a reference Transformer: `depth` ResAttnBlocks under `_attn_mods.<d>`.
public struct TransformerWeights: Sendable {
    public let config: TransformerConfig
    public let layers: [ResAttnBlockWeights]

    static func parameters(prefix: String, config c: TransformerConfig, initScale: Double) -> [ParameterList] {
        (0..<c.depth).map { d in
            ResAttnBlockWeights.parameters(ParameterList(prefix: prefix + "._attn_mods.\(d)"), kind: c.kinds[d],
                                           config: c, initScale: initScale)
        }
    }

    /// Bytes a sampling step reads for the blocks' matrices.
    public var matrixBytes: Int {
        layers.reduce(0) { total, l in
            total + [l.cAttn, l.cProj, l.fc, l.proj].reduce(0) { $0 + $1.weightBytes } + (l.cEncKv?.weightBytes ?? 0)
        }
    }

    init(prefix: String, config c: TransformerConfig, initScale: Double, source: TensorLookup) throws {
        config = c
        let lists = TransformerWeights.parameters(prefix: prefix, config: c, initScale: initScale)
        layers = try zip(c.kinds, lists).map { kind, list in
            try ResAttnBlockWeights(kind: kind, read: ParameterReader(list, source))
        }
    }
}
