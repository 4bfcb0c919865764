import Foundation
import JukeboxCore

/// Backward passes of the small layers, each beside the forward it undoes (the llm.c habit). A training
/// forward keeps what its backward needs; `d…` buffers hold gradients of the loss.
enum Backward {
    /// Reference Conv1D y = x·w + b (w [nIn, nOut]): dw += xᵀ·dy, db += Σ_rows dy, and dx = dy·wᵀ
    /// (added to dx when `accumulate`, else written).
    static func linear(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, rows: Int, _ weight: LinearWeight,
                       grads: Gradients, dx: UnsafeMutablePointer<Float>?, accumulate: Bool = false) {
        let nIn = weight.nIn, nOut = weight.nOut
        BLAS.gemm(x, dy, grads.of(weight.trainable), m: nIn, n: nOut, k: rows, transA: true, beta: 1)
        if let b = weight.b {
            let db = grads.of(b)
            for r in 0..<rows { Ops.addInPlace(db, dy + r * nOut, nOut) }
        }
        if let dx {
            BLAS.gemm(dy, weight.trainable.data, dx, m: rows, n: nIn, k: nOut, transB: true, beta: accumulate ? 1 : 0)
        }
    }

    /// torch nn.Linear without bias, y = x·wᵀ (w [nOut, nIn]): x_out and prime_x_out.
    static func linearTransposed(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, rows: Int, _ w: Tensor,
                                 grads: Gradients, dx: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let nOut = w.shape[0], nIn = w.shape[1]
        BLAS.gemm(dy, x, grads.of(w), m: nOut, n: nIn, k: rows, transA: true, beta: 1)
        BLAS.gemm(dy, w.data, dx, m: rows, n: nIn, k: nOut, beta: accumulate ? 1 : 0)
    }

    /// The reference's quick-GELU x·σ(1.702x): dx = dy·(σ + 1.702·x·σ·(1 − σ)), from the input x.
    static func quickGelu(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, minChunk: 1 << 15) { r in
            for i in r {
                let v = x[i], s = 1 / (1 + expf(-1.702 * v))
                dx[i] = dy[i] * (s + 1.702 * v * s * (1 - s))
            }
        }
    }

    /// Rows of embedding-table gradients: dtable[ids[i]] += dy[i] for each row i (ids < 0 skipped).
    static func embedding(_ table: Tensor, ids: [Int], _ dy: UnsafePointer<Float>, grads: Gradients) {
        let w = table.shape[1], g = grads.of(table)
        for (i, id) in ids.enumerated() where id >= 0 { Ops.addInPlace(g + id * w, dy + i * w, w) }
    }
}

/// LayerNorm with what its backward needs: the normalised rows and each row's 1/σ.
struct LayerNormTape {
    let xhat: Tensor      // [rows, width]
    let rstd: [Float]     // [rows]

    /// out = LayerNorm(x)·γ + β as Ops.layerNorm computes it (eps 1e-5, biased variance).
    static func forward(_ x: UnsafePointer<Float>, rows: Int, width: Int, gamma: Tensor, beta: Tensor,
                        _ out: UnsafeMutablePointer<Float>, eps: Float = 1e-5) -> LayerNormTape {
        let xhat = Tensor(zeros: [rows, width])
        var rstd = [Float](repeating: 0, count: rows)
        rstd.withUnsafeMutableBufferPointer { rs in
            let rs = rs.baseAddress!
            parallelFor(rows, minChunk: max(1, 16384 / max(width, 1))) { range in
                for r in range {
                    let src = x + r * width, xh = xhat.data + r * width, dst = out + r * width
                    var mean: Float = 0
                    for j in 0..<width { mean += src[j] }
                    mean /= Float(width)
                    var v: Float = 0
                    for j in 0..<width { let d = src[j] - mean; v += d * d }
                    let inv = 1 / (v / Float(width) + eps).squareRoot()
                    rs[r] = inv
                    for j in 0..<width {
                        xh[j] = (src[j] - mean) * inv
                        dst[j] = xh[j] * gamma[j] + beta[j]
                    }
                }
            }
        }
        return LayerNormTape(xhat: xhat, rstd: rstd)
    }

    /// dγ += Σ dy·x̂, dβ += Σ dy, and dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ
    /// (added to dx when `accumulate`).
    func backward(_ dy: UnsafePointer<Float>, gamma: Tensor, beta: Tensor, grads: Gradients,
                  dx: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let rows = rstd.count, width = xhat.shape[1]
        let dg = grads.of(gamma), db = grads.of(beta)
        for r in 0..<rows {
            let d = dy + r * width, xh = xhat.data + r * width
            for j in 0..<width { dg[j] += d[j] * xh[j]; db[j] += d[j] }
        }
        rstd.withUnsafeBufferPointer { rs in
            let rs = rs.baseAddress!
            parallelFor(rows, minChunk: max(1, 16384 / max(width, 1))) { range in
                for r in range {
                    let d = dy + r * width, xh = xhat.data + r * width, o = dx + r * width
                    var mg: Float = 0, mgx: Float = 0
                    for j in 0..<width { let g = d[j] * gamma[j]; mg += g; mgx += g * xh[j] }
                    mg /= Float(width); mgx /= Float(width)
                    for j in 0..<width {
                        let v = rs[r] * (d[j] * gamma[j] - mg - xh[j] * mgx)
                        o[j] = accumulate ? o[j] + v : v
                    }
                }
            }
        }
    }
}
