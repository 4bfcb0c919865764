import CKernels
import Foundation

/// Activations, normalisation and softmax, in place over raw rows.
public enum Ops {
    public static func relu(_ x: Tensor) -> Tensor {
        let out = Tensor(zeros: x.shape)
        for i in 0..<x.count { out.data[i] = max(x.data[i], 0) }
        return out
    }

    public static func reluInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = max(p[i], 0) }
    }

    /// The reference's transformer MLP activation: x·σ(1.702x).
    public static func quickGeluInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        parallelFor(n, minChunk: 1 << 15) { r in
            for i in r { let v = p[i]; p[i] = v / (1 + expf(-1.702 * v)) }
        }
    }

    /// The tanh approximation of GELU, as the reference's `gelu`.
    public static func geluInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        let c = Float((2 / Double.pi).squareRoot())
        for i in 0..<n { let v = p[i]; p[i] = 0.5 * v * (1 + tanhf(c * (v + 0.044715 * v * v * v))) }
    }

    /// LayerNorm over rows of `width` (eps 1e-5, biased variance, as torch.nn.LayerNorm).
    public static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, gamma: UnsafePointer<Float>,
                                 beta: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, eps: Float = 1e-5) {
        parallelFor(rows, minChunk: max(1, 16384 / max(width, 1))) { range in
            for r in range { jk_layer_norm(x + r * width, Int32(width), gamma, beta, out + r * width, eps) }
        }
    }

    public static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor {
        let width = x.shape.last!
        let out = Tensor(zeros: x.shape)
        layerNorm(x.data, rows: x.count / width, width: width, gamma: gamma.data, beta: beta.data, out.data)
        return out
    }

    /// Softmax of one row in place; entries equal to -inf get probability 0.
    @inline(__always)
    public static func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, p[i]) }
        var s: Float = 0
        for i in 0..<n { let e = expf(p[i] - m); p[i] = e; s += e }
        let inv = 1 / s
        for i in 0..<n { p[i] *= inv }
    }

    /// out[i] = table[ids[i]] rows; table [V, W].
    public static func embedding(_ table: Tensor, _ ids: [Int]) -> Tensor {
        let w = table.shape[1]
        let out = Tensor(zeros: [ids.count, w])
        for (i, id) in ids.enumerated() {
            invariant(id >= 0 && id < table.shape[0], "embedding id \(id) outside 0..<\(table.shape[0])")
            (out.data + i * w).update(from: table.data + id * w, count: w)
        }
        return out
    }

    public static func addInPlace(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { a[i] += b[i] }
    }
}
