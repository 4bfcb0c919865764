import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// ConditionalAutoregressive2D's backward on its own, for the inputs the whole-prior checks cannot perturb
/// directly: x_cond broadcast from one row, the learned start token, a given start embedding (y_cond) and the
/// lyrics encoder's output seen by encoder-decoder layers. The loss is a fixed random linear functional of
/// the logits, so the backward starts from a known dLogits.
final class AutoregressiveGradCheckTests: XCTestCase {
    struct Setup {
        var attnOrder = 2, depth = 3, width = 16, heads = 2, nCtx = 16, blocks: Int? = 4, spread: Int? = nil
        var bins = 11, batch = 2, encoderDims = 0, yCond = false, xCondRows = 1, mergedDecoder = false
    }

    func random(_ shape: [Int], seed: UInt64, std: Double = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let t = Tensor(zeros: shape)
        rng.fill(t.data, t.count, std: std)
        return t
    }

    func check(_ s: Setup, file: StaticString = #filePath, line: UInt = #line) throws {
        let t = try TransformerConfig(width: s.width, depth: s.depth, heads: s.heads, nCtx: s.nCtx, attnOrder: s.attnOrder,
                                      blocks: s.blocks, spread: s.spread, mAttn: 0.5, encoderDims: s.encoderDims)
        let a = AutoregressiveConfig(transformer: t, bins: s.bins, xCond: s.xCondRows > 0, yCond: s.yCond,
                                     mergedDecoder: s.mergedDecoder, onlyEncode: false, initScale: 4)
        let specs = try ConditionalAutoregressive2D.parameters(prefix: "prior", config: a).specs
        let tensors = ParameterSpec.randomTensors(specs, seed: 3)
        let model = try ConditionalAutoregressive2D(prefix: "prior", config: a, source: .dictionary(tensors))
        var rng = SeededGenerator(seed: 4)
        let tokens = (0..<(s.batch * s.nCtx)).map { _ in Int(rng.next() % UInt64(s.bins)) }
        let xCond = s.xCondRows > 0 ? random([s.batch, s.xCondRows, s.width], seed: 5, std: 0.3) : nil
        let start = s.yCond ? random([s.batch, s.width], seed: 6, std: 0.3) : nil
        let encoderKV = s.encoderDims > 0 ? random([s.batch, s.encoderDims, s.width], seed: 7) : nil
        let r = random([s.batch * s.nCtx, s.bins], seed: 8)
        func loss() throws -> Double {
            let (logits, _) = try model.trainingForward(tokens: tokens, batch: s.batch, start: start, xCond: xCond, encoderKV: encoderKV)
            var sum = 0.0
            for i in 0..<r.count { sum += Double(r.data[i]) * Double(logits!.data[i]) }
            return sum
        }
        // The training forward is the sampling forward.
        let state = try model.makeState(batch: s.batch, yCond: start?.reshaped([s.batch, 1, s.width]), xCond: xCond, encoderKV: encoderKV)
        var previous = [Int](repeating: 0, count: tokens.count)
        for n in 0..<s.batch { for i in 1..<s.nCtx { previous[n * s.nCtx + i] = tokens[n * s.nCtx + i - 1] } }
        let sampled = try model.forward(state, previous: previous, count: s.nCtx)!
        let (trained, tape) = try model.trainingForward(tokens: tokens, batch: s.batch, start: start, xCond: xCond, encoderKV: encoderKV)
        XCTAssertLessThan(relativeError(trained!, sampled), 1e-5, file: file, line: line)

        let grads = Gradients()
        let dEncoderKV = encoderKV.map { Tensor(zeros: $0.shape) }
        let (dStart, dXCond) = model.trainingBackward(tape, dLogits: r, dActs: nil, grads: grads, encoderKV: encoderKV,
                                                      dEncoderKV: dEncoderKV)
        var inputs: [(String, Tensor, Tensor)] = []
        if let xCond, let dXCond { inputs.append(("x_cond", xCond, dXCond)) }
        if let start { inputs.append(("y_cond", start, dStart)) }
        if let encoderKV, let dEncoderKV { inputs.append(("encoder_kv", encoderKV, dEncoderKV)) }
        if let token = model.startToken { inputs.append(("start_token", token, try XCTUnwrap(grads.gradient(of: token)))) }
        inputs.append(("pos_emb", model.posEmb, try XCTUnwrap(grads.gradient(of: model.posEmb))))
        XCTAssertEqual(inputs.count, 2 + (s.xCondRows > 0 ? 1 : 0) + (s.encoderDims > 0 ? 1 : 0), file: file, line: line)
        let h: Float = 1e-3
        for (name, x, g) in inputs {
            let u = random(x.shape, seed: 9)
            let saved = x.copy()
            for i in 0..<x.count { x.data[i] = saved.data[i] + h * u.data[i] }
            let plus = try loss()
            for i in 0..<x.count { x.data[i] = saved.data[i] - h * u.data[i] }
            let minus = try loss()
            x.data.update(from: saved.data, count: x.count)
            let fd = (plus - minus) / (2 * Double(h))
            var projected = 0.0, gn = 0.0, un = 0.0
            for i in 0..<x.count {
                projected += Double(g.data[i]) * Double(u.data[i]); gn += Double(g.data[i] * g.data[i]); un += Double(u.data[i] * u.data[i])
            }
            let err = abs(fd - projected) / (gn * un).squareRoot()
            print("\(name): finite difference \(fd), gradient·u \(projected), error \(err)")
            XCTAssertLessThanOrEqual(err, 1e-3, name, file: file, line: line)
        }
    }

    func testBroadcastXCondAndStartToken() throws { try check(Setup()) }
    func testLabelStartAndFullXCond() throws { try check(Setup(attnOrder: 4, spread: 2, yCond: true, xCondRows: 16)) }
    func testEncoderDecoderLayersSendGradientsToTheLyrics() throws {
        try check(Setup(attnOrder: 8, depth: 10, encoderDims: 5, yCond: true, xCondRows: 16, mergedDecoder: true))
    }
    func testNoConditioning() throws { try check(Setup(attnOrder: 3, nCtx: 20, blocks: 5, xCondRows: 0)) }
}
