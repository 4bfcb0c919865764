/// 1-D convolutions over [N, C, T] tensors as torch.nn.Conv1d / ConvTranspose1d compute them,
/// lowered to sgemm over time chunks so memory stays bounded for minutes of audio.
public enum Conv {
    /// Columns of im2col per sgemm call: large enough to keep sgemm efficient, small enough for cache.
    static let chunk = 4096

    /// x [N, Cin, T], w [Cout, Cin, K], b [Cout] → [N, Cout, (T + 2p − d(K−1) − 1)/s + 1].
    public static func conv1d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int = 1, padding: Int = 0,
                              dilation: Int = 1) -> Tensor {
        let (n, cin, t) = (x.shape[0], x.shape[1], x.shape[2])
        let (cout, k) = (w.shape[0], w.shape[2])
        invariant(w.shape[1] == cin, "conv1d: input \(x.shape) vs weight \(w.shape)")
        let tout = (t + 2 * padding - dilation * (k - 1) - 1) / stride + 1
        let out = Tensor(zeros: [n, cout, max(tout, 0)])
        guard tout > 0 else { return out }
        for item in 0..<n {
            let xi = x.data + item * cin * t, oi = out.data + item * cout * tout
            if let b { for c in 0..<cout { (oi + c * tout).update(repeating: b[c], count: tout) } }
            if k == 1 && stride == 1 && padding == 0 {
                BLAS.gemm(w.data, xi, oi, m: cout, n: t, k: cin, beta: 1)
                continue
            }
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: cin * k * min(chunk, tout))
            defer { cols.deallocate() }
            var t0 = 0
            while t0 < tout {
                let width = min(chunk, tout - t0)
                parallelFor(cin, minChunk: 8) { range in
                    for ci in range {
                        for kk in 0..<k {
                            let row = cols + (ci * k + kk) * width
                            let src = xi + ci * t
                            let shift = kk * dilation - padding
                            for j in 0..<width {
                                let pos = (t0 + j) * stride + shift
                                row[j] = (pos >= 0 && pos < t) ? src[pos] : 0
                            }
                        }
                    }
                }
                BLAS.gemm(w.data, cols, oi + t0, m: cout, n: width, k: cin * k, beta: 1, ldc: tout)
                t0 += width
            }
        }
        return out
    }

    /// x [N, Cin, T], w [Cin, Cout, K], b [Cout] → [N, Cout, (T − 1)s − 2p + K].
    public static func convTranspose1d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) -> Tensor {
        let (n, cin, t) = (x.shape[0], x.shape[1], x.shape[2])
        let (cout, k) = (w.shape[1], w.shape[2])
        invariant(w.shape[0] == cin, "convTranspose1d: input \(x.shape) vs weight \(w.shape)")
        let tout = (t - 1) * stride - 2 * padding + k
        let out = Tensor(zeros: [n, cout, tout])
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: cout * k * min(chunk, t))
        defer { cols.deallocate() }
        for item in 0..<n {
            let xi = x.data + item * cin * t, oi = out.data + item * cout * tout
            if let b { for c in 0..<cout { (oi + c * tout).update(repeating: b[c], count: tout) } }
            var t0 = 0
            while t0 < t {
                let width = min(chunk, t - t0)
                // cols[(co·K + kk), j] = Σ_ci w[ci, co, kk] · x[ci, t0 + j]
                BLAS.gemm(w.data, xi + t0, cols, m: cout * k, n: width, k: cin, transA: true,
                          lda: cout * k, ldb: t)
                parallelFor(cout, minChunk: 8) { range in
                    for co in range {
                        let dst = oi + co * tout
                        for kk in 0..<k {
                            let row = cols + (co * k + kk) * width
                            for j in 0..<width {
                                let pos = (t0 + j) * stride - padding + kk
                                if pos >= 0 && pos < tout { dst[pos] += row[j] }
                            }
                        }
                    }
                }
                t0 += width
            }
        }
        return out
    }
}
