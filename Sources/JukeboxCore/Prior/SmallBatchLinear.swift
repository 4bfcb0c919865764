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

    /// Weights below this many floats stay on one thread (handing work to another core costs microseconds).
    static let parallelThreshold = 1 << 18

    /// out[r, j] = dot(x[r], wt[j]) + b[j] for r < rows ≤ 16.
    static func dotRows(_ x: UnsafePointer<Float>, rows: Int, _ wt: UnsafePointer<Float>, nIn: Int, nOut: Int,
                        _ b: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>) {
        if rows > 1 && nIn * nOut >= parallelThreshold && ProcessInfoCache.cores > 1 {
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
}
