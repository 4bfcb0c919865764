import JukeboxCore
/// Which key positions the query at position p sees under one layout, for a whole teacher-forced
/// sequence: `count(p)` keys at `position(p, j)` (j in 0..<count), plus `zeroKeys(p)` all-zero keys the
/// reference pads in (logit 0, value 0: they only enlarge the softmax's denominator). The same rules as
/// the key/value cache's slots (AttentionCache) and FactoredAttention.visible, spelled in positions.
struct AttentionPattern {
    let kind: AttentionKind
    let blockCtx: Int, blocks: Int, spread: Int
    /// Keys of the prime layout (min(_prime_len, n_ctx)); encoder positions of the decode layout.
    let slots: Int

    init(kind: AttentionKind, config c: TransformerConfig) {
        self.kind = kind
        blockCtx = c.blockCtx
        blocks = c.blocks ?? 1
        spread = c.spread ?? 1
        switch kind {
        case .prime: slots = min(c.primeKeys, c.nCtx)
        case .decode: slots = c.encoderDims
        default: slots = 0
        }
    }

    @inline(__always)
    func count(_ p: Int) -> Int {
        let bc = blockCtx
        switch kind {
        case .dense: return p + 1
        case .block: return p % bc + 1
        case .transposeBlock: return p / bc + 1
        case .previousBlock: return p / bc == 0 ? 0 : bc
        case .summary: return min((p + 1) / bc, blocks - 1)
        case .summarySpread:
            let b = p / bc
            let done = min(b, blocks - 1) * spread
            let partial = b <= blocks - 2 ? max(0, p % bc - (bc - spread) + 1) : 0
            return done + partial
        case .prime: return min(p + 1, slots)
        case .decode: return slots
        }
    }

    @inline(__always)
    func zeroKeys(_ p: Int) -> Int {
        switch kind {
        case .previousBlock: return p / blockCtx == 0 ? blockCtx : 0
        case .summary: return 1
        case .summarySpread: return spread
        default: return 0
        }
    }

    /// Position (in the key sequence) of the j-th key the query at p sees.
    @inline(__always)
    func position(_ p: Int, _ j: Int) -> Int {
        let bc = blockCtx
        switch kind {
        case .dense, .prime, .decode: return j
        case .block: return (p / bc) * bc + j
        case .transposeBlock: return p % bc + j * bc
        case .previousBlock: return (p / bc - 1) * bc + j
        case .summary: return j * bc + bc - 1
        case .summarySpread: return (j / spread) * bc + bc - spread + j % spread
        }
    }
}
