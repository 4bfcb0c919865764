import CBLAS

/// A reference Conv1D (y = x·w + b, w [n_in, n_out]) used in place: `w` is the checkpoint's tensor,
/// memory-mapped, never copied or transposed. A sampling step's single row goes through OpenBLAS's
/// threaded matrix-vector kernel, which streams the weight once at close to memory bandwidth; several
/// rows (batched samples, priming, full forwards) through sgemm.
public struct LinearWeight: @unchecked Sendable {
    public let w: Tensor       // [nIn, nOut]
    public let b: Tensor?      // [nOut]

    public init(w: Tensor, b: Tensor?) {
        self.w = w
        self.b = b
    }

    public var nIn: Int { w.shape[0] }
    public var nOut: Int { w.shape[1] }

    /// out[rows, nOut] = x[rows, nIn]·w + b.
    func apply(_ x: UnsafePointer<Float>, rows: Int, _ out: UnsafeMutablePointer<Float>) {
        if let b { for r in 0..<rows { (out + r * nOut).update(from: b.data, count: nOut) } }
        let beta: Float = b == nil ? 0 : 1
        if rows == 1 {
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(nIn), Int32(nOut), 1, w.data, Int32(nOut), x, 1, beta, out, 1)
        } else {
            BLAS.gemm(x, w.data, out, m: rows, n: nOut, k: nIn, beta: beta)
        }
    }
}
