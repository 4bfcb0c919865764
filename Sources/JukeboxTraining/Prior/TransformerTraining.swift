import Foundation
import JukeboxCore

/// What one ResAttnBlock's training forward keeps for its backward.
final class ResAttnBlockTape {
    let x: Tensor            // [rows, width] block input
    let ln0: LayerNormTape
    let h0: Tensor           // ln_0(x)
    let qkv: Tensor          // [rows, 3·nState] (decode layers: [rows, nState] queries)
    let encKV: Tensor?       // [batch·encoderDims, 2·nState] decode layers: c_enc_kv(encoder_kv)
    let a: Tensor            // [rows, nState] attention output before c_proj
    let lse: Tensor          // [batch, heads, length]
    let x2: Tensor           // x + c_proj(a)
    let ln1: LayerNormTape
    let h1: Tensor           // ln_1(x2)
    let f: Tensor            // [rows, mlpWidth] c_fc output before quick-GELU
    let g: Tensor            // quick-GELU(f)

    init(x: Tensor, ln0: LayerNormTape, h0: Tensor, qkv: Tensor, encKV: Tensor?, a: Tensor, lse: Tensor,
         x2: Tensor, ln1: LayerNormTape, h1: Tensor, f: Tensor, g: Tensor) {
        self.x = x; self.ln0 = ln0; self.h0 = h0; self.qkv = qkv; self.encKV = encKV; self.a = a; self.lse = lse
        self.x2 = x2; self.ln1 = ln1; self.h1 = h1; self.f = f; self.g = g
    }
}

extension ResAttnBlockWeights {
    /// The attention operands inside qkv (and encKV for decode layers).
    func operands(qkv: Tensor, encKV: Tensor?, config c: TransformerConfig, length: Int, encoderDims: Int)
        -> AttentionTraining.Operands {
        let ns = c.nState
        if kind == .decode, let encKV {
            return .init(q: qkv.data, qStride: ns, k: encKV.data, v: encKV.data + ns, kvStride: 2 * ns,
                         length: length, keyLength: encoderDims)
        }
        return .init(q: qkv.data, qStride: 3 * ns, k: qkv.data + ns, v: qkv.data + 2 * ns, kvStride: 3 * ns,
                     length: length, keyLength: length)
    }

    /// h = x + a + m (or x + res_scale·(a + m)) with a = attn(ln_0(x)), m = mlp(ln_1(x + a)), as the reference's
    /// ResAttnBlock; x [batch·length, width].
    func trainingForward(_ x: Tensor, config c: TransformerConfig, batch: Int, length L: Int,
                         encoderKV: Tensor?) -> (Tensor, ResAttnBlockTape) {
        let w = c.width, ns = c.nState, rows = batch * L
        let h0 = Tensor(zeros: [rows, w])
        let ln0 = LayerNormTape.forward(x.data, rows: rows, width: w, gamma: ln0W, beta: ln0B, h0.data)
        let qkv = Tensor(zeros: [rows, cAttn.nOut])
        cAttn.apply(h0.data, rows: rows, qkv.data)
        var encKV: Tensor? = nil
        var encDims = 0
        if kind == .decode, let encoderKV, let cEncKv {
            encDims = encoderKV.shape[1]
            let kv = Tensor(zeros: [batch * encDims, 2 * ns])
            cEncKv.apply(encoderKV.data, rows: batch * encDims, kv.data)
            encKV = kv
        }
        let a = Tensor(zeros: [rows, ns])
        let lse = Tensor(zeros: [batch, c.heads, L])
        AttentionTraining.forward(AttentionPattern(kind: kind, config: c),
                                  operands(qkv: qkv, encKV: encKV, config: c, length: L, encoderDims: encDims),
                                  batch: batch, heads: c.heads, dh: c.headWidth, out: a.data, outStride: ns, lse: lse.data)
        let attnOut = Tensor(zeros: [rows, w])
        cProj.apply(a.data, rows: rows, attnOut.data)
        let x2 = Tensor(zeros: [rows, w])
        let xp = x.data, ap = attnOut.data, x2p = x2.data
        for i in 0..<(rows * w) { x2p[i] = xp[i] + ap[i] }
        let h1 = Tensor(zeros: [rows, w])
        let ln1 = LayerNormTape.forward(x2.data, rows: rows, width: w, gamma: ln1W, beta: ln1B, h1.data)
        let f = Tensor(zeros: [rows, c.mlpWidth])
        fc.apply(h1.data, rows: rows, f.data)
        let g = f.copy()
        Ops.quickGeluInPlace(g.data, g.count)
        let m = Tensor(zeros: [rows, w])
        proj.apply(g.data, rows: rows, m.data)
        let out = Tensor(zeros: [rows, w])
        let rs = c.residualScale, op = out.data, mp = m.data
        if rs == 1 {
            for i in 0..<(rows * w) { op[i] = x2p[i] + mp[i] }
        } else {
            for i in 0..<(rows * w) { op[i] = xp[i] + rs * (ap[i] + mp[i]) }
        }
        let tape = ResAttnBlockTape(x: x, ln0: ln0, h0: h0, qkv: qkv, encKV: encKV, a: a, lse: lse, x2: x2,
                                    ln1: ln1, h1: h1, f: f, g: g)
        return (out, tape)
    }

    /// From dOut (gradient of the block's output) returns dx; adds the weights' gradients, and for decode
    /// layers the gradient of encoder_kv into dEncoderKV.
    func trainingBackward(_ dOut: Tensor, tape t: ResAttnBlockTape, config c: TransformerConfig, batch: Int,
                          length L: Int, grads: Gradients, encoderKV: Tensor?, dEncoderKV: Tensor?,
                          guide: AttentionGuide? = nil) -> Tensor {
        let w = c.width, ns = c.nState, rows = batch * L, rs = c.residualScale
        // m and a both reach the output through res_scale.
        let dBranch = Tensor(zeros: [rows, w])
        let dop = dOut.data, dbp = dBranch.data
        for i in 0..<(rows * w) { dbp[i] = rs * dop[i] }
        let dg = Tensor(zeros: [rows, c.mlpWidth])
        Backward.linear(t.g.data, dBranch.data, rows: rows, proj, grads: grads, dx: dg.data)
        let df = Tensor(zeros: [rows, c.mlpWidth])
        Backward.quickGelu(t.f.data, dg.data, df.data, df.count)
        let dh1 = Tensor(zeros: [rows, w])
        Backward.linear(t.h1.data, df.data, rows: rows, fc, grads: grads, dx: dh1.data)
        // dx2 = ln_1ᵀ(dh1); d(attn out) = res_scale·dOut + dx2.
        let dAttnOut = dBranch
        t.ln1.backward(dh1.data, gamma: ln1W, beta: ln1B, grads: grads, dx: dAttnOut.data, accumulate: true)
        let da = Tensor(zeros: [rows, ns])
        Backward.linear(t.a.data, dAttnOut.data, rows: rows, cProj, grads: grads, dx: da.data)

        let encDims = t.encKV == nil ? 0 : t.encKV!.shape[0] / batch
        let dqkv = Tensor(zeros: t.qkv.shape)
        let dEncKV = t.encKV.map { Tensor(zeros: $0.shape) }
        let o = operands(qkv: t.qkv, encKV: t.encKV, config: c, length: L, encoderDims: encDims)
        let d = operands(qkv: dqkv, encKV: dEncKV, config: c, length: L, encoderDims: encDims)
        AttentionTraining.backward(AttentionPattern(kind: kind, config: c), o, d, batch: batch, heads: c.heads,
                                   dh: c.headWidth, out: t.a.data, dOut: da.data, outStride: ns, lse: t.lse.data, guide: guide)
        if let dEncKV, let cEncKv, let encoderKV, let dEncoderKV {
            Backward.linear(encoderKV.data, dEncKV.data, rows: batch * encDims, cEncKv, grads: grads,
                            dx: dEncoderKV.data, accumulate: true)
        }
        let dh0 = Tensor(zeros: [rows, w])
        Backward.linear(t.h0.data, dqkv.data, rows: rows, cAttn, grads: grads, dx: dh0.data)
        // dx = dOut (residual) + dx2 (through x2 = x + a) + ln_0ᵀ(dh0); dx2 = dAttnOut − res_scale·dOut.
        let dx = Tensor(zeros: [rows, w])
        let dxp = dx.data
        for i in 0..<(rows * w) { dxp[i] = dop[i] + dbp[i] - rs * dop[i] }
        t.ln0.backward(dh0.data, gamma: ln0W, beta: ln0B, grads: grads, dx: dx.data, accumulate: true)
        return dx
    }
}

extension TransformerWeights {
    /// Every block in turn over x [batch·length, width]; returns the output and the blocks' tapes.
    func trainingForward(_ x: Tensor, batch: Int, length: Int, encoderKV: Tensor?) -> (Tensor, [ResAttnBlockTape]) {
        var h = x
        var tapes: [ResAttnBlockTape] = []
        for layer in layers {
            let (out, tape) = layer.trainingForward(h, config: config, batch: batch, length: length, encoderKV: encoderKV)
            tapes.append(tape)
            h = out
        }
        return (h, tapes)
    }

    func trainingBackward(_ dOut: Tensor, tapes: [ResAttnBlockTape], batch: Int, length: Int, grads: Gradients,
                          encoderKV: Tensor?, dEncoderKV: Tensor?, guide: AttentionGuide? = nil) -> Tensor {
        var d = dOut
        for (index, (layer, tape)) in zip(layers, tapes).enumerated().reversed() {
            d = layer.trainingBackward(d, tape: tape, config: config, batch: batch, length: length, grads: grads,
                                       encoderKV: encoderKV, dEncoderKV: dEncoderKV, guide: guide?.layer == index ? guide : nil)
        }
        return d
    }
}
