import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Every VQ-VAE backward against finite differences on small random layers, over shapes the fixtures do
/// not use: other widths, depths, dilation growths and cycles, strides, batch sizes. The loss is a random
/// projection Σ r·y of the layer's output, so its gradient with respect to the output is r.
final class VQVAEGradCheckTests: XCTestCase {
    /// Checks a layer's parameter and input gradients: `build` makes it from a recorder, `forward`
    /// runs the training forward (keeping its tape), `backward` returns the input's gradient.
    func checkLayer<L>(_ label: String, seed: UInt64, input shape: [Int], build: (ParameterRecorder) throws -> L,
                       forward: (L, Tensor, inout ConvTape) -> Tensor,
                       backward: (L, Tensor, inout ConvTape, Gradients) -> Tensor, floor: Double = 3e-2,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let recorder = ParameterRecorder(seed: seed)
        let layer = try build(recorder)
        var rng = SeededGenerator(seed: seed + 1)
        let x = GradCheck.randomTensor(shape, &rng)
        var tape = ConvTape()
        let y = forward(layer, x, &tape)
        let tape0 = tape
        let r = GradCheck.randomTensor(y.shape, &rng)
        let grads = Gradients()
        let dx = backward(layer, r, &tape, grads)
        XCTAssertTrue(tape.isEmpty, "\(label): the backward used everything the forward kept", file: file, line: line)
        XCTAssertEqual(dx.shape, x.shape, file: file, line: line)
        let named = grads.named(recorder.entries)
        XCTAssertEqual(Set(named.keys), Set(recorder.entries.map(\.key)), "\(label): every parameter got a gradient",
                       file: file, line: line)
        // Every ReLU input is on the tape; a step that flips the sign of one crossed a kink, and its
        // difference quotient is discarded.
        let pattern: (ConvTape) -> [Bool] = { tape in
            tape.reluInputs.flatMap { i in (0..<tape.saved[i].count).map { tape.saved[i].data[$0] > 0 } }
        }
        let base = pattern(tape0)
        let loss: () -> Double = {
            var t = ConvTape()
            let value = GradCheck.project(forward(layer, x, &t), r)
            return pattern(t) == base ? value : .nan
        }
        GradCheck.check(recorder.entries + [("input", x)], gradient: { $0 == "input" ? dx : named[$0] }, seed: seed + 2,
                        floor: floor, label: label, loss: loss, file: file, line: line)
    }

    func testConv1DStridesPaddingsDilations() throws {
        for (i, s) in [(stride: 1, padding: 0, dilation: 1, k: 1), (stride: 1, padding: 3, dilation: 3, k: 3), (stride: 1, padding: 4, dilation: 1, k: 3), (stride: 1, padding: 0, dilation: 7, k: 3), (stride: 2, padding: 1, dilation: 1, k: 4), (stride: 4, padding: 2, dilation: 1, k: 8), (stride: 3, padding: 5, dilation: 2, k: 5)].enumerated() {
            try checkLayer("conv1d stride \(s.stride) padding \(s.padding) dilation \(s.dilation) K \(s.k)", seed: UInt64(10 + i),
                           input: [2, 3, 23], build: { try Conv1DLayer($0, cin: 3, cout: 5, k: s.k, stride: s.stride,
                                                                       padding: s.padding, dilation: s.dilation) },
                           forward: { $0.trainingForward($1, &$2) }, backward: { $0.trainingBackward($1, &$2, grads: $3) })
        }
    }

    func testConvTranspose1DStrides() throws {
        for (i, s) in [(stride: 2, padding: 1, k: 4), (stride: 4, padding: 2, k: 8), (stride: 3, padding: 0, k: 5), (stride: 2, padding: 0, k: 2)].enumerated() {
            try checkLayer("conv_transpose1d stride \(s.stride) padding \(s.padding) K \(s.k)", seed: UInt64(20 + i),
                           input: [2, 4, 9], build: { try ConvTranspose1DLayer($0, cin: 4, cout: 3, k: s.k, stride: s.stride,
                                                                               padding: s.padding) },
                           forward: { $0.trainingForward($1, &$2) }, backward: { $0.trainingBackward($1, &$2, grads: $3) })
        }
    }

    func testResnet1DDepthsDilationsAndResScale() throws {
        let configs = [
            ConvBlockConfig(width: 6, depth: 3, mConv: 1, dilationGrowthRate: 3),
            ConvBlockConfig(width: 5, depth: 4, mConv: 1.5, dilationGrowthRate: 2, dilationCycle: 2, resScale: true),
            ConvBlockConfig(width: 4, depth: 2, mConv: 0.5, dilationGrowthRate: 5, reverseDilation: true),
        ]
        for (i, c) in configs.enumerated() {
            try checkLayer("Resnet1D width \(c.width) depth \(c.depth) m_conv \(c.mConv) growth \(c.dilationGrowthRate)",
                           seed: UInt64(30 + i), input: [2, c.width, 31],
                           build: { try Resnet1D($0, nIn: c.width, config: c) },
                           forward: { $0.trainingForward($1, &$2) }, backward: { $0.trainingBackward($1, &$2, grads: $3) })
        }
    }

    func testEncoderAndDecoderBlocksOfOtherStrides() throws {
        let c = ConvBlockConfig(width: 6, depth: 2, mConv: 1, dilationGrowthRate: 3)
        for (i, s) in [(down: 2, stride: 2), (down: 1, stride: 4)].enumerated() {
            try checkLayer("EncoderConvBlock down_t \(s.down) stride_t \(s.stride)", seed: UInt64(40 + i), input: [2, 3, 32],
                           build: { try EncoderConvBlock($0, inputWidth: 3, outputWidth: 4, downT: s.down, strideT: s.stride, config: c) },
                           forward: { $0.trainingForward($1, &$2) }, backward: { $0.trainingBackward($1, &$2, grads: $3) })
            try checkLayer("DecoderConvBock down_t \(s.down) stride_t \(s.stride)", seed: UInt64(50 + i), input: [2, 4, 5],
                           build: { try DecoderConvBock($0, inputWidth: 3, outputWidth: 4, downT: s.down, strideT: s.stride, config: c) },
                           forward: { $0.trainingForward($1, &$2) }, backward: { $0.trainingBackward($1, &$2, grads: $3) })
        }
    }

    static let tinyHps: [String: Any] = [
        "levels": 2, "downs_t": [2, 1], "strides_t": [2, 4], "emb_width": 5, "l_bins": 12, "width": 6, "depth": 2,
        "m_conv": 1.0, "dilation_growth_rate": 2, "dilation_cycle": NSNull(), "hvqvae_multipliers": [2, 1],
        "vqvae_reverse_decoder_dilation": true, "sr": 44100,
    ]

    /// Whole stacks chain a dozen float32 layers: their difference quotients carry up to ~3e-4 of absolute
    /// rounding noise (measured, 2.9e-4 under valgrind's arithmetic), hence a larger floor than one layer's.
    func testWholeEncodersAndDecoders() throws {
        let hps = try VQVAEHyperparameters(Hyperparameters(Self.tinyHps, source: "test"))
        for level in 0..<2 {
            try checkLayer("Encoder level \(level)", seed: UInt64(60 + level), input: [2, 1, 32],
                           build: { try Encoder($0, level: level, hps: hps) },
                           forward: { $0.trainingForward($1, &$2) }, backward: { $0.trainingBackward($1, &$2, grads: $3) },
                           floor: 0.15)
            try checkLayer("Decoder level \(level)", seed: UInt64(70 + level), input: [2, 5, 32 / hps.hopLengths[level]],
                           build: { try Decoder($0, level: level, hps: hps) },
                           forward: { $0.trainingForward($1, &$2) }, backward: { $0.trainingBackward($1, &$2, grads: $3) },
                           floor: 0.15)
        }
    }

    /// The training forward computes what the inference forward (packed taps, tiled residual blocks) does.
    func testTrainingForwardMatchesTheInferenceForward() throws {
        let hps = Hyperparameters(Self.tinyHps, source: "test")
        let model = try VQVAE.random(hps, seed: 5)
        var rng = SeededGenerator(seed: 6)
        let x = GradCheck.randomTensor([2, 1, 64], &rng, std: 0.3)
        for level in 0..<2 {
            var tape = ConvTape()
            let ours = model.encoders[level].trainingForward(x, &tape)
            let err = relativeError(ours, model.encoders[level](x))
            var tape2 = ConvTape()
            let decoded = model.decoders[level].trainingForward(ours, &tape2)
            let err2 = relativeError(decoded, model.decoders[level](ours))
            print("level \(level): encoder training vs inference \(err), decoder \(err2)")
            XCTAssertLessThan(err, 1e-5)
            XCTAssertLessThan(err2, 1e-5)
        }
    }
}
