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

extension Conv {
    /// Transposed-conv weight w [Cin, Cout, K] → [K, Cout, Cin]: tap k as a Cout×Cin matrix.
    public static func packTransposedTaps(_ w: Tensor) -> Tensor {
        let (cin, cout, k) = (w.shape[0], w.shape[1], w.shape[2])
        let out = Tensor(zeros: [k, cout, cin])
        for ci in 0..<cin {
            for co in 0..<cout {
                for kk in 0..<k { out.data[(kk * cout + co) * cin + ci] = w.data[(ci * cout + co) * k + kk] }
            }
        }
        return out
    }

    /// torch's ConvTranspose1d split by output phase: output position s·m + r only receives taps
    /// k ≡ r + p (mod s), each reading input column m + (r + p − k)/s. So each phase is a sum of
    /// ⌈K/s⌉ plain sgemms over shifted input views (no scatter), written to a phase buffer and then
    /// interleaved into the output, tile by tile so the phase buffers stay in cache.
    /// x [N, Cin, T], taps [K, Cout, Cin], b [Cout] → [N, Cout, (T − 1)s − 2p + K].
    public static func convTranspose1dPhases(_ x: Tensor, taps: Tensor, _ b: Tensor?, stride s: Int,
                                             padding p: Int) -> Tensor {
        let (n, cin, t) = (x.shape[0], x.shape[1], x.shape[2])
        let (k, cout) = (taps.shape[0], taps.shape[1])
        let tout = (t - 1) * s - 2 * p + k
        let out = Tensor(zeros: [n, cout, max(tout, 0)])
        guard tout > 0 else { return out }
        let mTotal = (tout + s - 1) / s             // phase 0 has the most positions
        let tile = min(mTotal, 2048)
        let phases = UnsafeMutablePointer<Float>.allocate(capacity: s * cout * tile)
        defer { phases.deallocate() }
        for item in 0..<n {
            let xi = x.data + item * cin * t, oi = out.data + item * cout * tout
            var m0 = 0
            while m0 < mTotal {
                let w = min(tile, mTotal - m0)
                for r in 0..<s {
                    let buf = phases + r * cout * w
                    for co in 0..<cout { (buf + co * w).update(repeating: b?[co] ?? 0, count: w) }
                    // Positions s·m + r must lie below tout.
                    let mEnd = min(m0 + w, (tout - r + s - 1) / s)
                    guard mEnd > m0 else { continue }
                    var kk = ((r + p) % s + s) % s
                    while kk < k {
                        let offset = (r + p - kk) / s    // exact: r + p − kk is a multiple of s
                        // input column j = m + offset must lie in 0..<t
                        let lo = max(m0, -offset), hi = min(mEnd, t - offset)
                        if hi > lo {
                            BLAS.gemm(taps.data + kk * cout * cin, xi + lo + offset, buf + (lo - m0), m: cout,
                                      n: hi - lo, k: cin, beta: 1, ldb: t, ldc: w)
                        }
                        kk += s
                    }
                }
                parallelFor(cout, minChunk: max(1, 16384 / (w * s))) { range in
                    for co in range {
                        let dst = oi + co * tout
                        for r in 0..<s {
                            let src = phases + (r * cout + co) * w
                            let mEnd = min(m0 + w, (tout - r + s - 1) / s)
                            var m = m0
                            while m < mEnd { dst[m * s + r] = src[m - m0]; m += 1 }
                        }
                    }
                }
                m0 += w
            }
        }
        return out
    }
}
