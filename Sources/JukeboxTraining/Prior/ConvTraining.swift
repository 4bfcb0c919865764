import Foundation
import JukeboxCore

/// Training forwards and backwards of the conditioner's convolutions, from the layers' own weight tensors
/// (never their packed copies, so an optimizer step is seen at once). Each is one sgemm over an im2col
/// matrix per item: cols[(ci·K + k), j] = x[ci, j·stride + k·dilation − padding] (zero outside).
enum ConvTraining {
    static func im2col(_ x: UnsafePointer<Float>, cin: Int, t: Int, k: Int, stride: Int, padding: Int,
                       dilation: Int, tout: Int, _ cols: UnsafeMutablePointer<Float>) {
        for ci in 0..<cin {
            for kk in 0..<k {
                let row = cols + (ci * k + kk) * tout, shift = kk * dilation - padding
                for j in 0..<tout {
                    let pos = j * stride + shift
                    row[j] = pos >= 0 && pos < t ? x[ci * t + pos] : 0
                }
            }
        }
    }

    /// The adjoint of im2col: dx[ci, pos] += dcols[(ci·K + k), j].
    static func col2im(_ dcols: UnsafePointer<Float>, cin: Int, t: Int, k: Int, stride: Int, padding: Int,
                       dilation: Int, tout: Int, _ dx: UnsafeMutablePointer<Float>) {
        for ci in 0..<cin {
            for kk in 0..<k {
                let row = dcols + (ci * k + kk) * tout, shift = kk * dilation - padding
                for j in 0..<tout {
                    let pos = j * stride + shift
                    if pos >= 0 && pos < t { dx[ci * t + pos] += row[j] }
                }
            }
        }
    }

    /// torch Conv1d over x [N, Cin, T] → [N, Cout, T'].
    static func conv1d(_ l: Conv1DLayer, _ x: Tensor) -> Tensor {
        let n = x.shape[0], t = x.shape[2], tout = l.outputLength(t), ck = l.cin * l.k
        let out = Tensor(zeros: [n, l.cout, tout])
        let cols = Tensor(zeros: [ck, tout])
        for item in 0..<n {
            im2col(x.data + item * l.cin * t, cin: l.cin, t: t, k: l.k, stride: l.stride, padding: l.padding,
                   dilation: l.dilation, tout: tout, cols.data)
            let o = out.data + item * l.cout * tout
            for c in 0..<l.cout { (o + c * tout).update(repeating: l.bias[c], count: tout) }
            BLAS.gemm(l.weight.data, cols.data, o, m: l.cout, n: tout, k: ck, beta: 1)
        }
        return out
    }

    /// dW += dy·colsᵀ, db += Σ dy, and returns dx.
    static func conv1dBackward(_ l: Conv1DLayer, _ x: Tensor, _ dy: Tensor, grads: Gradients) -> Tensor {
        let n = x.shape[0], t = x.shape[2], tout = dy.shape[2], ck = l.cin * l.k
        let dx = Tensor(zeros: x.shape)
        let cols = Tensor(zeros: [ck, tout]), dcols = Tensor(zeros: [ck, tout])
        let dw = grads.of(l.weight), db = grads.of(l.bias)
        for item in 0..<n {
            let d = dy.data + item * l.cout * tout
            im2col(x.data + item * l.cin * t, cin: l.cin, t: t, k: l.k, stride: l.stride, padding: l.padding,
                   dilation: l.dilation, tout: tout, cols.data)
            BLAS.gemm(d, cols.data, dw, m: l.cout, n: ck, k: tout, transB: true, beta: 1)
            for c in 0..<l.cout { for j in 0..<tout { db[c] += d[c * tout + j] } }
            BLAS.gemm(l.weight.data, d, dcols.data, m: ck, n: tout, k: l.cout, transA: true)
            col2im(dcols.data, cin: l.cin, t: t, k: l.k, stride: l.stride, padding: l.padding, dilation: l.dilation,
                   tout: tout, dx.data + item * l.cin * t)
        }
        return dx
    }

    /// torch ConvTranspose1d, weight [Cin, Cout, K]: the adjoint of a strided conv, so out[co, j·s + k − p] +=
    /// Σ_ci w[ci, co, k]·x[ci, j]. Through the same im2col indexing, on the output: cols = Wᵀx, then col2im.
    static func convTranspose1d(_ l: ConvTranspose1DLayer, _ x: Tensor) -> Tensor {
        let n = x.shape[0], cin = x.shape[1], t = x.shape[2]
        let cout = l.weight.shape[1], k = l.weight.shape[2]
        let tout = (t - 1) * l.stride - 2 * l.padding + k
        let out = Tensor(zeros: [n, cout, tout])
        let cols = Tensor(zeros: [cout * k, t])
        for item in 0..<n {
            BLAS.gemm(l.weight.data, x.data + item * cin * t, cols.data, m: cout * k, n: t, k: cin, transA: true)
            let o = out.data + item * cout * tout
            for c in 0..<cout { (o + c * tout).update(repeating: l.bias[c], count: tout) }
            col2im(cols.data, cin: cout, t: tout, k: k, stride: l.stride, padding: l.padding, dilation: 1, tout: t, o)
        }
        return out
    }

    static func convTranspose1dBackward(_ l: ConvTranspose1DLayer, _ x: Tensor, _ dy: Tensor, grads: Gradients) -> Tensor {
        let n = x.shape[0], cin = x.shape[1], t = x.shape[2]
        let cout = l.weight.shape[1], k = l.weight.shape[2], tout = dy.shape[2]
        let dx = Tensor(zeros: x.shape)
        let dcols = Tensor(zeros: [cout * k, t])
        let dw = grads.of(l.weight), db = grads.of(l.bias)
        for item in 0..<n {
            let d = dy.data + item * cout * tout
            for c in 0..<cout { for j in 0..<tout { db[c] += d[c * tout + j] } }
            im2col(d, cin: cout, t: tout, k: k, stride: l.stride, padding: l.padding, dilation: 1, tout: t, dcols.data)
            // dW[ci, (co·K + k)] += Σ_j x[ci, j]·dcols[(co·K + k), j];  dx = W·dcols.
            BLAS.gemm(x.data + item * cin * t, dcols.data, dw, m: cin, n: cout * k, k: t, transB: true, beta: 1)
            BLAS.gemm(l.weight.data, dcols.data, dx.data + item * cin * t, m: cin, n: t, k: cout * k)
        }
        return dx
    }
}
