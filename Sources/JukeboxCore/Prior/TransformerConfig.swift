/// Shape of one reference `Transformer` (transformer.py) inside a ConditionalAutoregressive2D:
/// everything the weights and the key/value cache need to know, validated once.
public struct TransformerConfig: Sendable, Equatable {
    public let width: Int          // n_in
    public let depth: Int          // n_depth
    public let heads: Int          // n_head
    public let nCtx: Int           // sequence length the model was built for (input_dims)
    public let attnOrder: Int
    public let blocks: Int?
    public let spread: Int?
    public let mAttn: Double
    public let mMlp: Double
    public let resScale: Bool      // residual scaled by 1/depth
    public let encoderDims: Int    // keys of the lyrics encoder seen by decode layers (0: none)
    public let primeLen: Int?      // lyric prefix length of the single encoder-decoder

    /// Per-layer layouts.
    public let kinds: [AttentionKind]
    /// int(m_attn · width): width of queries/keys/values over all heads.
    public let nState: Int
    /// int(m_mlp · width).
    public let mlpWidth: Int

    public init(width: Int, depth: Int, heads: Int, nCtx: Int, attnOrder: Int, blocks: Int?, spread: Int? = nil,
                mAttn: Double = 0.25, mMlp: Double = 1, resScale: Bool = false, encoderDims: Int = 0,
                primeLen: Int? = nil, source: String = "hps") throws {
        func bad(_ what: String) -> JukeboxError { JukeboxError(source, what) }
        guard width > 0, depth >= 0, heads > 0, nCtx > 0 else {
            throw bad("transformer needs positive width, heads and n_ctx (got width \(width), heads \(heads), n_ctx \(nCtx))")
        }
        self.width = width; self.depth = depth; self.heads = heads; self.nCtx = nCtx
        self.attnOrder = attnOrder; self.blocks = blocks; self.spread = spread
        self.mAttn = mAttn; self.mMlp = mMlp; self.resScale = resScale
        self.encoderDims = encoderDims; self.primeLen = primeLen
        // Python's int() truncates toward zero, as here.
        nState = Int(mAttn * Double(width))
        mlpWidth = Int(mMlp * Double(width))
        guard nState > 0, nState % heads == 0 else {
            throw bad("m_attn·width = \(nState) must be a positive multiple of heads \(heads)")
        }
        guard mlpWidth > 0 else { throw bad("m_mlp·width must be positive") }
        var kinds: [AttentionKind] = []
        for d in 0..<depth {
            let kind = try AttentionKind.forLayer(d, attnOrder: attnOrder)
            kinds.append(kind)
        }
        self.kinds = kinds
        if let blocks {
            guard blocks > 0, nCtx % blocks == 0 else {
                throw bad("n_ctx \(nCtx) must be a multiple of blocks \(blocks)")
            }
        }
        if kinds.contains(where: { $0.needsBlocks }) && blocks == nil {
            throw bad("attn_order \(attnOrder) factors attention into blocks but blocks is null")
        }
        if kinds.contains(.summarySpread) {
            guard let spread, spread > 0, let blocks, spread <= nCtx / blocks else {
                throw bad("attn_order \(attnOrder) needs spread between 1 and the block length")
            }
        }
        if kinds.contains(.decode) && encoderDims <= 0 {
            throw bad("attn_order \(attnOrder) has encoder-decoder layers but there is no lyrics encoder (n_tokens 0 or use_tokens false)")
        }
        if kinds.contains(.prime) {
            guard let primeLen, primeLen >= 0, blocks != nil else {
                throw bad("attn_order \(attnOrder) has prime-attention layers, which need the single encoder-decoder (n_tokens) and blocks")
            }
        }
    }

    public var headWidth: Int { nState / heads }
    /// Positions per block (block_ctx); the whole context when unblocked.
    public var blockCtx: Int { blocks.map { nCtx / $0 } ?? nCtx }
    /// The reference's `_prime_len`: keys the prime layers keep, (prime_len // blocks + 1) · blocks.
    public var primeKeys: Int {
        guard let primeLen, let blocks else { return 0 }
        return (primeLen / blocks + 1) * blocks
    }
    public var residualScale: Float { resScale ? Float(1.0 / Double(depth)) : 1 }
}
