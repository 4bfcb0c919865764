/// Stride-1 dilated convolutions as one sgemm per filter tap over a shifted view of the input.
/// For the VQ-VAE's K=3 residual convolutions this avoids im2col entirely: the input is read in
/// place (a column offset and the row stride T), and out-of-range taps at the edges simply skip
/// the columns that would read zero padding. OpenBLAS threads each (large) sgemm.
extension Conv {
    /// w [Cout, Cin, K] → [K, Cout, Cin], so each tap is a contiguous Cout×Cin matrix.
    public static func packTaps(_ w: Tensor) -> Tensor {
        let (cout, cin, k) = (w.shape[0], w.shape[1], w.shape[2])
        let out = Tensor(zeros: [k, cout, cin])
        for co in 0..<cout {
            for ci in 0..<cin {
                for kk in 0..<k { out.data[(kk * cout + co) * cin + ci] = w.data[(co * cin + ci) * k + kk] }
            }
        }
        return out
    }

    /// Output length of a stride-1 convolution.
    @inline(__always)
    public static func tapOutputLength(t: Int, k: Int, padding: Int, dilation: Int) -> Int {
        t + 2 * padding - dilation * (k - 1)
    }

    /// One item: x [Cin, T] → out [Cout, Tout]. Without `accumulate`, out = α·(conv(x) + b);
    /// with it, out += α·(conv(x) + b) (the residual update of a ResConv1DBlock).
    public static func conv1dTaps(x: UnsafePointer<Float>, cin: Int, t: Int, taps: UnsafePointer<Float>,
                                  cout: Int, k: Int, bias: UnsafePointer<Float>?, padding: Int, dilation: Int,
                                  out: UnsafeMutablePointer<Float>, alpha: Float = 1, accumulate: Bool = false) {
        let tout = tapOutputLength(t: t, k: k, padding: padding, dilation: dilation)
        guard tout > 0 else { return }
        if !accumulate || bias != nil {
            parallelFor(cout, minChunk: max(1, 32768 / max(tout, 1))) { range in
                for co in range {
                    let row = out + co * tout
                    let b = bias.map { alpha * $0[co] } ?? 0
                    if accumulate {
                        for j in 0..<tout { row[j] += b }
                    } else {
                        row.update(repeating: b, count: tout)
                    }
                }
            }
        }
        for kk in 0..<k {
            // out[:, j] reads x[:, j + shift]; keep j where that index lies inside 0..<T.
            let shift = kk * dilation - padding
            let lo = max(0, -shift), hi = min(tout, t - shift)
            guard hi > lo else { continue }
            BLAS.gemm(taps + kk * cout * cin, x + lo + shift, out + lo, m: cout, n: hi - lo, k: cin,
                      alpha: alpha, beta: 1, ldb: t, ldc: tout)
        }
    }
}
