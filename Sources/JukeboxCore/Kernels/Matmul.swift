import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Matrix products through cblas_sgemm, row-major.
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, with op(A) m×k and op(B) k×n.
    @inline(__always)
    public static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                            m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                            alpha: Float = 1, beta: Float = 0,
                            lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? (transA ? m : k)), b, Int32(ldb ?? (transB ? k : n)),
                    beta, c, Int32(ldc ?? n))
    }

    /// OpenBLAS thread count (the CLI exposes it so runs can be compared at 1 and 2 threads).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    /// The kernels OpenBLAS chose when it loaded ("Haswell", "SkylakeX", "Zen", …).
    public static var core: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS picks its kernels from the CPU's model when the library loads, and a CPU newer than the
    /// library (Debian 12's 0.3.21 on an Emerald Rapids Xeon) gets its generic SSE3 ones ("Prescott"):
    /// the README's first command took 1.35-1.4 times as long on them as on the AVX-512 ones. The library
    /// reads OPENBLAS_CORETYPE only as it loads, so a program that finds itself on those kernels on a CPU
    /// with AVX-512 starts itself again, before doing anything else, with them named. Nothing happens when
    /// the variable is set already (by the user, or by that restart) or the CPU lacks AVX-512.
    public static func restartOnAVX512KernelsIfGeneric() {
        guard getenv("OPENBLAS_CORETYPE") == nil, core == "Prescott", WeightKernels.isa == "avx512" else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only a failed restart returns here: go on with the kernels there are.
        unsetenv("OPENBLAS_CORETYPE")
    }
}

/// The reference's Conv1D (a linear layer with w stored as [n_in, n_out]): y = x·w + b over the last dim.
public func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
    let nIn = w.shape[0], nOut = w.shape[1]
    invariant(x.shape.last == nIn, "linear: input \(x.shape) vs weight \(w.shape)")
    let rows = x.count / nIn
    let out = Tensor(zeros: Array(x.shape.dropLast()) + [nOut])
    linear(x.data, rows: rows, w.data, nIn: nIn, nOut: nOut, b?.data, out.data)
    return out
}

@inline(__always)
public func linear(_ x: UnsafePointer<Float>, rows: Int, _ w: UnsafePointer<Float>, nIn: Int, nOut: Int,
                   _ b: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
    if let b, !accumulate {
        for r in 0..<rows { (out + r * nOut).update(from: b, count: nOut) }
    } else if let b {
        for r in 0..<rows { for j in 0..<nOut { out[r * nOut + j] += b[j] } }
    }
    BLAS.gemm(x, w, out, m: rows, n: nOut, k: nIn, beta: (b != nil || accumulate) ? 1 : 0)
}
