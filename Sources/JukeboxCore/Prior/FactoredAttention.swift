import CKernels
import Foundation

/// The attention of one layer over a chunk of new positions, through the layer's key/value cache.
/// The reference computes each layout with reshapes and masks (factored_attention.py); here each query
/// sees a prefix of a contiguous run of cached keys, plus the all-zero keys the reference pads in
/// (logit 0, value 0: they only enlarge the softmax's denominator). A full forward is the same code run
/// on an empty cache with the whole sequence as one chunk, so the two cannot drift apart.
enum FactoredAttention {
    /// A set of queries that share one run of keys.
    struct Group {
        var first: Int        // position of the first query
        var stride: Int       // positions between consecutive queries
        var count: Int        // number of queries
        var keySlot: Int      // first cache slot of the key run
        var keys: Int         // keys in the run (the most any query of the group sees)
        var zeroKeys: Int     // padded zero keys every query also sees
    }

    /// qkv: [batch, T, qkvWidth] for positions t0..<t0+T, each row [query | key | value] (decode layers: query only).
    /// out: [batch, T, nState] attention outputs before c_proj. `onKernelPool`: the step's products run on the
    /// kernels' pool (packed weights), whose threads then also take the attention; float32 products run on
    /// OpenBLAS's threads, beside which the pool's spinning worker would only compete (a batch of 8 on a
    /// width-512 prior: 1720 against 2460 tokens/s).
    static func forward(cache: LayerCache, config c: TransformerConfig, qkv: UnsafePointer<Float>, qkvWidth: Int,
                        t0: Int, count T: Int, out: UnsafeMutablePointer<Float>, scratch: Scratch,
                        onKernelPool: Bool = false) {
        let end = t0 + T
        var a = t0
        while a < end {
            let b = cache.splitsAtBlocks ? min(end, (a / cache.blockCtx + 1) * cache.blockCtx) : end
            store(cache: cache, qkv: qkv, qkvWidth: qkvWidth, t0: t0, T: T, range: a..<b)
            for g in groups(cache: cache, config: c, range: a..<b) {
                attend(cache: cache, config: c, group: g, qkv: qkv, qkvWidth: qkvWidth, t0: t0, T: T,
                       out: out, scratch: scratch, onKernelPool: onKernelPool)
            }
            a = b
        }
    }

    /// Copies the new keys and values the layout keeps into the cache.
    private static func store(cache: LayerCache, qkv: UnsafePointer<Float>, qkvWidth: Int, t0: Int, T: Int,
                              range: Range<Int>) {
        guard cache.kind != .decode else { return }
        let ns = cache.nState
        for n in 0..<cache.batch {
            for p in range {
                guard let s = cache.slot(p) else { continue }
                let row = qkv + (n * T + p - t0) * qkvWidth
                cache.store(n, s, key: row + ns, value: row + 2 * ns)
            }
        }
    }

    /// Number of keys of the group's run that the query at position p sees.
    @inline(__always)
    static func visible(_ kind: AttentionKind, _ p: Int, _ cache: LayerCache, _ g: Group) -> Int {
        let bc = cache.blockCtx
        switch kind {
        case .dense: return p + 1
        case .block: return p % bc + 1
        case .transposeBlock: return p / bc + 1
        case .previousBlock, .decode: return g.keys
        case .summary: return min((p + 1) / bc, cache.blocks - 1)
        case .summarySpread:
            let b = p / bc
            let done = min(b, cache.blocks - 1) * cache.spread
            let partial = b <= cache.blocks - 2 ? max(0, p % bc - (bc - cache.spread) + 1) : 0
            return done + partial
        case .prime: return min(p + 1, cache.slots)
        }
    }

    /// Splits the queries of `range` into groups that share a key run.
    private static func groups(cache: LayerCache, config c: TransformerConfig, range: Range<Int>) -> [Group] {
        let bc = cache.blockCtx
        let a = range.lowerBound, n = range.count
        let last = range.upperBound - 1
        switch cache.kind {
        case .dense:
            return [Group(first: a, stride: 1, count: n, keySlot: 0, keys: last + 1, zeroKeys: 0)]
        case .block:
            return [Group(first: a, stride: 1, count: n, keySlot: 0, keys: last % bc + 1, zeroKeys: 0)]
        case .transposeBlock:
            var out: [Group] = []
            for first in a..<min(a + bc, range.upperBound) {
                let count = (last - first) / bc + 1
                let lastQ = first + (count - 1) * bc
                out.append(Group(first: first, stride: bc, count: count, keySlot: (first % bc) * cache.blocks,
                                 keys: lastQ / bc + 1, zeroKeys: 0))
            }
            return out
        case .previousBlock:
            let block = a / bc
            if block == 0 {
                // The reference attends to a block of zeros here: the output is zero.
                return [Group(first: a, stride: 1, count: n, keySlot: 0, keys: 0, zeroKeys: bc)]
            }
            return [Group(first: a, stride: 1, count: n, keySlot: ((block - 1) % 2) * bc, keys: bc, zeroKeys: 0)]
        case .summary:
            let g = Group(first: a, stride: 1, count: n, keySlot: 0, keys: 0, zeroKeys: 1)
            return [Group(first: a, stride: 1, count: n, keySlot: 0, keys: visible(.summary, last, cache, g), zeroKeys: 1)]
        case .summarySpread:
            let g = Group(first: a, stride: 1, count: n, keySlot: 0, keys: 0, zeroKeys: cache.spread)
            return [Group(first: a, stride: 1, count: n, keySlot: 0,
                          keys: visible(.summarySpread, last, cache, g), zeroKeys: cache.spread)]
        case .prime:
            return [Group(first: a, stride: 1, count: n, keySlot: 0, keys: min(last + 1, cache.slots), zeroKeys: 0)]
        case .decode:
            return [Group(first: a, stride: 1, count: n, keySlot: 0, keys: cache.slots, zeroKeys: 0)]
        }
    }

    /// Rows of queries scored together by sgemm when a group is large (bounds the score buffer).
    static let rowChunk = 64

    private static func attend(cache: LayerCache, config c: TransformerConfig, group g: Group,
                               qkv: UnsafePointer<Float>, qkvWidth: Int, t0: Int, T: Int,
                               out: UnsafeMutablePointer<Float>, scratch: Scratch, onKernelPool: Bool) {
        let ns = c.nState, dh = c.headWidth, heads = c.heads
        let s = 1.0 / Double(dh).squareRoot().squareRoot()
        let scale = Float(s * s)
        let kind = cache.kind
        let batch = cache.batch
        let tasks = batch * heads
        cache.rowsRead += batch * g.count * g.keys
        let useGemm = g.count >= 8 && g.keys >= 8
        let first = g.first, stride = g.stride
        // A sampling step's query (recorded weights aside) goes in pieces on the pool.
        if onKernelPool && g.count == 1 && cache.record == nil {
            attendInPieces(cache: cache, group: g, visible: visible(kind, first, cache, g), q: qkv + (first - t0) * qkvWidth,
                           qStride: T * qkvWidth, tasks: tasks, heads: heads, dh: dh, ns: ns, scale: scale,
                           out: out + (first - t0) * ns, outStride: T * ns, scratch: scratch)
            return
        }
        // A half cache's run of keys and values, widened once per item for sgemm (many queries at once).
        let widenedKeys = cache.half && useGemm ? scratch.buffer(8, max(g.keys * ns, 1)) : nil
        let widenedValues = cache.half && useGemm ? scratch.buffer(9, max(g.keys * ns, 1)) : nil
        let run = { (task: Int, sc: UnsafeMutablePointer<Float>) in
            let n = task / heads, h = task % heads
            let q = qkv + (n * T + first - t0) * qkvWidth + h * dh
            let o = out + (n * T + first - t0) * ns + h * dh
            let rec = cache.record.map { $0 + ((n * heads + h) * cache.recordPositions + first) * cache.slots + g.keySlot }
            let k: UnsafePointer<Float>, v: UnsafePointer<Float>
            if cache.half {
                guard let widenedKeys, let widenedValues else {
                    coreHalf(q: q, qStride: stride * qkvWidth, nq: g.count, k: cache.halfKeyRow(n, g.keySlot) + h * dh,
                             v: cache.halfValueRow(n, g.keySlot) + h * dh, kvStride: ns, dh: dh,
                             visible: { i in visible(kind, first + i * stride, cache, g) }, zeroKeys: g.zeroKeys,
                             scale: scale, out: o, outStride: stride * ns, scores: sc, record: rec,
                             recordStride: stride * cache.slots)
                    return
                }
                if h == 0 && g.keys > 0 {
                    jk_to_float(cache.halfKeyRow(n, g.keySlot), widenedKeys, Int32(g.keys * ns))
                    jk_to_float(cache.halfValueRow(n, g.keySlot), widenedValues, Int32(g.keys * ns))
                }
                k = UnsafePointer(widenedKeys + h * dh)
                v = UnsafePointer(widenedValues + h * dh)
            } else {
                k = UnsafePointer(cache.keyRow(n, g.keySlot) + h * dh)
                v = UnsafePointer(cache.valueRow(n, g.keySlot) + h * dh)
            }
            core(q: q, qStride: stride * qkvWidth, nq: g.count, k: k, v: v, kvStride: ns, nk: g.keys, dh: dh,
                 visible: { i in visible(kind, first + i * stride, cache, g) },
                 zeroKeys: g.zeroKeys, scale: scale, out: o, outStride: stride * ns, scores: sc, gemm: useGemm,
                 record: rec, recordStride: stride * cache.slots)
        }
        let work = g.count * max(g.keys, 1) * dh * tasks
        if useGemm || work < 1 << 16 || tasks == 1 {
            // sgemm threads itself; small work stays on this thread.
            let sc = scratch.buffer(0, useGemm ? min(g.count, rowChunk) * max(g.keys, 1) : max(g.keys, 1))
            for task in 0..<tasks { run(task, sc) }
        } else {
            let body = { (range: Range<Int>) in
                let sc = UnsafeMutablePointer<Float>.allocate(capacity: max(g.keys, 1))
                defer { sc.deallocate() }
                for task in range { run(task, sc) }
            }
            if onKernelPool { stepParallelFor(tasks, body) } else { parallelFor(tasks, body) }
        }
    }

    /// Keys one piece of a query takes (see attendInPieces).
    static let keyChunk = Int(JK_PIECE_KEYS)

    /// One query per item and head (a sampling step), its keys in pieces of `keyChunk`, the pieces of every
    /// head and item shared by the pool's threads: each piece keeps its own maximum, sum of exponentials and
    /// weighted values (`jk_attend_piece_*`), which the caller rescales to the largest maximum and adds up in
    /// a fixed order (the same sums whatever the number of threads). A layer's keys and values come from
    /// memory (its weights pushed them out of the caches); one thread reading them alone, a key at a time,
    /// left the other waiting: at batch 1 the upsampler has one head, 1b_lyrics two.
    private static func attendInPieces(cache: LayerCache, group g: Group, visible vis: Int, q: UnsafePointer<Float>,
                                       qStride: Int, tasks: Int, heads: Int, dh: Int, ns: Int, scale: Float,
                                       out: UnsafeMutablePointer<Float>, outStride: Int, scratch: Scratch) {
        let chunks = max(1, (vis + keyChunk - 1) / keyChunk), units = tasks * chunks
        let pieceWidth = dh + 2   // [max, sum, weighted values…]
        let pieces = scratch.buffer(12, units * pieceWidth)
        let body = { (range: Range<Int>) in
            for u in range {
                let task = u / chunks, lo = (u % chunks) * keyChunk, count = Int32(max(0, min(vis, lo + keyChunk) - lo))
                let n = task / heads, h = task % heads
                let qi = q + n * qStride + h * dh
                let piece = pieces + u * pieceWidth
                if cache.half {
                    jk_attend_piece_half(qi, cache.halfKeyRow(n, g.keySlot) + h * dh + lo * ns,
                                         cache.halfValueRow(n, g.keySlot) + h * dh + lo * ns, Int32(ns), count, Int32(dh),
                                         scale, piece + 2, piece, piece + 1)
                } else {
                    jk_attend_piece_f32(qi, cache.keyRow(n, g.keySlot) + h * dh + lo * ns,
                                        cache.valueRow(n, g.keySlot) + h * dh + lo * ns, Int32(ns), count, Int32(dh),
                                        scale, piece + 2, piece, piece + 1)
                }
            }
        }
        // The pool's worker answers within a microsecond; below a few thousand multiply-adds it is not worth it.
        if tasks * vis * dh < 1 << 12 { body(0..<units) } else { stepParallelFor(units, body) }
        for task in 0..<tasks {
            let n = task / heads, h = task % heads
            let first = pieces + task * chunks * pieceWidth
            let o = out + n * outStride + h * dh
            o.update(repeating: 0, count: dh)
            // Only zero keys (or none): the output is zero, as the reference's padding gives.
            guard vis > 0 else { continue }
            var m: Float = g.zeroKeys > 0 ? 0 : -Float.infinity
            for c in 0..<chunks { m = max(m, first[c * pieceWidth]) }
            var sum = g.zeroKeys > 0 ? Float(g.zeroKeys) * expf(-m) : 0
            for c in 0..<chunks {
                // Each piece's maximum becomes its weight at the common maximum, used twice below.
                let piece = first + c * pieceWidth
                piece[0] = expf(piece[0] - m)
                sum += piece[0] * piece[1]
            }
            for c in 0..<chunks {
                let piece = first + c * pieceWidth
                PriorKernels.axpy(piece[0] / sum, piece + 2, o, dh)
            }
        }
    }

    /// Turns scores[0..<count] into exp(score − max) in place and returns 1 / their sum, the zero keys'
    /// exp(0 − max) each included: the softmax's normaliser.
    @inline(__always)
    static func exponentiate(_ scores: UnsafeMutablePointer<Float>, count: Int, max m: Float, zeroKeys: Int) -> Float {
        var sum = zeroKeys > 0 ? Float(zeroKeys) * expf(-m) : 0
        for j in 0..<count { let e = expf(scores[j] - m); scores[j] = e; sum += e }
        return 1 / sum
    }

    /// core's one-query-at-a-time path over binary16 keys and values, read in place.
    static func coreHalf(q: UnsafePointer<Float>, qStride: Int, nq: Int, k: UnsafePointer<UInt16>, v: UnsafePointer<UInt16>,
                         kvStride: Int, dh: Int, visible: (Int) -> Int, zeroKeys: Int, scale: Float,
                         out: UnsafeMutablePointer<Float>, outStride: Int, scores: UnsafeMutablePointer<Float>,
                         record: UnsafeMutablePointer<Float>?, recordStride: Int) {
        for i in 0..<nq {
            let vis = visible(i)
            let qi = q + i * qStride, oi = out + i * outStride
            oi.update(repeating: 0, count: dh)
            if vis == 0 { continue }
            var m = zeroKeys > 0 ? Float(0) : -Float.infinity
            for j in 0..<vis {
                let sj = jk_dot_half(qi, k + j * kvStride, Int32(dh)) * scale
                scores[j] = sj
                m = max(m, sj)
            }
            let inv = exponentiate(scores, count: vis, max: m, zeroKeys: zeroKeys)
            if let record { for j in 0..<vis { record[i * recordStride + j] = scores[j] * inv } }
            for j in 0..<vis { jk_axpy_half(scores[j] * inv, v + j * kvStride, oi, Int32(dh)) }
        }
    }

    /// softmax(scale · q·kᵀ over each query's visible prefix and the zero keys) · v, for one head.
    /// `visible(i)` must not decrease with i.
    static func core(q: UnsafePointer<Float>, qStride: Int, nq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                     kvStride: Int, nk: Int, dh: Int, visible: (Int) -> Int, zeroKeys: Int, scale: Float,
                     out: UnsafeMutablePointer<Float>, outStride: Int, scores: UnsafeMutablePointer<Float>, gemm: Bool,
                     record: UnsafeMutablePointer<Float>? = nil, recordStride: Int = 0) {
        if !gemm {
            for i in 0..<nq {
                let vis = visible(i)
                let qi = q + i * qStride, oi = out + i * outStride
                oi.update(repeating: 0, count: dh)
                if vis == 0 { continue }   // only zero keys (or none): the output is zero
                var m = zeroKeys > 0 ? Float(0) : -Float.infinity
                for j in 0..<vis {
                    let sj = PriorKernels.dot(qi, k + j * kvStride, dh) * scale
                    scores[j] = sj
                    m = max(m, sj)
                }
                let inv = exponentiate(scores, count: vis, max: m, zeroKeys: zeroKeys)
                if let record { for j in 0..<vis { record[i * recordStride + j] = scores[j] * inv } }
                for j in 0..<vis { PriorKernels.axpy(scores[j] * inv, v + j * kvStride, oi, dh) }
            }
            return
        }
        var r0 = 0
        while r0 < nq {
            let rows = min(rowChunk, nq - r0)
            let keys = visible(r0 + rows - 1)
            if keys == 0 {
                for i in r0..<(r0 + rows) { (out + i * outStride).update(repeating: 0, count: dh) }
                r0 += rows
                continue
            }
            BLAS.gemm(q + r0 * qStride, k, scores, m: rows, n: keys, k: dh, transB: true, alpha: scale,
                      lda: qStride, ldb: kvStride, ldc: keys)
            for i in 0..<rows {
                let row = scores + i * keys
                let vis = visible(r0 + i)
                var m = zeroKeys > 0 ? Float(0) : -Float.infinity
                for j in 0..<vis { m = max(m, row[j]) }
                let inv = vis > 0 ? exponentiate(row, count: vis, max: m, zeroKeys: zeroKeys) : 0
                for j in 0..<vis { row[j] *= inv }
                if vis < keys { (row + vis).update(repeating: 0, count: keys - vis) }
                if let record { (record + (r0 + i) * recordStride).update(from: row, count: vis) }
            }
            BLAS.gemm(scores, v, out + r0 * outStride, m: rows, n: dh, k: keys, lda: keys, ldb: kvStride,
                      ldc: outStride)
            r0 += rows
        }
    }
}
