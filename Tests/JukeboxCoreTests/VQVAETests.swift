import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The VQ-VAE against the reference's golden tensors.
final class VQVAEFixtureTests: XCTestCase {
    func testEncoderOutputsCodesAndDecodesMatchTheReference() throws {
        let folder = try Fixtures.folder("vqvae")
        let model = try VQVAE(folder: folder)
        let io = try Fixtures.io("vqvae")
        let x = try io.tensor("x")
        XCTAssertEqual(model.levels, 3)
        let codes = try model.encode(x)
        for level in 0..<model.levels {
            let encoded = try model.encoderOutput(x, level: level)
            assertClose(encoded, try io.tensor("encoded\(level)"), "encoded\(level)")

            let reference = try io.int64s("z\(level)")
            let ties = try io.int64s("tie\(level)")
            XCTAssertEqual(codes[level].values.count, reference.count)
            var compared = 0
            for i in 0..<min(reference.count, codes[level].values.count) where ties[i] == 0 {
                compared += 1
                if codes[level].values[i] != reference[i] {
                    XCTFail("z\(level)[\(i)]: ours \(codes[level].values[i]), reference \(reference[i])")
                    break
                }
            }
            print("z\(level): \(compared) of \(reference.count) codes compared (the rest are ties)")
            XCTAssertGreaterThan(compared, reference.count / 2)

            // Decode the reference's codes, so a tie resolved differently cannot change the audio.
            let zShape = try io.entry("z\(level)").shape
            let decoded = try model.decode(LevelCodes(n: zShape[0], t: zShape[1], values: reference), level: level)
            XCTAssertEqual(decoded.shape, x.shape)
            assertClose(decoded, try io.tensor("decoded\(level)"), "decoded\(level)")
        }
    }

    func testParameterTableMatchesTheReferenceStateDict() throws {
        let folder = try Fixtures.folder("vqvae")
        let config = try ModelConfig.load(folder: folder)
        let file = try SafetensorsFile(path: folder + "/weights.safetensors")
        let table = try VQVAE.parameterShapes(config.hps)
        XCTAssertEqual(table.map(\.key), file.names, "keys and their order")
        for (key, shape) in table { XCTAssertEqual(file.entries[key]?.shape, shape, key) }
    }
}

/// VQ-VAEs of shapes other than the fixture's, with seeded random weights.
final class VQVAEShapeTests: XCTestCase {
    static func hps(_ changes: [String: Any] = [:]) -> Hyperparameters {
        Hyperparameters([
            "levels": 2, "downs_t": [2, 1], "strides_t": [2, 4], "emb_width": 6, "l_bins": 11,
            "hvqvae_multipliers": [1, 2], "width": 5, "depth": 3, "m_conv": 2.0, "dilation_growth_rate": 2,
            "dilation_cycle": 2, "vqvae_reverse_decoder_dilation": false, "sr": 22050,
        ].merging(changes) { _, new in new }, source: "test-config")
    }

    static func audio(n: Int, t: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [n, t, 1], values: (0..<(n * t)).map { _ in rng.nextUnitFloat() * 2 - 1 })
    }

    func testOtherShapesEncodeAndDecodeWithTheRightShapes() throws {
        for changes in [[String: Any](), ["levels": 1, "downs_t": [1], "strides_t": [6], "hvqvae_multipliers": NSNull()],
                        ["levels": 3, "downs_t": [1, 1, 2], "strides_t": [2, 2, 2], "hvqvae_multipliers": [2, 1, 1],
                         "dilation_cycle": NSNull(), "vqvae_reverse_decoder_dilation": true, "depth": 4]] {
            let model = try VQVAE.random(Self.hps(changes), seed: 5)
            let hops = model.hopLengths
            let t = hops.last! * 6
            let x = Self.audio(n: 2, t: t, seed: 1)
            let codes = try model.encode(x)
            XCTAssertEqual(codes.count, model.levels)
            for level in 0..<model.levels {
                XCTAssertEqual(try model.encoderOutput(x, level: level).shape, [2, model.embWidth, t / hops[level]])
                XCTAssertEqual(codes[level].n, 2)
                XCTAssertEqual(codes[level].t, t / hops[level])
                XCTAssertTrue(codes[level].values.allSatisfy { (0..<model.codebookSize).contains($0) })
                let audio = try model.decode(codes[level], level: level)
                XCTAssertEqual(audio.shape, [2, t, 1])
                XCTAssertTrue(audio.toArray().allSatisfy { $0.isFinite })
            }
        }
    }

    func testHopLengthsFollowStridesAndDowns() throws {
        XCTAssertEqual(try VQVAEHyperparameters(Self.hps()).hopLengths, [4, 16])
        let published = try VQVAEHyperparameters(Hyperparameters(VQVAEHyperparameters.published5b, source: "5b"))
        XCTAssertEqual(published.hopLengths, [8, 32, 128])
        XCTAssertEqual(published.blockConfig(level: 0, decoder: true).width, 64)
        XCTAssertEqual(published.blockConfig(level: 0, decoder: true).depth, 8)
        XCTAssertEqual(published.blockConfig(level: 1, decoder: false).depth, 4)
    }

    /// Each batch item is decoded on its own: item 1's audio does not depend on item 0's codes.
    func testBatchItemsAreIndependentAndCodesQuantiseTheirOwnDecoding() throws {
        let model = try VQVAE.random(Self.hps(), seed: 2)
        let x = Self.audio(n: 2, t: 64, seed: 3)
        let codes = try model.encode(x, levels: 1..<2)[0]
        var values = codes.values
        for j in 0..<codes.t { values[j] = (values[j] + 1) % model.codebookSize }
        let other = try LevelCodes(n: 2, t: codes.t, values: values)
        let a = try model.decode(codes, level: 1), b = try model.decode(other, level: 1)
        XCTAssertEqual(Array(a.toArray()[64...]), Array(b.toArray()[64...]))
        XCTAssertNotEqual(Array(a.toArray()[..<64]), Array(b.toArray()[..<64]))
    }

    /// Nearest-entry quantisation checked by brute force on the encoder's output.
    func testCodesAreTheNearestCodebookEntries() throws {
        let model = try VQVAE.random(Self.hps(), seed: 4)
        let x = Self.audio(n: 1, t: 128, seed: 5)
        let e = try model.encoderOutput(x, level: 0)
        let codes = try model.encode(x, levels: 0..<1)[0]
        let k = model.codebooks[0].codebook, w = model.embWidth, t = e.shape[2]
        for j in 0..<t {
            var distances: [Float] = []
            for b in 0..<model.codebookSize {
                var d: Float = 0
                for c in 0..<w { let v = e.data[c * t + j] - k.data[b * w + c]; d += v * v }
                distances.append(d)
            }
            let best = distances.min()!
            XCTAssertLessThanOrEqual(distances[codes.values[j]], best * 1.001 + 1e-6)
        }
    }

    func testOutOfRangeCodesAndBadAudioAreOneLineErrors() throws {
        let model = try VQVAE.random(Self.hps(), seed: 6)
        let bad: [(String, () throws -> Any)] = [
            ("outside 0..<11", { try model.decode([0, 11, 2, 3], n: 1, level: 0) }),
            ("outside 0..<11", { try model.decode([0, -1], n: 2, level: 1) }),
            ("level 2", { try model.decode([0, 1], n: 1, level: 2) }),
            ("split", { try model.decode([0, 1, 2], n: 2, level: 0) }),
            ("multiple of level 1's hop length 16", { try model.encode(Self.audio(n: 1, t: 40, seed: 1)) }),
            ("[N, T, 1]", { try model.encoderOutput(Tensor(zeros: [1, 64, 2]), level: 0) }),
        ]
        for (expected, call) in bad {
            XCTAssertThrowsError(try call()) { error in
                let text = "\(error)"
                XCTAssertTrue(error is JukeboxError, text)
                XCTAssertTrue(text.contains(expected), "\(text) should mention \(expected)")
                XCTAssertFalse(text.contains("\n"))
            }
        }
        // 40 samples is a multiple of level 0's hop (4): encoding only that level works.
        XCTAssertEqual(try model.encode(Self.audio(n: 1, t: 40, seed: 1), levels: 0..<1)[0].t, 10)
    }

    func testBadHyperparametersAreOneLineErrorsNamingTheKey() throws {
        for (changes, expected) in [(["downs_t": [2]], "downs_t"), (["strides_t": [2, 3]], "strides_t"),
                                    (["hvqvae_multipliers": [1]], "hvqvae_multipliers"), (["l_bins": 0], "l_bins"),
                                    (["dilation_cycle": NSNull(), "depth": 40, "dilation_growth_rate": 3], "dilation"),
                                    (["use_bottleneck": false], "use_bottleneck"), (["width": "wide"], "width")]
                                    as [([String: Any], String)] {
            XCTAssertThrowsError(try VQVAE.parameterShapes(Self.hps(changes))) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("test-config"), text)
                XCTAssertTrue(text.contains(expected), "\(text) should mention \(expected)")
                XCTAssertFalse(text.contains("\n"))
            }
        }
    }
}

/// Strict loading from a model folder: an error names the key and, for shapes, both shapes.
final class VQVAELoadingTests: XCTestCase {
    func writeFolder(_ entries: [(String, [Int])], recorder: ParameterRecorder) throws -> String {
        let folder = temporaryFolder(self)
        try ModelConfig(kind: .vqvae, hps: VQVAEShapeTests.hps()).write(folder: folder)
        var w = SafetensorsWriter()
        for (key, shape) in entries {
            let source = recorder.entries.first { $0.key == key }?.tensor
            if let source, source.shape == shape { w.add(key, source) } else {
                w.add(key, shape: shape, floats: [Float](repeating: 0.5, count: shape.reduce(1, *)))
            }
        }
        try w.write(to: folder + "/weights.safetensors")
        return folder
    }

    func testRandomWeightsRoundTripThroughAFolder() throws {
        let hps = VQVAEShapeTests.hps()
        let folder = temporaryFolder(self)
        try ModelConfig(kind: .vqvae, hps: hps).write(folder: folder)
        try VQVAE.randomWeights(hps, seed: 7).write(to: folder + "/weights.safetensors")
        let loaded = try VQVAE(folder: folder)
        let direct = try VQVAE.random(hps, seed: 7)
        let x = VQVAEShapeTests.audio(n: 1, t: 32, seed: 8)
        XCTAssertEqual(try loaded.encode(x), try direct.encode(x))
        XCTAssertEqual(try loaded.decode([1, 2, 3], n: 1, level: 0).toArray(),
                       try direct.decode([1, 2, 3], n: 1, level: 0).toArray())
        XCTAssertEqual(loaded.sampleRate, 22050)
        // The table matches what was written, and the count matches the recorder's.
        let table = try VQVAE.parameterShapes(hps)
        XCTAssertEqual(table.map(\.key), try SafetensorsFile(path: folder + "/weights.safetensors").names)
        XCTAssertTrue(table.contains { $0.key == "decoders.1.level_blocks.0.model.1.0.model.1.model.1.weight" })
    }

    func testMissingExtraAndMisshapenTensorsAreNamed() throws {
        let hps = VQVAEShapeTests.hps()
        let recorder = ParameterRecorder(seed: 1)
        _ = try VQVAE(hps: VQVAEHyperparameters(hps), parameters: recorder)
        let table = recorder.shapes.map { ($0.key, $0.shape) }
        let victim = "encoders.1.level_blocks.1.model.0.1.model.2.model.3.weight"
        guard let index = table.firstIndex(where: { $0.0 == victim }) else { return XCTFail("no \(victim)") }
        let victimShape = table[index].1

        var missing = table
        missing.remove(at: index)
        XCTAssertThrowsError(try VQVAE(folder: try writeFolder(missing, recorder: recorder))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing tensor \(victim)") && text.contains("\(victimShape)"), text)
        }

        var extra = table
        extra.append(("bottleneck.level_blocks.0.k_sum", [11, 6]))
        XCTAssertThrowsError(try VQVAE(folder: try writeFolder(extra, recorder: recorder))) { error in
            XCTAssertTrue("\(error)".contains("unexpected tensor bottleneck.level_blocks.0.k_sum"), "\(error)")
        }

        var misshapen = table
        misshapen[index].1 = [victimShape[0], victimShape[1], 3]
        XCTAssertThrowsError(try VQVAE(folder: try writeFolder(misshapen, recorder: recorder))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(victim) && text.contains("\(misshapen[index].1)") && text.contains("\(victimShape)"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    func testAPriorFolderIsNotAVQVAE() throws {
        let folder = temporaryFolder(self)
        try ModelConfig(kind: .prior, hps: VQVAEShapeTests.hps()).write(folder: folder)
        try VQVAE.randomWeights(VQVAEShapeTests.hps(), seed: 1).write(to: folder + "/weights.safetensors")
        XCTAssertThrowsError(try VQVAE(folder: folder)) { XCTAssertTrue("\($0)".contains("expected vqvae"), "\($0)") }
    }
}

/// The shifted-view convolution against the im2col one, including dilations longer than the signal.
final class TapConvolutionTests: XCTestCase {
    func testMatchesIm2colConvolution() throws {
        var rng = SeededGenerator(seed: 11)
        for (cin, cout, k, t, padding, dilation) in [(3, 4, 3, 17, 1, 1), (5, 2, 3, 9, 27, 27), (4, 6, 3, 30, 9, 9),
                                                    (2, 3, 1, 8, 0, 1), (3, 1, 5, 12, 2, 1), (2, 2, 3, 5, 0, 1)] {
            let x = Tensor(shape: [2, cin, t], values: (0..<(2 * cin * t)).map { _ in rng.nextNormal() })
            let w = Tensor(shape: [cout, cin, k], values: (0..<(cout * cin * k)).map { _ in rng.nextNormal() })
            let b = Tensor(shape: [cout], values: (0..<cout).map { _ in rng.nextNormal() })
            let reference = Conv.conv1d(x, w, b, padding: padding, dilation: dilation)
            let tout = Conv.tapOutputLength(t: t, k: k, padding: padding, dilation: dilation)
            XCTAssertEqual(reference.shape, [2, cout, tout])
            let taps = Conv.packTaps(w)
            let out = Tensor(zeros: [2, cout, tout])
            for item in 0..<2 {
                Conv.conv1dTaps(x: x.data + item * cin * t, cin: cin, t: t, taps: taps.data, cout: cout, k: k,
                                bias: b.data, padding: padding, dilation: dilation, out: out.data + item * cout * tout)
            }
            XCTAssertLessThan(relativeError(out, reference), 1e-6, "\((cin, cout, k, t, padding, dilation))")
            // Accumulating with a scale adds α·(conv + b) to what is there.
            let acc = reference.copy()
            Conv.conv1dTaps(x: x.data, cin: cin, t: t, taps: taps.data, cout: cout, k: k, bias: b.data,
                            padding: padding, dilation: dilation, out: acc.data, alpha: 0.5, accumulate: true)
            for i in 0..<(cout * tout) { XCTAssertEqual(acc.data[i], 1.5 * reference.data[i], accuracy: 1e-4) }
        }
    }
}

/// The phase-split transposed convolution against the scatter one, for several geometries.
final class PhaseTransposedConvolutionTests: XCTestCase {
    func testMatchesScatterTransposedConvolution() throws {
        var rng = SeededGenerator(seed: 12)
        for (cin, cout, k, t, s, p) in [(3, 4, 4, 9, 2, 1), (2, 5, 8, 7, 4, 2), (4, 3, 6, 5, 3, 1), (2, 2, 3, 4, 2, 0),
                                        (3, 2, 5, 6, 2, 2), (2, 3, 4, 1, 2, 1), (1, 2, 2, 3000, 2, 1)] {
            let x = Tensor(shape: [2, cin, t], values: (0..<(2 * cin * t)).map { _ in rng.nextNormal() })
            let w = Tensor(shape: [cin, cout, k], values: (0..<(cin * cout * k)).map { _ in rng.nextNormal() })
            let b = Tensor(shape: [cout], values: (0..<cout).map { _ in rng.nextNormal() })
            let reference = Conv.convTranspose1d(x, w, b, stride: s, padding: p)
            let ours = Conv.convTranspose1dPhases(x, taps: Conv.packTransposedTaps(w), b, stride: s, padding: p)
            XCTAssertEqual(ours.shape, reference.shape)
            XCTAssertLessThan(relativeError(ours, reference), 1e-6, "\((cin, cout, k, t, s, p))")
        }
    }
}

/// The benchmark builds the published 5b shapes and decodes; no timing is asserted here.
final class VQVAEBenchmarkTests: XCTestCase {
    func testBenchmarkDecodesThePublishedShapes() throws {
        let result = try VQVAEBenchmark.run(seconds: 0.05, level: 2, repeats: 1)
        XCTAssertEqual(result.audioSeconds, Double(17 * 128) / 44100, accuracy: 1e-9)
        XCTAssertTrue(result.realtimeFactor.isFinite && result.realtimeFactor > 0)
        XCTAssertThrowsError(try VQVAEBenchmark.run(seconds: 0.05, level: 3))
        let published = try VQVAEHyperparameters(Hyperparameters(VQVAEHyperparameters.published5b, source: "5b"))
        XCTAssertEqual(try VQVAE.parameterShapes(Hyperparameters(VQVAEHyperparameters.published5b, source: "5b"))
                        .first { $0.key == "decoders.0.level_blocks.0.model.1.0.model.0.model.1.weight" }?.shape, [64, 64, 3])
        // Level 0 decodes cost more per code than the top level but far less per audio sample.
        XCTAssertGreaterThan(VQVAEBenchmark.decodeFlops(published, level: 2, codes: 1),
                             VQVAEBenchmark.decodeFlops(published, level: 0, codes: 1))
    }
}
