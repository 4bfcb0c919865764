import CBLAS
import CKernels
/// Small kernels the priors need beyond the shared ones: SIMD dot/axpy for one query's attention, and
/// x_out (an nn.Linear weight [n_out, n_in], already in dot-product layout).
package enum PriorKernels {
    @inline(__always)
    package static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 16 <= n {
            acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            acc1 += ra.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
            i += 16
        }
        if i + 8 <= n {
            acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// y += alpha · x
    @inline(__always)
    package static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        let a = SIMD8<Float>(repeating: alpha)
        while i + 8 <= n {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + a * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// out[rows, nOut] = x[rows, nIn] · wᵀ for w [nOut, nIn] (torch nn.Linear without bias: x_out).
    @inline(__always)
    /// `onPool` runs a few rows on the streaming kernels' threads: what a model with packed layers wants
    /// (OpenBLAS's threads would spin against the pool between calls), and what a float32 model does not
    /// (there the pool would spin against OpenBLAS's: measured twice as slow on the bundled set).
    package static func linearTransposed(_ x: UnsafePointer<Float>, rows: Int, _ w: Tensor, _ out: UnsafeMutablePointer<Float>,
                                 onPool: Bool = false) {
        let nOut = w.shape[0], nIn = w.shape[1]
        if onPool && rows <= PackedMatrix.streamingRows {
            // Already output-major: the streaming kernel reads it in place.
            var m = jk_matrix(format: WeightFormat.f32.code, n_out: Int32(nOut), n_in: Int32(nIn), data: w.data, scales: nil, tiled: 0)
            jk_matvec_parallel(&m, x, Int32(nIn), Int32(rows), nil, out, Int32(nOut))
        } else if rows == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(nOut), Int32(nIn), 1, w.data, Int32(nIn), x, 1, 0, out, 1)
        } else {
            BLAS.gemm(x, w.data, out, m: rows, n: nOut, k: nIn, transB: true)
        }
    }
}

/// Reusable scratch memory for a run: grown on demand, never shrunk, so sampling allocates nothing per token.
final class Scratch {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var sizes: [Int] = []

    /// Buffer `index`, holding at least `count` floats (contents unspecified).
    func buffer(_ index: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        while buffers.count <= index {
            buffers.append(.allocate(capacity: 1))
            sizes.append(1)
        }
        if sizes[index] < count {
            buffers[index].deallocate()
            buffers[index] = .allocate(capacity: count)
            sizes[index] = count
        }
        return buffers[index]
    }

    deinit { for b in buffers { b.deallocate() } }
}
