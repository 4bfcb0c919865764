import Foundation
import JukeboxCore

/// What the upsampler conditioner's training forward keeps: every layer's input, in order.
final class ConditionerTape {
    let zCond: [Int]
    let n: Int
    var inputs: [Tensor] = []      // input of each conv / transposed conv / residual block, in forward order
    var ln: LayerNormTape? = nil

    init(zCond: [Int], n: Int) { self.zCond = zCond; self.n = n }
}

extension ResConv1DBlock {
    /// x + res_scale·conv1(relu(conv3(relu(x)))), returning also conv3's output (for the inner ReLU's mask).
    func trainingForward(_ x: Tensor) -> (out: Tensor, r0: Tensor, h: Tensor) {
        let r0 = Ops.relu(x)
        let h = ConvTraining.conv1d(conv3, r0)
        let m = ConvTraining.conv1d(conv1, Ops.relu(h))
        let out = x.copy()
        for i in 0..<out.count { out.data[i] += resScale * m.data[i] }
        return (out, r0, h)
    }

    func trainingBackward(_ x: Tensor, r0: Tensor, h: Tensor, _ dOut: Tensor, grads: Gradients) -> Tensor {
        let dm = Tensor(zeros: dOut.shape)
        for i in 0..<dm.count { dm.data[i] = resScale * dOut.data[i] }
        let dr1 = ConvTraining.conv1dBackward(conv1, Ops.relu(h), dm, grads: grads)
        for i in 0..<dr1.count where h.data[i] <= 0 { dr1.data[i] = 0 }
        let dr0 = ConvTraining.conv1dBackward(conv3, r0, dr1, grads: grads)
        let dx = dOut.copy()
        for i in 0..<dx.count where x.data[i] > 0 { dx.data[i] += dr0.data[i] }
        return dx
    }
}

extension UpsamplerConditioner {
    /// forward(_:n:) keeping its tape: codes of the level above, `n` rows → x_cond [n, T·upsampling, width].
    func trainingForward(_ zCond: [Int], n: Int) throws -> (Tensor, ConditionerTape) {
        guard n > 0, !zCond.isEmpty, zCond.count % n == 0 else {
            throw JukeboxError("z_cond", "\(zCond.count) codes do not split into \(n) non-empty rows")
        }
        if let bad = zCond.first(where: { $0 < 0 || $0 >= bins }) {
            throw JukeboxError("z_cond", "code \(bad) is outside 0..<\(bins)")
        }
        let tape = ConditionerTape(zCond: zCond, n: n)
        let tc = zCond.count / n
        let x = Tensor(zeros: [n, width, tc])
        for item in 0..<n {
            for j in 0..<tc {
                let row = xEmb.data + zCond[item * tc + j] * width
                for c in 0..<width { x.data[item * width * tc + c * tc + j] = row[c] }
            }
        }
        tape.inputs.append(x)
        var h = ConvTraining.conv1d(cond.input, x)
        for (resnet, conv) in cond.ups {
            for block in resnet.blocks {
                tape.inputs.append(h)
                let (out, r0, hidden) = block.trainingForward(h)
                tape.inputs.append(r0); tape.inputs.append(hidden)
                h = out
            }
            tape.inputs.append(h)
            h = ConvTraining.convTranspose1d(conv, h)
        }
        let t = h.shape[2]
        let rows = Tensor(zeros: [n, t, width])
        for item in 0..<n { for j in 0..<t { for c in 0..<width { rows.data[(item * t + j) * width + c] = h.data[(item * width + c) * t + j] } } }
        let out = Tensor(zeros: [n, t, width])
        tape.ln = LayerNormTape.forward(rows.data, rows: n * t, width: width, gamma: lnWeight, beta: lnBias, out.data)
        return (out, tape)
    }

    /// From dXCond [n, T, width], adds the conditioner's gradients (x_emb, convolutions, ln).
    func trainingBackward(_ tape: ConditionerTape, dXCond: Tensor, grads: Gradients) {
        let n = tape.n, t = dXCond.shape[1]
        let dRows = Tensor(zeros: [n, t, width])
        tape.ln!.backward(dXCond.data, gamma: lnWeight, beta: lnBias, grads: grads, dx: dRows.data)
        var d = Tensor(zeros: [n, width, t])
        for item in 0..<n { for j in 0..<t { for c in 0..<width { d.data[(item * width + c) * t + j] = dRows.data[(item * t + j) * width + c] } } }
        var k = tape.inputs.count - 1
        for (resnet, conv) in cond.ups.reversed() {
            d = ConvTraining.convTranspose1dBackward(conv, tape.inputs[k], d, grads: grads)
            k -= 1
            for block in resnet.blocks.reversed() {
                d = block.trainingBackward(tape.inputs[k - 2], r0: tape.inputs[k - 1], h: tape.inputs[k], d, grads: grads)
                k -= 3
            }
        }
        d = ConvTraining.conv1dBackward(cond.input, tape.inputs[k], d, grads: grads)
        let tc = tape.zCond.count / n
        let dEmb = grads.of(xEmb)
        for item in 0..<n {
            for j in 0..<tc {
                let row = dEmb + tape.zCond[item * tc + j] * width
                for c in 0..<width { row[c] += d.data[item * width * tc + c * tc + j] }
            }
        }
    }
}
