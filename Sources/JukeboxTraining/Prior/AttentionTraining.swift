import Foundation
import JukeboxCore

/// Softmax attention over a whole sequence for training: the forward keeps each query's log-sum-exp,
/// and the backward recomputes the weights from it (memory stays O(length), not O(length²)).
/// Rows are [batch, length, stride] with head h in columns h·dh..<(h+1)·dh, as the reference's split_heads.
enum AttentionTraining {
    struct Operands {
        var q: UnsafeMutablePointer<Float>, qStride: Int
        var k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, kvStride: Int
        /// Query positions per item and key positions per item (the encoder's for decode layers).
        var length: Int, keyLength: Int
    }

    /// The reference's scale: q and k each times 1/dh^(1/4).
    static func scale(_ dh: Int) -> Float {
        let s = 1.0 / Double(dh).squareRoot().squareRoot()
        return Float(s * s)
    }

    /// out [batch, length, heads·dh] and lse [batch, heads, length].
    static func forward(_ pattern: AttentionPattern, _ o: Operands, batch: Int, heads: Int, dh: Int,
                        out: UnsafeMutablePointer<Float>, outStride: Int, lse: UnsafeMutablePointer<Float>) {
        let scale = scale(dh), L = o.length
        parallelFor(batch * heads) { tasks in
            let s = UnsafeMutablePointer<Float>.allocate(capacity: max(o.keyLength, 1))
            defer { s.deallocate() }
            for task in tasks {
                let n = task / heads, h = task % heads
                let q = o.q + n * L * o.qStride + h * dh
                let k = o.k + n * o.keyLength * o.kvStride + h * dh
                let v = o.v + n * o.keyLength * o.kvStride + h * dh
                for p in 0..<L {
                    let oi = out + (n * L + p) * outStride + h * dh
                    oi.update(repeating: 0, count: dh)
                    let cnt = pattern.count(p), zk = pattern.zeroKeys(p)
                    lse[task * L + p] = 0
                    if cnt == 0 { continue }   // only zero keys: the output is zero
                    let qi = q + p * o.qStride
                    var m = zk > 0 ? Float(0) : -Float.infinity
                    for j in 0..<cnt {
                        let sj = PriorKernels.dot(qi, k + pattern.position(p, j) * o.kvStride, dh) * scale
                        s[j] = sj
                        m = max(m, sj)
                    }
                    var sum = zk > 0 ? Float(zk) * expf(-m) : 0
                    for j in 0..<cnt { let e = expf(s[j] - m); s[j] = e; sum += e }
                    let inv = 1 / sum
                    for j in 0..<cnt { PriorKernels.axpy(s[j] * inv, v + pattern.position(p, j) * o.kvStride, oi, dh) }
                    lse[task * L + p] = m + logf(sum)
                }
            }
        }
    }

    /// From dOut, adds dq, dk, dv into the gradient operands `d` (same layout as `o`). With a guide, its head's
    /// weights also get the gradient of the guide's cross-entropy toward each row's target key.
    static func backward(_ pattern: AttentionPattern, _ o: Operands, _ d: Operands, batch: Int, heads: Int, dh: Int,
                         out: UnsafePointer<Float>, dOut: UnsafePointer<Float>, outStride: Int,
                         lse: UnsafePointer<Float>, guide: AttentionGuide? = nil) {
        let scale = scale(dh), L = o.length
        // Each task owns its item's rows and its head's columns of dq, dk and dv: no two tasks write alike.
        parallelFor(batch * heads) { tasks in
            for task in tasks {
                let n = task / heads, h = task % heads
                let q = o.q + n * L * o.qStride + h * dh
                let k = o.k + n * o.keyLength * o.kvStride + h * dh
                let v = o.v + n * o.keyLength * o.kvStride + h * dh
                let dq = d.q + n * L * d.qStride + h * dh
                let dk = d.k + n * d.keyLength * d.kvStride + h * dh
                let dv = d.v + n * d.keyLength * d.kvStride + h * dh
                let guided = guide.flatMap { $0.head == h ? $0 : nil }
                var guideBits = 0.0
                for p in 0..<L {
                    let cnt = pattern.count(p)
                    if cnt == 0 { continue }
                    let target = guided.map { $0.targets[n * L + p] } ?? -1
                    let pull = target >= 0 ? guided!.rowWeight : 0
                    let oi = out + (n * L + p) * outStride + h * dh
                    let doi = dOut + (n * L + p) * outStride + h * dh
                    let qi = q + p * o.qStride, dqi = dq + p * d.qStride
                    let D = PriorKernels.dot(doi, oi, dh)
                    let l = lse[task * L + p]
                    for j in 0..<cnt {
                        let r = pattern.position(p, j)
                        let kr = k + r * o.kvStride
                        let w = expf(PriorKernels.dot(qi, kr, dh) * scale - l)
                        let dw = PriorKernels.dot(doi, v + r * o.kvStride, dh)
                        var ds = w * (dw - D) * scale
                        if pull != 0 {
                            // d(−ln w_target)/d(score_j) = w_j − [j is the target]
                            ds += pull * (w - (r == target ? 1 : 0)) * scale
                            if r == target { guideBits -= Double(log2f(max(w, 1e-30))) }
                        }
                        PriorKernels.axpy(ds, kr, dqi, dh)
                        PriorKernels.axpy(ds, qi, dk + r * d.kvStride, dh)
                        PriorKernels.axpy(w, doi, dv + r * d.kvStride, dh)
                    }
                }
                if let guided, guideBits > 0 { guided.add(bits: guideBits) }
            }
        }
    }
}
