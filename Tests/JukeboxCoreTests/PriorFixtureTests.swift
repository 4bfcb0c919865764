import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The priors against the reference fixtures: conditioning, full forward, cached forward, training loss.
final class PriorFixtureTests: XCTestCase {
    struct Case {
        let prior: Prior
        let z: [Int]
        let y: [Int]
        let batch: Int
        let io: SafetensorsFile
        /// x_cond to pass: the fixture's for upsamplers (their conditioner is built elsewhere), nil at the top.
        let xCond: Tensor?
    }

    func load(_ name: String) throws -> Case {
        let folder = try Fixtures.folder(name)
        let prior = try Prior.load(folder: folder, leaving: ["conditioner_blocks."])
        let io = try Fixtures.io(name)
        let z = try io.int64s("z")
        let batch = try io.entry("z").shape[0]
        let xCond = prior.config.isTopLevel ? nil : try io.tensor("x_cond")
        return Case(prior: prior, z: z, y: try io.int64s("y"), batch: batch, io: io, xCond: xCond)
    }

    /// Logits of the code positions (the single encoder-decoder's fixture also holds the lyric positions).
    func codeRows(_ logits: Tensor, prefix: Int, codes: Int) -> Tensor {
        let n = logits.shape[0], len = logits.shape[1], v = logits.shape[2]
        let out = Tensor(zeros: [n, codes, v])
        for b in 0..<n {
            (out.data + b * codes * v).update(from: logits.data + (b * len + prefix) * v, count: codes * v)
        }
        return out
    }

    /// Runs the codes through the key/value cache in chunks of the given sizes (cycled) and gathers logits.
    func cachedLogits(_ c: Case, chunks: [Int]) throws -> Tensor {
        let p = c.prior, L = p.config.nCtx, v = p.prior.bins
        let state = try p.makeState(batch: c.batch, y: c.y, xCond: c.xCond)
        let out = Tensor(zeros: [c.batch, L, v])
        var t = 0, k = 0
        while t < L {
            let T = min(chunks[k % chunks.count], L - t)
            k += 1
            var previous: [Int] = []
            for n in 0..<c.batch { for i in 0..<T { previous.append(t + i == 0 ? 0 : c.z[n * L + t + i - 1]) } }
            let logits = try p.forward(state, previousCodes: previous, count: T)!
            XCTAssertEqual(logits.shape, [c.batch, T, v])
            for n in 0..<c.batch {
                (out.data + (n * L + t) * v).update(from: logits.data + n * T * v, count: T * v)
            }
            t += T
        }
        XCTAssertEqual(state.codes, L)
        return out
    }

    func check(_ name: String) throws {
        let c = try load(name)
        let p = c.prior
        let cond = try p.conditioning(y: c.y, batch: c.batch, xCond: c.xCond)
        if let yCond = cond.yCond { assertClose(yCond, try c.io.tensor("y_cond"), "\(name) y_cond") }
        if p.config.isTopLevel, let xCond = cond.xCond {
            assertClose(xCond, try c.io.tensor("x_cond"), "\(name) x_cond (timing signal)")
        }
        let ref = try c.io.tensor("logits")
        let full = try p.logits(z: c.z, batch: c.batch, y: c.y, xCond: c.xCond)
        XCTAssertEqual(full.shape, ref.shape)
        assertClose(full, ref, "\(name) logits, full forward")

        let refCodes = codeRows(ref, prefix: p.config.prefixLength, codes: p.config.nCtx)
        assertClose(try cachedLogits(c, chunks: [1]), refCodes, "\(name) logits, cache one token at a time")
        assertClose(try cachedLogits(c, chunks: [3, 1, 7, 2, 16]), refCodes, "\(name) logits, cache in chunks")

        let loss = try p.trainLoss(z: c.z, batch: c.batch, y: c.y, xCond: c.xCond)
        let refLoss = Double(try c.io.tensor("train_loss")[0])
        print("\(name) train_loss \(loss.total) (reference \(refLoss)), gen \(loss.gen), prime \(loss.prime)")
        XCTAssertEqual(loss.total, refLoss, accuracy: 1e-4 * abs(refLoss))

        let bits = try p.bitsPerToken(z: c.z, batch: c.batch, y: c.y, xCond: c.xCond)
        XCTAssertEqual(bits.count, c.batch)
        let mean = bits.joined().reduce(0, +) / Double(bits.joined().count)
        XCTAssertEqual(mean, loss.gen, accuracy: 1e-9 * max(1, loss.gen))
    }

    func testTopDense() throws { try check("prior_top_dense") }
    func testTopLabels() throws { try check("prior_top_labels") }
    func testTop1bLyrics() throws { try check("prior_top_1b_lyrics") }
    func testTop5bLyrics() throws { try check("prior_top_5b_lyrics") }
    func testUpsamplerLevel1() throws { try check("upsampler_level1") }
    func testUpsamplerLevel0() throws { try check("upsampler_level0") }

    func testLyricAttentionOfTheLayersThatSeeTheLyrics() throws {
        for name in ["prior_top_5b_lyrics", "prior_top_1b_lyrics"] {
            let c = try load(name)
            let n = c.prior.config.nTokens, L = c.prior.config.nCtx
            let layers = c.prior.prior.transformer.layers
            // The layers that see the lyrics: encoder-decoder (5b) or prime (1b) attention, wherever the
            // attention order puts them for this depth.
            let lyricLayers = layers.indices.filter { layers[$0].kind == .decode || layers[$0].kind == .prime }
            guard let layer = lyricLayers.last else {
                // Too shallow for the attention order to reach a lyrics layer: nothing to record.
                XCTAssertThrowsError(try c.prior.lyricAttention(layer: 0, head: 0, z: c.z, batch: c.batch, y: c.y))
                continue
            }
            for head in 0..<c.prior.prior.transformer.config.heads {
                let w = try c.prior.lyricAttention(layer: layer, head: head, z: c.z, batch: c.batch, y: c.y)
                XCTAssertEqual(w.shape, [c.batch, L, n])
                for b in 0..<c.batch {
                    for i in 0..<L {
                        let row = (0..<n).map { Double(w[(b * L + i) * n + $0]) }
                        let sum = row.reduce(0, +)
                        XCTAssertTrue(row.allSatisfy { $0 >= 0 })
                        if name.contains("5b") {
                            XCTAssertEqual(sum, 1, accuracy: 1e-5)   // decode attention sees only the lyrics
                        } else {
                            XCTAssertTrue(sum > 0 && sum < 1)        // prime attention also sees the first codes
                        }
                    }
                }
            }
            if let other = layers.indices.first(where: { !lyricLayers.contains($0) }) {
                XCTAssertThrowsError(try c.prior.lyricAttention(layer: other, head: 0, z: c.z, batch: c.batch, y: c.y))
            }
        }
    }

    func testUpsamplerFolderIsStrictAboutItsConditioner() throws {
        let folder = try Fixtures.folder("upsampler_level1")
        XCTAssertThrowsError(try Prior.load(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("conditioner_blocks.0"), "\(error)")
        }
    }

    func testParameterTableMatchesEveryFixtureFolder() throws {
        for name in ["prior_top_dense", "prior_top_labels", "prior_top_1b_lyrics", "prior_top_5b_lyrics",
                     "upsampler_level1", "upsampler_level0"] {
            let folder = try Fixtures.folder(name)
            let hps = try ModelConfig.load(folder: folder).hps
            let specs = try Prior.parameters(hps: hps)
            let file = try SafetensorsFile(path: folder + "/weights.safetensors")
            let own = file.names.filter { !$0.hasPrefix("conditioner_blocks.") }
            XCTAssertEqual(specs.map(\.key), own, "\(name): keys and state_dict order")
            for s in specs { XCTAssertEqual(file.entries[s.key]?.shape, s.shape, "\(name) \(s.key)") }
        }
    }
}
