import Foundation
import JukeboxCore

/// Training forward and backward of stride-1 (dilated) convolutions as one sgemm per filter tap over
/// shifted views of the input, with no im2col: the residual blocks' K=3 and 1×1 convolutions, which
/// carry most of a VQ-VAE's work. The taps are repacked from the layer's own weight on every call
/// (a few thousand floats), so an optimizer step is seen at once. Columns of the output whose tap would
/// read the zero padding are simply left out of that tap's product.
enum TapConvTraining {
    /// Output columns [lo, hi) that tap `kk` reads inside the input, and the shift j → j + shift.
    @inline(__always)
    static func span(_ l: Conv1DLayer, tap kk: Int, t: Int, tout: Int) -> (lo: Int, hi: Int, shift: Int) {
        let shift = kk * l.dilation - l.padding
        return (max(0, -shift), min(tout, t - shift), shift)
    }

    /// x [N, Cin, T] → [N, Cout, T'] (stride 1).
    static func forward(_ l: Conv1DLayer, _ x: Tensor) -> Tensor {
        let (n, t) = (x.shape[0], x.shape[2])
        let tout = max(l.outputLength(t), 0)
        let out = Tensor(zeros: [n, l.cout, tout])
        guard tout > 0 else { return out }
        let taps = Conv.packTaps(l.weight)
        let (cin, cout) = (l.cin, l.cout)
        let xp = x.data, op = out.data, tp = taps.data, bp = l.bias.data
        for item in 0..<n {
            let xi = xp + item * cin * t, oi = op + item * cout * tout
            for co in 0..<cout { (oi + co * tout).update(repeating: bp[co], count: tout) }
            for kk in 0..<l.k {
                let (lo, hi, shift) = span(l, tap: kk, t: t, tout: tout)
                guard hi > lo else { continue }
                BLAS.gemm(tp + kk * cout * cin, xi + lo + shift, oi + lo, m: cout, n: hi - lo, k: cin,
                          beta: 1, ldb: t, ldc: tout)
            }
        }
        return out
    }

    /// dW += Σ dy·x_shiftedᵀ per tap, db += Σ dy, and returns dx = Σ_k W_kᵀ·dy (shifted back).
    static func backward(_ l: Conv1DLayer, _ x: Tensor, _ dy: Tensor, grads: Gradients) -> Tensor {
        let (n, t, tout) = (x.shape[0], x.shape[2], dy.shape[2])
        let (cin, cout, k) = (l.cin, l.cout, l.k)
        let dx = Tensor(zeros: x.shape)
        let taps = Conv.packTaps(l.weight)
        let dTaps = Tensor(zeros: [k, cout, cin])
        let xp = x.data, dyp = dy.data, dxp = dx.data, tp = taps.data, dtp = dTaps.data
        let db = grads.of(l.bias)
        for item in 0..<n {
            let xi = xp + item * cin * t, di = dyp + item * cout * tout, dxi = dxp + item * cin * t
            parallelFor(cout, minChunk: max(1, 16384 / max(tout, 1))) { range in
                for co in range {
                    var s: Float = 0
                    let row = di + co * tout
                    for j in 0..<tout { s += row[j] }
                    db[co] += s
                }
            }
            for kk in 0..<k {
                let (lo, hi, shift) = span(l, tap: kk, t: t, tout: tout)
                guard hi > lo else { continue }
                // dW_k[co, ci] += Σ_j dy[co, j]·x[ci, j + shift]
                BLAS.gemm(di + lo, xi + lo + shift, dtp + kk * cout * cin, m: cout, n: cin, k: hi - lo,
                          transB: true, beta: 1, lda: tout, ldb: t)
                // dx[ci, j + shift] += Σ_co W_k[co, ci]·dy[co, j]
                BLAS.gemm(tp + kk * cout * cin, di + lo, dxi + lo + shift, m: cin, n: hi - lo, k: cout,
                          transA: true, beta: 1, lda: cin, ldb: tout, ldc: t)
            }
        }
        let dw = grads.of(l.weight)
        for co in 0..<cout {
            for ci in 0..<cin {
                for kk in 0..<k { dw[(co * cin + ci) * k + kk] += dtp[(kk * cout + co) * cin + ci] }
            }
        }
        return dx
    }
}

/// The residual block's training forward and backward on the tap path. The tape keeps the block's
/// input x and the hidden pre-activation h (both ReLU inputs); relu(x) and relu(h) are recomputed in
/// the backward, which is cheaper than storing them.
extension ResConv1DBlock {
    /// x + res_scale·conv1(relu(conv3(relu(x)))).
    func tapForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        let r0 = Self.relu(x)
        let h = TapConvTraining.forward(conv3, r0)
        let m = TapConvTraining.forward(conv1, Self.relu(h))
        tape.push(x, feedsReLU: true)
        tape.push(h, feedsReLU: true)
        let out = Tensor(zeros: x.shape)
        let (xp, mp, op, s, count) = (x.data, m.data, out.data, resScale, x.count)
        parallelFor(count, minChunk: 1 << 15) { r in for i in r { op[i] = xp[i] + s * mp[i] } }
        return out
    }

    func tapBackward(_ dOut: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        let h = tape.pop(), x = tape.pop()
        let dm = Tensor(zeros: dOut.shape)
        let (dop, dmp, s) = (dOut.data, dm.data, resScale)
        parallelFor(dOut.count, minChunk: 1 << 15) { r in for i in r { dmp[i] = s * dop[i] } }
        let da = TapConvTraining.backward(conv1, Self.relu(h), dm, grads: grads)
        let (dap, hp) = (da.data, h.data)
        parallelFor(da.count, minChunk: 1 << 15) { r in for i in r where hp[i] <= 0 { dap[i] = 0 } }
        let dr0 = TapConvTraining.backward(conv3, Self.relu(x), da, grads: grads)
        let dx = Tensor(zeros: x.shape)
        let (xp, drp, dxp) = (x.data, dr0.data, dx.data)
        parallelFor(dx.count, minChunk: 1 << 15) { r in
            for i in r { dxp[i] = dop[i] + (xp[i] > 0 ? drp[i] : 0) }
        }
        return dx
    }

    static func relu(_ x: Tensor) -> Tensor {
        let out = Tensor(zeros: x.shape)
        let (xp, op) = (x.data, out.data)
        parallelFor(x.count, minChunk: 1 << 15) { r in for i in r { op[i] = max(xp[i], 0) } }
        return out
    }
}
