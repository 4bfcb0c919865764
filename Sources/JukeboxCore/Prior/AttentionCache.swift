import CKernels
import Foundation

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
///
/// A half cache keeps keys and values as binary16 (the compact weight formats' caches: a 5b_lyrics window
/// of 8192 codes takes 3 GB instead of 6).
final class LayerCache {
    let kind: AttentionKind
    let batch: Int
    let slots: Int
    let nState: Int
    let half: Bool
    private let keyBytes: UnsafeMutableRawPointer    // [batch, slots, nState] of Float, or of UInt16 when half
    private let valueBytes: UnsafeMutableRawPointer

    /// When set, the softmax weights of every query are written here: [batch, heads, n_ctx, slots], keyed by
    /// cache slot (for dense, prime and decode layers a slot is the key's position). Used for lyric alignment.
    var record: UnsafeMutablePointer<Float>? = nil
    var recordPositions = 0

    /// Key rows (each with its value row) attention has read so far, over the batch: the cache's share of
    /// what a step streams from memory, for the benchmark's roofline.
    var rowsRead = 0

    // Layout constants.
    let blockCtx: Int, blocks: Int, spread: Int, primeKeys: Int

    init(kind: AttentionKind, config c: TransformerConfig, batch: Int, half: Bool = false) {
        self.kind = kind
        self.batch = batch
        self.half = half
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
        let n = max(batch * slots * nState, 1) * (half ? 2 : 4)
        keyBytes = .allocate(byteCount: n, alignment: 64)
        valueBytes = .allocate(byteCount: n, alignment: 64)
        memset(keyBytes, 0, n)
        memset(valueBytes, 0, n)
    }

    deinit {
        keyBytes.deallocate()
        valueBytes.deallocate()
    }

    var elementSize: Int { half ? 2 : 4 }
    var bytes: Int { 2 * batch * slots * nState * elementSize }

    /// Makes item `to` hold what item `from` holds.
    func copyItem(_ from: Int, to: Int) {
        let n = slots * nState * elementSize
        (keyBytes + to * n).copyMemory(from: keyBytes + from * n, byteCount: n)
        (valueBytes + to * n).copyMemory(from: valueBytes + from * n, byteCount: n)
    }

    /// Writes a key and a value row (nState floats each) into a slot.
    @inline(__always) func store(_ item: Int, _ slot: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let offset = (item * slots + slot) * nState
        if half {
            jk_to_half(key, keyBytes.assumingMemoryBound(to: UInt16.self) + offset, Int32(nState))
            jk_to_half(value, valueBytes.assumingMemoryBound(to: UInt16.self) + offset, Int32(nState))
        } else {
            (keyBytes.assumingMemoryBound(to: Float.self) + offset).update(from: key, count: nState)
            (valueBytes.assumingMemoryBound(to: Float.self) + offset).update(from: value, count: nState)
        }
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

    /// A float32 cache's rows.
    @inline(__always) func keyRow(_ item: Int, _ slot: Int) -> UnsafeMutablePointer<Float> {
        invariant(!half, "keyRow of a half cache")
        return keyBytes.assumingMemoryBound(to: Float.self) + (item * slots + slot) * nState
    }

    @inline(__always) func valueRow(_ item: Int, _ slot: Int) -> UnsafeMutablePointer<Float> {
        invariant(!half, "valueRow of a half cache")
        return valueBytes.assumingMemoryBound(to: Float.self) + (item * slots + slot) * nState
    }

    /// A half cache's rows.
    @inline(__always) func halfKeyRow(_ item: Int, _ slot: Int) -> UnsafePointer<UInt16> {
        UnsafePointer(keyBytes.assumingMemoryBound(to: UInt16.self) + (item * slots + slot) * nState)
    }

    @inline(__always) func halfValueRow(_ item: Int, _ slot: Int) -> UnsafePointer<UInt16> {
        UnsafePointer(valueBytes.assumingMemoryBound(to: UInt16.self) + (item * slots + slot) * nState)
    }
}
