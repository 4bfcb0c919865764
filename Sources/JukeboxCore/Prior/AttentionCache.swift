/// Keys and values one attention layer keeps between calls, for a batch of items: only what its layout
/// can still look at (as the reference's `_suff_cache_len`), stored so that the keys any query sees are
/// contiguous rows:
///   dense            slot = p                                  (n_ctx slots)
///   block            slot = p mod block_ctx                    (one block, a ring)
///   transpose-block  slot = (p mod block_ctx)·blocks + p / block_ctx   (column-major: a column is contiguous)
///   previous-block   slot = p mod 2·block_ctx                  (two blocks, a ring)
///   summary          slot = block index, for the last position of blocks 0…blocks−2
///   summary-spread   the last `spread` positions of blocks 0…blocks−2, in order
///   prime            slot = p while p < _prime_len
///   decode           the lyrics encoder's keys and values, computed once
final class LayerCache {
    let kind: AttentionKind
    let batch: Int
    let slots: Int
    let nState: Int
    let keys: UnsafeMutablePointer<Float>    // [batch, slots, nState]
    let values: UnsafeMutablePointer<Float>  // [batch, slots, nState]

    /// When set, the softmax weights of every query are written here: [batch, heads, n_ctx, slots], keyed by
    /// cache slot (for dense, prime and decode layers a slot is the key's position). Used for lyric alignment.
    var record: UnsafeMutablePointer<Float>? = nil
    var recordPositions = 0

    /// Key rows (each with its value row) attention has read so far, over the batch: the cache's share of
    /// what a step streams from memory, for the benchmark's roofline.
    var rowsRead = 0

    // Layout constants.
    let blockCtx: Int, blocks: Int, spread: Int, primeKeys: Int

    init(kind: AttentionKind, config c: TransformerConfig, batch: Int) {
        self.kind = kind
        self.batch = batch
        nState = c.nState
        blockCtx = c.blockCtx
        blocks = c.blocks ?? 1
        spread = c.spread ?? 1
        primeKeys = c.primeKeys
        switch kind {
        case .dense, .transposeBlock: slots = c.nCtx
        case .block: slots = blockCtx
        case .previousBlock: slots = 2 * blockCtx
        case .summary: slots = max(blocks - 1, 0)
        case .summarySpread: slots = max(blocks - 1, 0) * spread
        case .prime: slots = min(primeKeys, c.nCtx)
        case .decode: slots = c.encoderDims
        }
        let n = max(batch * slots * nState, 1)
        keys = .allocate(capacity: n)
        values = .allocate(capacity: n)
        keys.initialize(repeating: 0, count: n)
        values.initialize(repeating: 0, count: n)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    var bytes: Int { 2 * batch * slots * nState * MemoryLayout<Float>.size }

    /// Makes item `to` hold what item `from` holds.
    func copyItem(_ from: Int, to: Int) {
        let n = slots * nState
        (keys + to * n).update(from: keys + from * n, count: n)
        (values + to * n).update(from: values + from * n, count: n)
    }

    /// Where position p's key and value are kept, or nil when no later query can see them.
    @inline(__always)
    func slot(_ p: Int) -> Int? {
        switch kind {
        case .dense: return p
        case .block: return p % blockCtx
        case .transposeBlock: return (p % blockCtx) * blocks + p / blockCtx
        case .previousBlock: return p % (2 * blockCtx)
        case .summary:
            return (p % blockCtx == blockCtx - 1 && p / blockCtx <= blocks - 2) ? p / blockCtx : nil
        case .summarySpread:
            let within = p % blockCtx - (blockCtx - spread)
            return (within >= 0 && p / blockCtx <= blocks - 2) ? (p / blockCtx) * spread + within : nil
        case .prime: return p < slots ? p : nil
        case .decode: return nil
        }
    }

    /// Ring layouts must see each block's queries before the next block's keys overwrite the ring.
    var splitsAtBlocks: Bool { kind == .block || kind == .previousBlock }

    @inline(__always) func keyRow(_ item: Int, _ slot: Int) -> UnsafeMutablePointer<Float> {
        keys + (item * slots + slot) * nState
    }

    @inline(__always) func valueRow(_ item: Int, _ slot: Int) -> UnsafeMutablePointer<Float> {
        values + (item * slots + slot) * nState
    }
}
