/// Codes of one level for a batch: `n` rows of `t` codes, row-major.
public struct LevelCodes: Sendable, Equatable {
    public let n: Int
    public let t: Int
    public let values: [Int]

    public init(n: Int, t: Int, values: [Int]) throws {
        guard n >= 0, t >= 0, values.count == n * t else {
            throw JukeboxError("codes", "\(values.count) values do not fill \(n) rows of \(t)")
        }
        (self.n, self.t, self.values) = (n, t, values)
    }

    /// For values known to fit (made here).
    init(n: Int, t: Int, uncheckedValues values: [Int]) {
        (self.n, self.t, self.values) = (n, t, values)
    }

    /// Row `i` (one batch item).
    public func row(_ i: Int) -> ArraySlice<Int> { values[(i * t)..<((i + 1) * t)] }
}

/// One level's codebook (the reference's BottleneckBlock at inference): nearest-entry quantisation
/// and embedding lookup. Key: `k` [l_bins, emb_width].
package struct BottleneckBlock: @unchecked Sendable {
    package let codebook: Tensor    // [l_bins, emb_width]
    /// Σ k² per entry, computed once.
    let squaredNorms: [Float]
    let bins: Int, width: Int

    init<P: ParameterSource>(_ p: P, bins: Int, width: Int) throws {
        let k = try p.parameter("k", [bins, width], .normal(std: 1))
        codebook = k
        squaredNorms = (0..<bins).map { b in
            var s: Float = 0
            for j in 0..<width { let v = k.data[b * width + j]; s += v * v }
            return s
        }
        (self.bins, self.width) = (bins, width)
    }

    /// x [N, emb_width, T] → codes: argmin over entries of ‖x‖² − 2x·k + ‖k‖², as the reference does.
    func encode(_ x: Tensor) -> LevelCodes {
        let (n, t) = (x.shape[0], x.shape[2])
        var codes = [Int](repeating: 0, count: n * t)
        let rowsPerChunk = 1024
        let dots = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerChunk * bins)
        defer { dots.deallocate() }
        codes.withUnsafeMutableBufferPointer { out in
            for item in 0..<n {
                let xi = x.data + item * width * t
                var t0 = 0
                while t0 < t {
                    let rows = min(rowsPerChunk, t - t0)
                    // dots[r, b] = x[:, t0 + r] · k[b]   (x is channel-major, hence the transposed A)
                    BLAS.gemm(xi + t0, codebook.data, dots, m: rows, n: bins, k: width, transA: true, transB: true,
                              lda: t, ldb: width)
                    parallelFor(rows, minChunk: 64) { range in
                        for r in range {
                            var xx: Float = 0
                            for c in 0..<width { let v = xi[c * t + t0 + r]; xx += v * v }
                            let row = dots + r * bins
                            var best = 0
                            var bestDistance = Float.infinity
                            for b in 0..<bins {
                                let d = xx - 2 * row[b] + squaredNorms[b]
                                if d < bestDistance { bestDistance = d; best = b }
                            }
                            out[item * t + t0 + r] = best
                        }
                    }
                    t0 += rows
                }
            }
        }
        return LevelCodes(n: n, t: t, uncheckedValues: codes)
    }

    /// codes → [N, emb_width, T]; throws on a code outside 0..<l_bins.
    func decode(_ codes: LevelCodes) throws -> Tensor {
        if let (i, bad) = codes.values.enumerated().first(where: { $0.element < 0 || $0.element >= bins }) {
            throw JukeboxError("codes", "code \(bad) at position \(i % max(codes.t, 1)) of row \(i / max(codes.t, 1)) is outside 0..<\(bins)")
        }
        let (n, t) = (codes.n, codes.t)
        let out = Tensor(zeros: [n, width, t])
        for item in 0..<n {
            let o = out.data + item * width * t
            for j in 0..<t {
                let entry = codebook.data + codes.values[item * t + j] * width
                for c in 0..<width { o[c * t + j] = entry[c] }
            }
        }
        return out
    }
}
