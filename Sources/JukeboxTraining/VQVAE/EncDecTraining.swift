import Foundation
import JukeboxCore

/// What a VQ-VAE training forward keeps for its backward: the input of every convolution outside the
/// residual blocks and every residual block's (input, hidden pre-activation), pushed in forward order and
/// popped in reverse by the backward, so each layer's forward and backward sit side by side.
struct ConvTape {
    private(set) var saved: [Tensor] = []
    /// Which saved tensors a ReLU reads: where the function has kinks (finite-difference checks avoid them).
    private(set) var reluInputs: [Int] = []
    mutating func push(_ t: Tensor, feedsReLU: Bool = false) {
        if feedsReLU { reluInputs.append(saved.count) }
        saved.append(t)
    }
    mutating func pop() -> Tensor {
        if reluInputs.last == saved.count - 1 { reluInputs.removeLast() }
        return saved.removeLast()
    }
    var isEmpty: Bool { saved.isEmpty }
}

extension Conv1DLayer {
    /// Stride 1 runs tap by tap (TapConvTraining); strided convolutions through im2col (ConvTraining).
    func trainingForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        tape.push(x)
        return stride == 1 ? TapConvTraining.forward(self, x) : ConvTraining.conv1d(self, x)
    }

    func trainingBackward(_ dy: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        let x = tape.pop()
        return stride == 1 ? TapConvTraining.backward(self, x, dy, grads: grads) : ConvTraining.conv1dBackward(self, x, dy, grads: grads)
    }
}

extension ConvTranspose1DLayer {
    func trainingForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        tape.push(x)
        return ConvTraining.convTranspose1d(self, x)
    }

    func trainingBackward(_ dy: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        ConvTraining.convTranspose1dBackward(self, tape.pop(), dy, grads: grads)
    }
}

extension Resnet1D {
    /// The blocks in turn, each keeping its input and hidden pre-activation for its backward.
    func trainingForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        blocks.reduce(x) { h, block in block.tapForward(h, &tape) }
    }

    func trainingBackward(_ dy: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        blocks.reversed().reduce(dy) { d, block in block.tapBackward(d, &tape, grads: grads) }
    }
}

extension EncoderConvBlock {
    func trainingForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        var h = x
        for (conv, resnet) in downs { h = resnet.trainingForward(conv.trainingForward(h, &tape), &tape) }
        return out.trainingForward(h, &tape)
    }

    func trainingBackward(_ dy: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        var d = out.trainingBackward(dy, &tape, grads: grads)
        for (conv, resnet) in downs.reversed() {
            d = conv.trainingBackward(resnet.trainingBackward(d, &tape, grads: grads), &tape, grads: grads)
        }
        return d
    }
}

extension DecoderConvBock {
    func trainingForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        var h = input.trainingForward(x, &tape)
        for (resnet, conv) in ups { h = conv.trainingForward(resnet.trainingForward(h, &tape), &tape) }
        return h
    }

    func trainingBackward(_ dy: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        var d = dy
        for (resnet, conv) in ups.reversed() {
            d = resnet.trainingBackward(conv.trainingBackward(d, &tape, grads: grads), &tape, grads: grads)
        }
        return input.trainingBackward(d, &tape, grads: grads)
    }
}

extension Encoder {
    /// [N, 1, T] → [N, emb_width, T / hop], keeping the tape.
    func trainingForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        levelBlocks.reduce(x) { h, block in block.trainingForward(h, &tape) }
    }

    /// dy [N, emb_width, T / hop] → d(audio) [N, 1, T] (the parameters' gradients are added to `grads`).
    @discardableResult
    func trainingBackward(_ dy: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        levelBlocks.reversed().reduce(dy) { d, block in block.trainingBackward(d, &tape, grads: grads) }
    }
}

extension Decoder {
    /// [N, emb_width, T'] → [N, 1, T' · hop], keeping the tape.
    func trainingForward(_ x: Tensor, _ tape: inout ConvTape) -> Tensor {
        out.trainingForward(levelBlocks.reversed().reduce(x) { h, block in block.trainingForward(h, &tape) }, &tape)
    }

    /// dy [N, 1, T] → d(latents) [N, emb_width, T'].
    func trainingBackward(_ dy: Tensor, _ tape: inout ConvTape, grads: Gradients) -> Tensor {
        let d = out.trainingBackward(dy, &tape, grads: grads)
        return levelBlocks.reduce(d) { d, block in block.trainingBackward(d, &tape, grads: grads) }
    }
}
