import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Compact weight formats: every kernel against the float32 product of the weights it holds, and the
/// 16-bit published checkpoints kept half-size with the logits of their float32 widening.
final class WeightFormatTests: XCTestCase {
    func randomWeight(_ nIn: Int, _ nOut: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let w = Tensor(zeros: [nIn, nOut])
        rng.fill(w.data, w.count, std: 0.05)
        return w
    }

    /// A float32 prior model folder with random weights.
    func writeRandomPrior(_ hps: Hyperparameters, seed: UInt64, to folder: String) throws {
        let specs = try Prior.parameters(hps: hps)
        let tensors = ParameterSpec.randomTensors(specs, seed: seed)
        var writer = SafetensorsWriter()
        for s in specs { writer.add(s.key, tensors[s.key]!) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try writer.write(to: folder + "/weights.safetensors")
        try ModelConfig(kind: .prior, hps: hps).write(folder: folder)
    }

    /// out = x·w + b through LinearWeight, and the same in float64 from a float weight.
    func product(_ layer: LinearWeight, _ x: Tensor) -> Tensor {
        let rows = x.count / layer.nIn
        let out = Tensor(zeros: [rows, layer.nOut])
        layer.apply(x.data, rows: rows, out.data)
        return out
    }

    func reference(_ w: Tensor, _ b: Tensor, _ x: Tensor) -> Tensor {
        let nIn = w.shape[0], nOut = w.shape[1], rows = x.count / nIn
        let out = Tensor(zeros: [rows, nOut])
        for r in 0..<rows {
            for j in 0..<nOut {
                var s = Double(b[j])
                for i in 0..<nIn { s += Double(x[r * nIn + i]) * Double(w[i * nOut + j]) }
                out[r * nOut + j] = Float(s)
            }
        }
        return out
    }

    /// Each format computes the product of the weights it holds (unpacked), at every batch size the
    /// streaming kernel takes and past it (where blocks are unpacked for sgemm), for widths that are and
    /// are not whole groups (q8 and q4 pad their rows); and it stays as close to the float32 weights as its
    /// bits allow.
    func testEveryFormatComputesThePackedWeightsProduct() throws {
        let closeToFloat: [WeightFormat: Double] = [.f32: 1e-6, .f16: 1e-3, .bf16: 8e-3, .q8: 1e-2, .q4: 0.15]
        for (nIn, nOut) in [(64, 48), (96, 33), (1920 / 4, 70), (40, 17), (1200 / 8, 21)] {
            let w = randomWeight(nIn, nOut, seed: UInt64(nIn * 1000 + nOut))
            var rng = SeededGenerator(seed: 3)
            let b = Tensor(zeros: [nOut]); rng.fill(b.data, nOut, std: 0.1)
            for format in WeightFormat.allCases {
                let packed = PackedMatrix.pack(w, format: format)
                let layer = LinearWeight(packed: packed, b: b)
                let held = packed.unpacked()
                XCTAssertLessThan(relativeError(held, w), closeToFloat[format]!, "\(format) \(nIn)×\(nOut) weights")
                for rows in [1, 2, 3, 4, 5, 16, 17, 40] {
                    let x = Tensor(zeros: [rows, nIn]); rng.fill(x.data, x.count, std: 1)
                    let got = product(layer, x)
                    // q8 and q4 meet their batch rows as int8 (one scale per 32) where the CPU has integer dot
                    // products: half a percent of the product; every other path is float32 arithmetic.
                    let tolerance = format.isQuantized && rows <= PackedMatrix.streamingRows ? 1e-2 : 1e-5
                    XCTAssertLessThan(relativeError(got, reference(held, b, x)), tolerance, "\(format) \(nIn)×\(nOut) rows \(rows)")
                    XCTAssertLessThan(relativeError(got, reference(w, b, x)), 2 * closeToFloat[format]! + tolerance,
                                      "\(format) \(nIn)×\(nOut) rows \(rows) against float32")
                }
            }
        }
    }

    /// A lone batch row of a 16-bit matrix large enough to stream from memory (4 MB and more: on AVX-512 it
    /// goes through the three-row body, its row given thrice, to pace the loads) computes the product of
    /// the held weights, and there the very sums that row gets inside a batch of three.
    func testALoneRowOfALargeSixteenBitMatrixIsTheRowOfABatch() throws {
        let (nIn, nOut) = (1024, 2056)   // 4.2 MB at 16 bits; outputs past a whole number of four-row blocks
        let w = randomWeight(nIn, nOut, seed: 11)
        var rng = SeededGenerator(seed: 12)
        let b = Tensor(zeros: [nOut]); rng.fill(b.data, nOut, std: 0.1)
        let x = Tensor(zeros: [3, nIn]); rng.fill(x.data, x.count, std: 1)
        let first = Tensor(zeros: [1, nIn]); first.data.update(from: x.data, count: nIn)
        for format in [WeightFormat.f16, .bf16] {
            let packed = PackedMatrix.pack(w, format: format)
            XCTAssertGreaterThanOrEqual(packed.bytes, 4 << 20, "large enough to be paced")
            for matrix in [packed, packed.tiledForSampling()] {
                let layer = LinearWeight(packed: matrix, b: b), layout = matrix.tiled ? "tiled" : "rows"
                let alone = product(layer, first), inBatch = product(layer, x)
                XCTAssertLessThan(relativeError(alone, reference(packed.unpacked(), b, first)), 1e-5, "\(format) \(layout) one row")
                if WeightKernels.isa == "avx512" {
                    let differing = zip(alone.toArray(), inBatch.toArray()[0..<nOut]).filter { $0 != $1 }.count
                    XCTAssertEqual(differing, 0, "\(format) \(layout): outputs whose sums differ from the row's in a batch of three")
                }
            }
        }
    }

    /// q8 and q4 tiled for the integer kernels (where the CPU has them), f16 and bf16 tiled where the kernels
    /// run on AVX-512, hold the very weights of the file's layout and compute what the row-major kernels do,
    /// for outputs that fill no whole tile, inputs that fill no whole group (or four), every batch the
    /// streaming kernel takes (in fours and a remainder), and past it (sgemm on the weights unpacked).
    func testTiledMatricesHoldAndComputeWhatTheFileLayoutDoes() throws {
        for (nIn, nOut) in [(64, 48), (96, 33), (1920 / 4, 70), (40, 17), (1200 / 8, 21), (1024, 80), (37, 19)] {
            let w = randomWeight(nIn, nOut, seed: UInt64(nIn * 7 + nOut))
            var rng = SeededGenerator(seed: 5)
            let b = Tensor(zeros: [nOut]); rng.fill(b.data, nOut, std: 0.1)
            for format in [WeightFormat.q8, .q4, .f16, .bf16] {
                let packed = PackedMatrix.pack(w, format: format)
                let tiled = packed.tiledForSampling()
                XCTAssertEqual(tiled.tiled, WeightKernels.tilesAvailable(for: format), "\(format) tiled exactly where the CPU computes its tiles")
                if format.isQuantized { XCTAssertEqual(tiled.tiled, WeightKernels.tilesAvailable) }
                else { XCTAssertEqual(tiled.tiled, WeightKernels.isa == "avx512") }
                XCTAssertEqual(tiled.unpacked().toArray(), packed.unpacked().toArray(), "\(format) \(nIn)×\(nOut) weights")
                let held = packed.unpacked()
                for rows in [1, 2, 3, 4, 5, 7, 8, 9, 16, 17] {
                    let x = Tensor(zeros: [rows, nIn]); rng.fill(x.data, x.count, std: 1)
                    let got = product(LinearWeight(packed: tiled, b: b), x), rowMajor = product(LinearWeight(packed: packed, b: b), x)
                    XCTAssertLessThan(relativeError(got, reference(held, b, x)), format.isQuantized && rows <= PackedMatrix.streamingRows ? 1e-2 : 1e-5,
                                      "\(format) \(nIn)×\(nOut) rows \(rows)")
                    // Both meet the batch rows as the same values (int8 for q8 and q4): the sums differ only in their order.
                    XCTAssertLessThan(relativeError(got, rowMajor), 1e-5, "\(format) \(nIn)×\(nOut) rows \(rows) against the row-major kernel")
                }
            }
        }
    }

    /// A transformer whose checkpoint stores its matrices as F16 or BF16 keeps them 16-bit (no widening)
    /// and gives the logits of the float32 model made from the widened values, within the fixtures' 1e-4.
    func testSixteenBitCheckpointsStayHalfAndGiveTheirWideningsLogits() throws {
        let hps = PriorGradCheckTests.hps(["prior_width": 64, "prior_depth": 2, "n_ctx": 32, "blocks": 4])
        let specs = try Prior.parameters(hps: hps)
        let tensors = ParameterSpec.randomTensors(specs, seed: 11)
        let isMatrix = ResAttnBlockWeights.isMatrix
        for dtype in [SafetensorsDType.f16, .bf16] {
            var writer = SafetensorsWriter()
            var widened: [String: Tensor] = [:]
            for s in specs {
                // A tied x_out is stored under its own key too, as the published checkpoints store it.
                if case .sameAs(let other) = s.initial { writer.add(s.key, tensors[other]!); continue }
                let t = tensors[s.key]!
                guard isMatrix(s) else { writer.add(s.key, t); widened[s.key] = t; continue }
                var bytes: [UInt8] = []
                let w = Tensor(zeros: s.shape)
                for i in 0..<t.count {
                    let h = dtype == .f16 ? HalfPrecision.f32ToF16(t[i]) : UInt16(t[i].bitPattern >> 16)
                    bytes += [UInt8(h & 0xFF), UInt8(h >> 8)]
                    w[i] = dtype == .f16 ? HalfPrecision.f16ToF32(h) : HalfPrecision.bf16ToF32(h)
                }
                writer.add(s.key, dtype: dtype, shape: s.shape, bytes: bytes)
                widened[s.key] = w
            }
            for s in specs { if case .sameAs(let other) = s.initial { widened[s.key] = widened[other] } }
            let folder = temporaryFolder(self) + "/\(dtype.rawValue)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try writer.write(to: folder + "/weights.safetensors")
            try ModelConfig(kind: .prior, hps: hps).write(folder: folder)

            let half = try Prior.load(folder: folder)
            for layer in half.prior.transformer.layers {
                for linear in [layer.cAttn, layer.cProj, layer.fc, layer.proj] {
                    XCTAssertEqual(linear.format, dtype == .f16 ? .f16 : .bf16, "matrices stay 16-bit")
                    if case .packed(let m) = linear.storage {
                        XCTAssertEqual(m.tiled, WeightKernels.tilesAvailable(for: linear.format), "tiled straight from the file where tiles are used")
                    } else { XCTFail("a 16-bit matrix held as float32") }
                    XCTAssertEqual(linear.weightBytes, 2 * linear.nIn * linear.nOut)
                }
            }
            let full = try Prior(config: PriorConfig(hps: hps), source: .dictionary(widened))
            let y = [Int(30 * 44100), 0, 16 * 128, 3, 1, 2]
            var rng = SeededGenerator(seed: 4)
            let z = (0..<32).map { _ in Int(rng.next() % 13) }
            assertClose(try half.logits(z: z, batch: 1, y: y), try full.logits(z: z, batch: 1, y: y), tol: 1e-4, "\(dtype) logits")
            // Sampling steps (one row through the streaming kernel) agree too.
            let a = try half.makeState(batch: 1, y: y), b = try full.makeState(batch: 1, y: y)
            for t in 0..<6 {
                let la = try XCTUnwrap(half.forward(a, previousCodes: [z[t]], count: 1, output: .lastLogits))
                let lb = try XCTUnwrap(full.forward(b, previousCodes: [z[t]], count: 1, output: .lastLogits))
                assertClose(la, lb, tol: 1e-4, "\(dtype) step \(t)")
            }
        }
    }

    /// Packed weights in a model file are read in place from the mapping and checked: a wrong shape, a
    /// missing scale or a scale that is not finite is refused naming the tensor.
    func testPackedWeightsAreMappedAndChecked() throws {
        let w = randomWeight(64, 32, seed: 9)
        let p = PackedMatrix.pack(w, format: .q4)
        func write(_ folder: String, scales: [UInt8]?, valueShape: [Int] = [32, 32]) throws -> WeightStore {
            var writer = SafetensorsWriter()
            writer.add("m.w.q4", dtype: .u8, shape: valueShape, bytes: Array(p.valueBuffer))
            if let scales { writer.add("m.w.scales", dtype: .f16, shape: [32, 2], bytes: scales) }
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try writer.write(to: folder + "/weights.safetensors")
            return try WeightStore(folder: folder)
        }
        let dir = temporaryFolder(self)
        let good = try write(dir + "/good", scales: Array(p.scaleBuffer))
        let loaded = try XCTUnwrap(try good.takePacked("m.w", nIn: 64, nOut: 32))
        XCTAssertEqual(loaded.format, .q4)
        XCTAssertNoThrow(try good.finish())
        XCTAssertEqual(relativeError(loaded.unpacked(), p.unpacked()), 0)

        XCTAssertThrowsError(try write(dir + "/noscales", scales: nil).takePacked("m.w", nIn: 64, nOut: 32)) {
            XCTAssertTrue("\($0)".contains("m.w.scales"), "\($0)")
        }
        var infinite = Array(p.scaleBuffer)
        infinite[6] = 0x00; infinite[7] = 0x7C
        XCTAssertThrowsError(try write(dir + "/inf", scales: infinite).takePacked("m.w", nIn: 64, nOut: 32)) {
            XCTAssertTrue("\($0)".contains("not finite"), "\($0)")
        }
        XCTAssertThrowsError(try write(dir + "/shape", scales: Array(p.scaleBuffer), valueShape: [16, 64])
            .takePacked("m.w", nIn: 64, nOut: 32)) {
            XCTAssertTrue("\($0)".contains("m.w.q4"), "\($0)")
        }
    }

    /// q8 and q4 priors keep their keys and values as binary16 (half the bytes), and sampling step by step
    /// through that cache gives the logits of the full forward over the same codes.
    func testCompactPriorsKeepAHalfCacheThatStepsAsTheFullForward() throws {
        let lyrics = PriorGradCheckTests.hps(["prior_width": 64, "prior_depth": 3, "n_ctx": 32, "blocks": 4, "attn_order": 12,
                                              "n_tokens": 8, "n_vocab": 11, "use_tokens": true, "single_enc_dec": true])
        try checkHalfCacheSteps(lyrics, codes: 20, y: [Int(30 * 44100), 0, 32 * 128, 3, 1, 2] + (0..<8).map { $0 % 11 })
        // Blocks of 96 keys: a step's keys split between the threads (`FactoredAttention.keyChunk`). Over 150
        // steps the int8 rows' noise reaches 3.1% once (1.2% in the mean); pieces added without their
        // rescaling cost 12%.
        let long = PriorGradCheckTests.hps(["prior_width": 64, "prior_depth": 3, "n_ctx": 192, "blocks": 2, "attn_order": 2])
        try checkHalfCacheSteps(long, codes: 150, y: [Int(30 * 44100), 0, 192 * 128, 3, 1, 2], tol: 5e-2)
    }

    private func checkHalfCacheSteps(_ hps: Hyperparameters, codes: Int, y: [Int], tol: Double = 3e-2, file: StaticString = #filePath,
                                     line: UInt = #line) throws {
        let dir = temporaryFolder(self)
        try writeRandomPrior(hps, seed: 21, to: dir + "/f32")
        let float = try Prior.load(folder: dir + "/f32")
        var rng = SeededGenerator(seed: 8)
        let z = (0..<codes).map { _ in Int(rng.next() % 13) }
        for format in [WeightFormat.q8, .q4] {
            _ = try WeightQuantizer.quantize(dir + "/f32", to: format, output: dir + "/\(format.rawValue)")
            let prior = try Prior.load(folder: dir + "/\(format.rawValue)")
            let state = try prior.makeState(batch: 1, y: y)
            let floatState = try float.makeState(batch: 1, y: y)
            let full = try prior.logits(z: z, batch: 1, y: y)
            let bins = prior.prior.bins, prefix = prior.config.prefixLength
            for t in 0..<z.count {
                let step = try XCTUnwrap(prior.forward(state, previousCodes: [t == 0 ? 0 : z[t - 1]], count: 1, output: .lastLogits))
                try float.forward(floatState, previousCodes: [t == 0 ? 0 : z[t - 1]], count: 1, output: .none)
                let row = Tensor(shape: [bins], values: Array(UnsafeBufferPointer(start: full.data + (prefix + t) * bins, count: bins)))
                // Steps meet their rows as int8 where the CPU has integer dot products (about 2% of these
                // width-64 logits after three layers); the full forward unpacks the weights to float32. A
                // cache row out of place would cost the logits all their agreement.
                assertClose(step, row, tol: tol, "\(format) step \(t)", file: file, line: line)
            }
            XCTAssertEqual(2 * state.cacheBytes, floatState.cacheBytes, "\(format): binary16 keys and values", file: file, line: line)
        }
    }

    /// In a q4 model the large matrices take q4 and the small ones q8; both, stepped as when sampling
    /// (q4's batch rows meeting its weights as int8), score codes within their budget of float32: 0.01
    /// bits a token for q8, 0.05 for q4.
    func testQ4TakesTheLargeMatricesAndBothScoreWithinBudget() throws {
        let hps = PriorGradCheckTests.hps(["prior_width": 512, "prior_depth": 2, "n_ctx": 48, "blocks": 4, "l_bins": 64,
                                           "m_attn": 0.25, "init_scale": 1.0])
        let dir = temporaryFolder(self)
        try writeRandomPrior(hps, seed: 31, to: dir + "/f32")
        let y = [Int(30 * 44100), 0, 48 * 128, 3, 1, 2]
        var rng = SeededGenerator(seed: 12)
        let z = (0..<48).map { _ in Int(rng.next() % 64) }
        /// Mean bits of z under the prior, one sampling step at a time.
        func steppedBits(_ prior: Prior) throws -> Double {
            let state = try prior.makeState(batch: 1, y: y)
            var total = 0.0
            for t in 0..<z.count {
                let l = try XCTUnwrap(prior.forward(state, previousCodes: [t == 0 ? 0 : z[t - 1]], count: 1, output: .lastLogits))
                let m = (0..<64).map { Double(l[$0]) }.max()!
                let logSum = log((0..<64).map { exp(Double(l[$0]) - m) }.reduce(0, +)) + m
                total += (logSum - Double(l[z[t]])) / log(2.0)
            }
            return total / Double(z.count)
        }
        let reference = try steppedBits(try Prior.load(folder: dir + "/f32"))
        for (format, budget) in [(WeightFormat.q8, 0.01), (.q4, 0.05)] {
            _ = try WeightQuantizer.quantize(dir + "/f32", to: format, output: dir + "/\(format.rawValue)")
            let prior = try Prior.load(folder: dir + "/\(format.rawValue)")
            for layer in prior.prior.transformer.layers {
                for linear in [layer.cAttn, layer.cProj, layer.fc, layer.proj] {
                    let expected: WeightFormat = format == .q4 && linear.nIn * linear.nOut < WeightFormat.smallMatrixWeights ? .q8 : format
                    XCTAssertEqual(linear.format, expected, "\(format): a \(linear.nIn)×\(linear.nOut) matrix")
                }
            }
            XCTAssertTrue(prior.prior.transformer.layers.contains { $0.fc.format == format }, "\(format) is used")
            let bits = try steppedBits(prior)
            print("\(format): \(bits) bits a token stepped (float32 \(reference))")
            XCTAssertEqual(bits, reference, accuracy: budget, "\(format)")
        }
    }
}
