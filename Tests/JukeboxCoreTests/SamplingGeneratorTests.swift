import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Hierarchical sampling on small random models: a two-level VQ-VAE (hops 2 and 4), a labelled top
/// prior and an upsampler conditioned on it.
final class SamplingGeneratorTests: XCTestCase {
    static let lBins = 23

    static func vqvae() throws -> VQVAE {
        try VQVAE.random(Hyperparameters([
            "levels": 2, "downs_t": [1, 1], "strides_t": [2, 2], "emb_width": 6, "l_bins": lBins,
            "hvqvae_multipliers": [1, 1], "width": 5, "depth": 2, "m_conv": 1.0, "dilation_growth_rate": 2,
            "dilation_cycle": 2, "vqvae_reverse_decoder_dilation": false, "sr": 22050,
        ], source: "test vqvae"), seed: 1)
    }

    static func priorHps(level: Int, _ changes: [String: Any] = [:]) -> Hyperparameters {
        var c: [String: Any] = ["level": level, "levels": 2, "l_bins": lBins, "n_ctx": 16, "blocks": 4,
                                "downs_t": [1, 1], "strides_t": [2, 2], "cond_width": 8, "cond_depth": 2,
                                "cond_m_conv": 1.0, "cond_dilation_growth_rate": 2, "cond_dilation_cycle": 2,
                                "cond_res_scale": false, "cond_zero_out": false, "cond_c_res": 0]
        for (k, v) in changes { c[k] = v }
        return PriorModelTests.hps(c)
    }

    static func model(level: Int, _ changes: [String: Any] = [:], seed: UInt64) throws -> PriorModel {
        let hps = priorHps(level: level, changes)
        let prior = try Prior.randomWeights(hps: hps, seed: seed)
        let conditioner = level == 0
            ? try UpsamplerConditioner(parameters: ParameterRecorder(seed: seed + 1), settings: .init(hps)) : nil
        return PriorModel(prior: prior, conditioner: conditioner, hps: hps, folder: "")
    }

    static func set(_ vqvae: VQVAE, _ priors: [Int: PriorModel]) -> ModelSet {
        ModelSet(folder: "", vqvae: vqvae, priors: priors, vocabularies: [:])
    }

    static let shared: ModelSet = try! set(vqvae(), [0: model(level: 0, seed: 20), 1: model(level: 1, seed: 10)])

    /// 96 audio samples: 24 top-level tokens (windows at 0 and 8), 48 bottom tokens (0, 8, 16, 24, 32).
    func prompt(samples: Int = 2, seed: UInt64 = 7, sampleLength: Int = 96) -> GenerationPrompt {
        GenerationPrompt(artistID: 3, genreIDs: [1], lyricTokens: [], totalLength: 44100, sampleLength: sampleLength,
                         settings: [SamplingSettings(temperature: 1)], seed: seed, samples: samples)
    }

    func testCachedSamplingEqualsRecomputingTheFullForward() throws {
        let topLevel = try Self.model(level: 1, seed: 10)
        let lyrics = try Self.model(level: 1, PriorModelTests.singleEncDec.merging(["level": 1, "levels": 2, "l_bins": Self.lBins]) { _, b in b }, seed: 30)
        for (model, tokens) in [(topLevel, Array(0..<5)), (lyrics, [4, 1, 7, 2, 8, 5, 3, 0, 6, 2, 1])] {
            let models = try Self.set(Self.vqvae(), [1: model])
            var p = prompt(samples: 2)
            p.lyricTokens = tokens
            p.sampleLength = 4 * (model.nCtx + 6)   // two windows
            p.settings = [SamplingSettings(temperature: 0.9, topK: 12)]
            let got = try Generator(models: models).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1]
            XCTAssertEqual(got.t, model.nCtx + 6)
            XCTAssertEqual(got.values, try naiveLevel(model, prompt: p, tokens: got.t), "n_ctx \(model.nCtx)")
            XCTAssertTrue(got.values.allSatisfy { $0 >= 0 && $0 < Self.lBins })
        }
    }

    /// A level sampled without any cache: every token from a full forward over its window (and, for the
    /// upsampler, x_cond from the conditioner over the window's span of `above`).
    func naiveLevel(_ model: PriorModel, prompt p: GenerationPrompt, tokens T: Int, level: Int = 1,
                    above: LevelCodes? = nil) throws -> [Int] {
        let c = model.prior.config, nCtx = c.nCtx, bins = model.prior.prior.bins, hop = level == 1 ? 4 : 2
        let plan = try WindowPlan(level: level, nCtx: nCtx, hopFraction: p.hopFraction[level], totalTokens: T,
                                  existingTokens: 0, rawToTokens: hop, condDownsample: level == 1 ? nil : 2)
        var rows = [[Int]](repeating: [], count: p.samples)
        var sampler = TokenSampler()
        for w in plan.windows {
            let song = SongLabels(artistID: p.artistID, genreIDs: p.genreIDs, fullTokens: p.lyricTokens, totalLength: p.totalLength,
                                  barClock: p.barClock)
            let y = try LabelVector.forWindow(song, start: w.start, rawToTokens: hop, sampleLength: nCtx * hop,
                                              layout: c.labelLayout).y
            for pos in w.existing..<w.length {
                for s in 0..<p.samples {
                    var xCond: Tensor? = nil
                    if let above, let span = w.conditioning {
                        let zc = try LevelCodes(n: 1, t: span.count, values: Array(above.row(s)[(s * above.t + span.lowerBound)..<(s * above.t + span.upperBound)]))
                        xCond = try model.xCond(zCond: zc, batch: 1, length: nCtx)
                    }
                    let z = Array(rows[s][w.start..<(w.start + pos)]) + [0]
                    let logits = try model.prior.logits(z: z, batch: 1, y: y, xCond: xCond)
                    let row = logits.data + (c.prefixLength + pos) * bins + c.codeOffset
                    var rng = SampleStreams.generator(seed: p.seed, level: level, sample: s, position: w.start + pos)
                    rows[s].append(sampler.draw(row, count: c.lBins, settings: p.settings[0], rng: &rng))
                }
            }
        }
        return Array(rows.joined())
    }

    /// A top prior with a bar clock samples each window with the prompt's clock, as the full forward over
    /// that window's labels does; another tempo draws other codes from the same seed.
    func testTheBarClockReachesEveryWindow() throws {
        let model = try Self.model(level: 1, ["bar_clock_bins": 8], seed: 40)
        let models = try Self.set(Self.vqvae(), [1: model])
        var p = prompt(samples: 2)
        p.sampleLength = 4 * (model.nCtx + 10)   // two windows
        p.barClock = BarClock(barLength: 4 * 12, downbeat: 8)
        let clocked = try Generator(models: models).generate(p, mode: .ancestral(lowestLevel: 1)).codes[1]
        XCTAssertEqual(clocked.values, try naiveLevel(model, prompt: p, tokens: clocked.t))
        var other = p
        other.barClock = BarClock(barLength: 4 * 7, downbeat: 0)
        let faster = try Generator(models: models).generate(other, mode: .ancestral(lowestLevel: 1)).codes[1]
        XCTAssertEqual(faster.values, try naiveLevel(model, prompt: other, tokens: faster.t))
        XCTAssertNotEqual(faster.values, clocked.values)
    }

    func testCachedUpsamplingEqualsRecomputingTheFullForward() throws {
        let generator = Generator(models: Self.shared)
        var p = prompt()
        p.settings = [SamplingSettings(temperature: 1.1, topP: 0.9)]
        var rng = SeededGenerator(seed: 12)
        let top = try LevelCodes(n: 2, t: 24, values: (0..<48).map { _ in Int(rng.next() % UInt64(Self.lBins)) })
        let got = try generator.generate(p, mode: .upsample(top: top)).codes[0]
        XCTAssertEqual(got.values, try naiveLevel(Self.shared.priors[0]!, prompt: p, tokens: 48, level: 0, above: top))
    }

    func testSameSeedGivesTheSameCodesWhateverTheBatch() throws {
        let generator = Generator(models: Self.shared)
        let three = try generator.generate(prompt(samples: 3), mode: .ancestral(lowestLevel: 0))
        XCTAssertFalse(three.cancelled)
        XCTAssertEqual(three.codes.map(\.t), [48, 24])
        XCTAssertEqual(try generator.generate(prompt(samples: 3), mode: .ancestral(lowestLevel: 0)).codes, three.codes)
        for i in 0..<3 {
            var one = prompt(samples: 1)
            one.firstSampleIndex = i
            let single = try generator.generate(one, mode: .ancestral(lowestLevel: 0))
            for level in 0..<2 { XCTAssertEqual(single.codes[level].values, Array(three.codes[level].row(i)), "sample \(i) level \(level)") }
        }
        // Samples of one batch differ from each other, and another seed differs.
        XCTAssertNotEqual(three.codes[1].row(0), three.codes[1].row(1))
        let other = try generator.generate(prompt(samples: 3, seed: 8), mode: .ancestral(lowestLevel: 0))
        XCTAssertNotEqual(other.codes[1], three.codes[1])
        XCTAssertNotEqual(other.codes[0], three.codes[0])
    }

    func testAncestralTopOnlyAndUpsampleFillOnlyTheirLevels() throws {
        let generator = Generator(models: Self.shared)
        let top = try generator.generate(prompt(), mode: .ancestral(lowestLevel: 1))
        XCTAssertEqual(top.codes.map(\.t), [0, 24])
        let up = try generator.generate(prompt(), mode: .upsample(top: top.codes[1]))
        XCTAssertEqual(up.codes[1], top.codes[1])
        XCTAssertEqual(up.codes[0].t, 48)
        // Upsampling is what the ancestral run does below the top, given the same top codes.
        let all = try generator.generate(prompt(), mode: .ancestral(lowestLevel: 0))
        XCTAssertEqual(all.codes[1], top.codes[1])
        XCTAssertEqual(all.codes[0], up.codes[0])
        // Other top codes condition the upsampler differently.
        let shifted = try LevelCodes(n: 2, t: 24, values: top.codes[1].values.map { ($0 + 5) % Self.lBins })
        XCTAssertNotEqual(try generator.generate(prompt(), mode: .upsample(top: shifted)).codes[0], up.codes[0])
        // The upsampler needs the level above: a top level too short for the windows is an error.
        let short = try LevelCodes(n: 2, t: 10, values: Array(top.codes[1].values.prefix(20)))
        XCTAssertThrowsError(try generator.generate(prompt(), mode: .upsample(top: short))) { XCTAssertTrue("\($0)".contains("z_cond"), "\($0)") }
    }

    func testContinueAndPrimedNeverChangeExistingTokens() throws {
        let generator = Generator(models: Self.shared)
        var rng = SeededGenerator(seed: 4)
        let existing = try [LevelCodes(n: 2, t: 13, values: (0..<26).map { _ in Int(rng.next() % 23) }),
                            LevelCodes(n: 2, t: 11, values: (0..<22).map { _ in Int(rng.next() % 23) })]
        let result = try generator.generate(prompt(), mode: .continuation(existing))
        XCTAssertEqual(result.codes.map(\.t), [48, 24])
        for level in 0..<2 {
            for s in 0..<2 { XCTAssertEqual(Array(result.codes[level].row(s).prefix(existing[level].t)), Array(existing[level].row(s))) }
        }
        // Primed: audio encoded by the VQ-VAE, one row shared by both samples.
        let audio = VQVAEShapeTests.audio(n: 1, t: 40, seed: 5)
        let codes = try Self.shared.vqvae.encode(audio)
        let primed = try generator.generate(prompt(), mode: .primed(audio: audio))
        XCTAssertEqual(primed.codes.map(\.t), [48, 24])
        for level in 0..<2 {
            XCTAssertEqual(codes[level].t, 40 / Self.shared.vqvae.hopLengths[level])
            for s in 0..<2 { XCTAssertEqual(Array(primed.codes[level].row(s).prefix(codes[level].t)), Array(codes[level].row(0))) }
        }
        XCTAssertNotEqual(primed.codes[0].row(0), primed.codes[0].row(1))
    }

    func testEventsAndCancellationKeepWhatWasSampled() throws {
        let generator = Generator(models: Self.shared)
        var events: [GenerationEvent] = []
        let full = try generator.generate(prompt(), mode: .ancestral(lowestLevel: 0)) { events.append($0) }
        let windows = events.compactMap { e -> Int? in if case .windowStarted(let l, _, let s, _) = e { return l * 1000 + s }; return nil }
        XCTAssertEqual(windows, [1000, 1008, 0, 8, 16, 24, 32])
        let finished = events.compactMap { e -> Int? in if case .levelFinished(let l) = e { return l }; return nil }
        XCTAssertEqual(finished, [1, 0])
        var sampled: [[Int]] = [[], []]
        for case .tokensSampled(let level, let samples, let positions, let values) in events {
            XCTAssertEqual(samples, 0..<2)
            XCTAssertEqual(positions.lowerBound, sampled[level].count / 2)
            sampled[level] += values
        }
        XCTAssertEqual(sampled[1].count, 48)
        XCTAssertEqual(sampled[0].count, 96)
        let progress = events.compactMap { e -> (Int, Int, Int)? in if case .progress(let l, let d, let t, _, _) = e { return (l, d, t) }; return nil }
        XCTAssertTrue(progress.contains { $0 == (1, 24, 24) } && progress.contains { $0 == (0, 48, 48) })

        // Cancel after 20 top-level tokens (inside the second window).
        let flag = CancelFlag()
        var seen = 0, last: GenerationEvent?
        let cut = try generator.generate(prompt(), mode: .ancestral(lowestLevel: 0), cancel: flag) { event in
            if case .tokensSampled = event { seen += 1; if seen == 20 { flag.cancel() } }
            last = event
        }
        XCTAssertTrue(cut.cancelled)
        XCTAssertEqual(last, .cancelled)
        XCTAssertEqual(cut.codes.map(\.t), [0, 20])
        for s in 0..<2 { XCTAssertEqual(Array(cut.codes[1].row(s)), Array(full.codes[1].row(s).prefix(20))) }
        // Continuing the cancelled codes finishes as the uninterrupted run did (each position has its own stream).
        let resumed = try generator.generate(prompt(), mode: .continuation(cut.codes))
        XCTAssertEqual(resumed.codes, full.codes)
    }

    func testBadRequestsAreOneLineErrors() throws {
        let generator = Generator(models: Self.shared)
        var failed: String?
        XCTAssertThrowsError(try generator.generate(prompt(sampleLength: 90), mode: .ancestral(lowestLevel: 0)) {
            if case .failed(let m) = $0 { failed = m }
        }) { XCTAssertTrue("\($0)".contains("sample_length"), "\($0)") }
        XCTAssertNotNil(failed)
        XCTAssertThrowsError(try generator.generate(prompt(samples: 0), mode: .ancestral(lowestLevel: 0)))
        XCTAssertThrowsError(try generator.generate(prompt(), mode: .ancestral(lowestLevel: 2)))
        let noTop = Self.set(Self.shared.vqvae, [0: Self.shared.priors[0]!])
        XCTAssertThrowsError(try Generator(models: noTop).generate(prompt(), mode: .ancestral(lowestLevel: 0))) {
            XCTAssertTrue("\($0)".contains("level 1"), "\($0)")
        }
        let swapped = Self.set(Self.shared.vqvae, [0: Self.shared.priors[1]!, 1: Self.shared.priors[1]!])
        XCTAssertThrowsError(try Generator(models: swapped).generate(prompt(), mode: .ancestral(lowestLevel: 0))) {
            XCTAssertTrue("\($0)".contains("prior_level_0"), "\($0)")
        }
        let bad = try LevelCodes(n: 2, t: 2, values: [0, 1, 2, 99])
        XCTAssertThrowsError(try generator.generate(prompt(), mode: .continuation([LevelCodes(n: 0, t: 0, values: []), bad])))
    }
}

extension SamplingGeneratorTests {
    func testStreamDeliversEventsAndCancelStopsWithinATenthOfASecond() async throws {
        let generator = Generator(models: Self.shared)
        var p = prompt(samples: 1)
        p.sampleLength = 4 * 4000
        let flag = CancelFlag()
        let (events, task) = generator.stream(p, mode: .ancestral(lowestLevel: 1), cancel: flag)
        var tokens = 0, last: GenerationEvent?
        var cancelledAt: UInt64 = 0
        for await event in events {
            if case .tokensSampled = event {
                tokens += 1
                if tokens == 5 { cancelledAt = DispatchTime.now().uptimeNanoseconds; flag.cancel() }
            }
            last = event
        }
        let result = try await task.value
        let latency = Double(DispatchTime.now().uptimeNanoseconds - cancelledAt) / 1e9
        XCTAssertLessThan(latency, 0.1)
        XCTAssertTrue(result.cancelled, "the run finished before the cancel: make it longer")
        XCTAssertEqual(last, .cancelled)
        XCTAssertEqual(result.codes[1].t, tokens)
        XCTAssertLessThan(tokens, 4000)
    }
}

extension SamplingGeneratorTests {
    /// prior.get_y per window: sample_length is the window's audio, the offset moves with the window and
    /// the lyric tokens are those around it.
    func testLabelsFollowTheWindow() throws {
        let model = try Self.model(level: 1, PriorModelTests.singleEncDec.merging(["level": 1, "levels": 2, "l_bins": Self.lBins]) { _, b in b }, seed: 30)
        let models = try Self.set(Self.vqvae(), [1: model])
        var p = prompt(samples: 2)
        p.totalLength = 4 * 200
        p.offset = 4 * 10
        p.lyricTokens = (0..<40).map { $0 % 9 }
        p.sampleLength = 4 * 100
        let generator = Generator(models: models)
        let plan = try generator.plan(level: 1, model: model, prompt: p, existing: 0)
        XCTAssertEqual(plan.windows.map(\.start), [0, 13, 26, 39, 52, 65, 74])
        let nTokens = model.prior.config.nTokens, first = 4 + model.prior.config.maxBowGenreSize
        var lyricStarts: [Int] = []
        for w in plan.windows {
            let y = try XCTUnwrap(try generator.labels(model, prompt: p, window: w, rawToTokens: 4))
            XCTAssertEqual(y.count, 2 * (first + nTokens))
            XCTAssertEqual(Array(y[0..<4]), [p.totalLength, p.offset + 4 * w.start, 4 * model.nCtx, p.artistID])
            XCTAssertEqual(Array(y[0..<(first + nTokens)]), Array(y[(first + nTokens)...]))
            // Lyrics 0…8 repeating: the window's first token tells where it was cut.
            let (_, indices) = try LyricWindow.relevantTokens(p.lyricTokens, nTokens: nTokens, totalLength: p.totalLength,
                                                              offset: p.offset + 4 * w.start, duration: 4 * model.nCtx)
            XCTAssertEqual(Array(y[first..<(first + nTokens)]), indices.map { p.lyricTokens[$0] })
            lyricStarts.append(indices[0])
        }
        XCTAssertEqual(lyricStarts, lyricStarts.sorted())
        XCTAssertGreaterThan(lyricStarts.last!, lyricStarts.first!)
    }
}

extension SamplingGeneratorTests {
    /// The whole pipeline on the tiny random model set as loaded from disk: names and lyrics through the
    /// Labeller, three levels sampled top down, the bottom level decoded to audio.
    func testTinyModelSetSamplesEveryLevelAndDecodes() throws {
        let (set, p) = try tinyModelSet(self, setSeed: 2, artist: RandomModelSet.artists[0], genre: "rock",
                                        lyrics: "la la la, the tiny model sings along", totalSeconds: 30,
                                        sampleLength: 4096, seed: 3, samples: 2, chunkSize: 16)
        var windows = 0
        let result = try Generator(models: set).generate(p, mode: .ancestral(lowestLevel: 0)) {
            if case .windowFinished = $0 { windows += 1 }
        }
        XCTAssertEqual(result.codes.map(\.t), [512, 128, 32])
        XCTAssertEqual(windows, 7 + 1 + 1)
        for codes in result.codes { XCTAssertTrue(codes.values.allSatisfy { $0 >= 0 && $0 < set.vqvae.codebookSize }) }
        let audio = try set.vqvae.decode(result.codes[0], level: 0)
        XCTAssertEqual(audio.shape, [2, 4096, 1])
    }
}
