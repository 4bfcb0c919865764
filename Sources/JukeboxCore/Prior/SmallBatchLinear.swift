import Dispatch

/// A reference Conv1D (y = x·w + b, w [n_in, n_out]) held transposed, wᵀ [n_out, n_in], so a token's
/// product reads the weight as one sequential stream of dot products. On the CPUs this was measured on,
/// that single stream runs 1.5–2× faster than BLAS's matrix-vector kernel, and sampling is bound by
/// streaming the weights. Large row counts (full forwards, priming) use sgemm on the same copy. Only the
/// transposed copy is kept (the checkpoint's mapping is file-backed and can be dropped by the OS), so the
/// weights take their size once in memory.
public struct LinearWeight: @unchecked Sendable {
    public let wt: Tensor      // [nOut, nIn]
    public let b: Tensor?      // [nOut]

    public init(w: Tensor, b: Tensor?) {
        self.b = b
        wt = LinearWeight.transpose(w)
    }

    public var nIn: Int { wt.shape[1] }
    public var nOut: Int { wt.shape[0] }
    /// The checkpoint layout [nIn, nOut] (a fresh copy).
    public var w: Tensor { LinearWeight.transpose(wt) }

    /// Rows up to this many take the dot-product path; more go to sgemm.
    static let smallRows = 16

    /// out[rows, nOut] = x[rows, nIn]·w + b.
    func apply(_ x: UnsafePointer<Float>, rows: Int, _ out: UnsafeMutablePointer<Float>) {
        if rows <= LinearWeight.smallRows {
            SmallBatchLinear.dotRows(x, rows: rows, wt.data, nIn: nIn, nOut: nOut, b?.data, out)
        } else {
            if let b { for r in 0..<rows { (out + r * nOut).update(from: b.data, count: nOut) } }
            BLAS.gemm(x, wt.data, out, m: rows, n: nOut, k: nIn, transB: true, beta: b == nil ? 0 : 1)
        }
    }

    /// Cache-blocked transpose, split across cores.
    static func transpose(_ w: Tensor) -> Tensor {
        let n = w.shape[0], m = w.shape[1]
        let out = Tensor(zeros: [m, n])
        let tile = 32
        let src = w.data, dst = out.data
        parallelFor((n + tile - 1) / tile) { range in
            for ti in range {
                let i0 = ti * tile, i1 = min(n, i0 + tile)
                var j0 = 0
                while j0 < m {
                    let j1 = min(m, j0 + tile)
                    for i in i0..<i1 { for j in j0..<j1 { dst[j * n + i] = src[i * m + j] } }
                    j0 = j1
                }
            }
        }
        return out
    }
}

/// Dot-product kernels for a few rows against a transposed weight (each weight row is read from memory
/// once, then from cache for the other input rows, so a batch of 8 costs far less than 8 batches of 1).
enum SmallBatchLinear {
    typealias V = SIMD8<Float>

    /// Products below this many multiply-adds stay on one thread (handing work to another core costs microseconds).
    static let parallelThreshold = 1 << 19

    /// out[r, j] = dot(x[r], wt[j]) + b[j] for r < rows ≤ 16.
    static func dotRows(_ x: UnsafePointer<Float>, rows: Int, _ wt: UnsafePointer<Float>, nIn: Int, nOut: Int,
                        _ b: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>) {
        if rows > 1 && rows * nIn * nOut >= parallelThreshold && ProcessInfoCache.cores > 1 {
            // Several rows make the product compute-bound: split the outputs across the cores.
            let parts = min(ProcessInfoCache.cores, 2)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = nOut * p / parts, hi = nOut * (p + 1) / parts
                dotRows(x, rows: rows, wt, nIn: nIn, nOut: nOut, b, out, outputs: lo..<hi)
            }
        } else {
            dotRows(x, rows: rows, wt, nIn: nIn, nOut: nOut, b, out, outputs: 0..<nOut)
        }
    }

    static func dotRows(_ x: UnsafePointer<Float>, rows: Int, _ wt: UnsafePointer<Float>, nIn: Int, nOut: Int,
                        _ b: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>, outputs: Range<Int>) {
        var r = 0
        // Four input rows against two weight rows: eight sums in registers, each load used four or two times.
        while r + 4 <= rows {
            let x0 = x + r * nIn
            var j = outputs.lowerBound
            while j + 2 <= outputs.upperBound {
                let s = dot2x4(wt + j * nIn, wt + (j + 1) * nIn, x0, nIn)
                let b0 = b?[j] ?? 0, b1 = b?[j + 1] ?? 0
                for k in 0..<4 {
                    out[(r + k) * nOut + j] = s[k] + b0
                    out[(r + k) * nOut + j + 1] = s[4 + k] + b1
                }
                j += 2
            }
            if j < outputs.upperBound {
                for k in 0..<4 { out[(r + k) * nOut + j] = PriorKernels.dot(wt + j * nIn, x0 + k * nIn, nIn) + (b?[j] ?? 0) }
            }
            r += 4
        }
        // Pairs of input rows share each load of a weight vector.
        while r + 2 <= rows {
            let x0 = x + r * nIn, x1 = x0 + nIn
            for j in outputs {
                let (s0, s1) = dot2(wt + j * nIn, x0, x1, nIn)
                let bj = b?[j] ?? 0
                out[r * nOut + j] = s0 + bj
                out[(r + 1) * nOut + j] = s1 + bj
            }
            r += 2
        }
        if r < rows {
            let xr = x + r * nIn
            for j in outputs { out[r * nOut + j] = PriorKernels.dot(wt + j * nIn, xr, nIn) + (b?[j] ?? 0) }
        }
    }

    /// (w·a, w·b) reading w once.
    @inline(__always)
    static func dot2(_ w: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var a0 = V(), a1 = V(), b0 = V(), b1 = V()
        let rw = UnsafeRawPointer(w), ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 16 <= n {
            let w0 = rw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            let w1 = rw.loadUnaligned(fromByteOffset: i * 4 + 32, as: V.self)
            a0 += w0 * ra.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            a1 += w1 * ra.loadUnaligned(fromByteOffset: i * 4 + 32, as: V.self)
            b0 += w0 * rb.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            b1 += w1 * rb.loadUnaligned(fromByteOffset: i * 4 + 32, as: V.self)
            i += 16
        }
        var sa = (a0 + a1).sum(), sb = (b0 + b1).sum()
        while i < n { sa += w[i] * a[i]; sb += w[i] * b[i]; i += 1 }
        return (sa, sb)
    }

    /// Dot products of two weight rows with four consecutive input rows (x, x+n, x+2n, x+3n):
    /// [w0·x0, w0·x1, w0·x2, w0·x3, w1·x0, w1·x1, w1·x2, w1·x3].
    @inline(__always)
    static func dot2x4(_ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> SIMD8<Float> {
        typealias Q = SIMD4<Float>
        var a0 = Q(), a1 = Q(), a2 = Q(), a3 = Q(), b0 = Q(), b1 = Q(), b2 = Q(), b3 = Q()
        let ru = UnsafeRawPointer(w0), rv = UnsafeRawPointer(w1)
        let r0 = UnsafeRawPointer(x), r1 = UnsafeRawPointer(x + n), r2 = UnsafeRawPointer(x + 2 * n), r3 = UnsafeRawPointer(x + 3 * n)
        var i = 0
        while i + 4 <= n {
            let o = i * 4
            let u = ru.loadUnaligned(fromByteOffset: o, as: Q.self), v = rv.loadUnaligned(fromByteOffset: o, as: Q.self)
            let p0 = r0.loadUnaligned(fromByteOffset: o, as: Q.self)
            a0 += u * p0; b0 += v * p0
            let p1 = r1.loadUnaligned(fromByteOffset: o, as: Q.self)
            a1 += u * p1; b1 += v * p1
            let p2 = r2.loadUnaligned(fromByteOffset: o, as: Q.self)
            a2 += u * p2; b2 += v * p2
            let p3 = r3.loadUnaligned(fromByteOffset: o, as: Q.self)
            a3 += u * p3; b3 += v * p3
            i += 4
        }
        var s = SIMD8<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum(), b0.sum(), b1.sum(), b2.sum(), b3.sum())
        while i < n {
            for k in 0..<4 {
                s[k] += w0[i] * x[k * n + i]
                s[4 + k] += w1[i] * x[k * n + i]
            }
            i += 1
        }
        return s
    }
}
