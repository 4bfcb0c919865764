import CBLAS
import CKernels
import Foundation

/// A reference Conv1D (y = x·w + b, w [n_in, n_out]). A float32 `w` is the checkpoint's tensor, memory-mapped,
/// never copied or transposed: a sampling step's one to four rows go through the rows kernel on the kernels'
/// pool, more rows through sgemm. A packed weight (f16, bf16, q8, q4) is computed from as it is stored,
/// its bytes streamed once per step for every row of the batch.
public struct LinearWeight: @unchecked Sendable {
    public enum Storage: @unchecked Sendable {
        case dense(Tensor)            // [nIn, nOut]
        case packed(PackedMatrix)
    }

    public let storage: Storage
    public let b: Tensor?      // [nOut]
    public let nIn: Int
    public let nOut: Int

    public init(w: Tensor, b: Tensor?) {
        storage = .dense(w)
        self.b = b
        nIn = w.shape[0]
        nOut = w.shape[1]
    }

    public init(packed: PackedMatrix, b: Tensor?) {
        storage = .packed(packed)
        self.b = b
        nIn = packed.nIn
        nOut = packed.nOut
    }

    /// The most rows a float32 product takes through the rows kernel rather than sgemm (from 8 rows on
    /// sgemm's arithmetic wins: a width-512 prior's batch of 8 gave 2250 tokens/s against 1540).
    static let rowsMost = 4

    /// Whether the rows kernel is used here (AVX-512). JK_F32_ROWS=off keeps sgemv and sgemm (to compare on one
    /// machine).
    static let rowsKernel = jk_rows_available() != 0 && ProcessInfo.processInfo.environment["JK_F32_ROWS"] != "off"

    /// Whether `rows` rows through a float32 weight go through the kernels' pool (`jk_rows_product`, split by
    /// inputs) rather than OpenBLAS.
    static func denseRowsOnPool(_ rows: Int) -> Bool { rows <= rowsMost && rowsKernel }

    /// The float32 weight, when it is kept as one.
    public var w: Tensor? {
        if case .dense(let t) = storage { return t }
        return nil
    }

    /// The float32 weight training reads and updates (trainable models are always built from float32).
    package var trainable: Tensor {
        guard case .dense(let t) = storage else { fatalError("training reached a packed \(format.rawValue) weight") }
        return t
    }

    public var format: WeightFormat {
        if case .packed(let p) = storage { return p.format }
        return .f32
    }

    /// Bytes a sampling step reads for this layer's weight.
    public var weightBytes: Int {
        switch storage {
        case .dense(let t): 4 * t.count
        case .packed(let p): p.bytes
        }
    }

    /// out[rows, nOut] = x[rows, nIn]·w + b, then the epilogue. `next`: the weight the caller multiplies by next
    /// (packed weights start reading it as they finish).
    package func apply(_ x: UnsafePointer<Float>, rows: Int, _ out: UnsafeMutablePointer<Float>,
                       then epilogue: ProductEpilogue = .none, next: LinearWeight? = nil) {
        switch storage {
        case .packed(let p):
            var following: PackedMatrix? = nil
            if case .packed(let n)? = next?.storage { following = n }
            p.apply(x, rows: rows, bias: b.map { UnsafePointer($0.data) }, out, then: epilogue, next: following)
        case .dense(let w):
            if LinearWeight.denseRowsOnPool(rows) {
                // Each weight read once for every row, streamed in the order memory holds it, on the pool.
                var e = epilogue.kernelEpilogue(nOut: nOut)
                jk_rows_product(w.data, Int32(nIn), Int32(nOut), x, Int32(nIn), Int32(rows), b.map { UnsafePointer($0.data) }, out, &e)
                return
            }
            defer { epilogue.apply(out, count: rows * nOut) }
            if let b { for r in 0..<rows { (out + r * nOut).update(from: b.data, count: nOut) } }
            let beta: Float = b == nil ? 0 : 1
            if rows == 1 {
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(nIn), Int32(nOut), 1, w.data, Int32(nOut), x, 1, beta, out, 1)
            } else {
                BLAS.gemm(x, w.data, out, m: rows, n: nOut, k: nIn, beta: beta)
            }
        }
    }
}

/// What a product does to its outputs once computed: nothing, the MLP's activation, or add them to a
/// residual stream of the same shape. Packed weights do it inside the product, on each thread's outputs.
package enum ProductEpilogue {
    case none
    case quickGelu
    case add(into: UnsafeMutablePointer<Float>)

    /// The same for the C kernels, which do it on each thread's own outputs (`next`: the weight read after).
    func kernelEpilogue(nOut: Int, next: UnsafePointer<jk_matrix>? = nil) -> jk_epilogue {
        switch self {
        case .none: jk_epilogue(quick_gelu: 0, add_into: nil, ld_add: 0, next: next)
        case .quickGelu: jk_epilogue(quick_gelu: 1, add_into: nil, ld_add: 0, next: next)
        case .add(let into): jk_epilogue(quick_gelu: 0, add_into: into, ld_add: Int32(nOut), next: next)
        }
    }

    /// The epilogue on `count` outputs computed elsewhere (float32 weights, sgemm-sized batches).
    func apply(_ out: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none: break
        case .quickGelu: Ops.quickGeluInPlace(out, count)
        case .add(let into): for i in 0..<count { into[i] += out[i] }
        }
    }
}
