import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Adam, its schedule and clipping, training a tiny prior, and checkpoints that resume bit for bit.
final class PriorTrainingTests: XCTestCase {
    func testScheduleFollowsTheReferenceLambda() {
        var s = AdamSettings()
        s.lr = 0.5; s.lrWarmup = 4; s.lrDecay = 10; s.lrGamma = 0.5
        // Warm-up from 0 (step 0 has lr 0, as LambdaLR's first step), then a step decay every lr_decay steps.
        XCTAssertEqual(s.learningRate(step: 0), 0)
        XCTAssertEqual(s.learningRate(step: 2), 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 9), 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 10), 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 25), 0.125, accuracy: 1e-12)
        s.lrUseLinearDecay = true; s.lrStartLinearDecay = 6
        XCTAssertEqual(s.learningRate(step: 6), 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 11), 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 16), 0, accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 30), 0, accuracy: 1e-12)
        s.lrUseLinearDecay = false; s.lrUseCosineDecay = true
        XCTAssertEqual(s.learningRate(step: 11), 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 8), 0.5 * 0.5 * (1 + cos(Double.pi * 0.2)), accuracy: 1e-12)
        XCTAssertEqual(s.learningRate(step: 40), 0, accuracy: 1e-12)
    }

    func testSettingsComeFromTheReferenceNames() throws {
        let h = Hyperparameters(["lr": 0.001, "beta2": 0.95, "clip": 2.0, "lr_warmup": 10.0, "weight_decay": 0.01,
                                 "lr_use_cosine_decay": true, "lr_start_linear_decay": 5], source: "t")
        let s = try AdamSettings(hps: h)
        XCTAssertEqual(s.lr, 0.001); XCTAssertEqual(s.beta2, 0.95); XCTAssertEqual(s.clip, 2)
        XCTAssertEqual(s.lrWarmup, 10); XCTAssertEqual(s.weightDecay, 0.01); XCTAssertTrue(s.lrUseCosineDecay)
        XCTAssertEqual(s.lrStartLinearDecay, 5); XCTAssertEqual(s.beta1, 0.9)
        XCTAssertThrowsError(try AdamSettings(hps: Hyperparameters(["beta1": 1.0], source: "t")))
    }

    func settings(lr: Double, clip: Double = 1e9) -> AdamSettings {
        var s = AdamSettings()
        s.lr = lr; s.lrWarmup = 0; s.clip = clip
        return s
    }

    func testFirstStepMovesEachWeightByTheLearningRateAndClippingScalesTheMoments() {
        let w = Tensor(shape: [4], values: [1, -2, 3, 0.5])
        let g = Tensor(shape: [4], values: [3, -4, 0, 12])     // norm 13
        let adam = AdamOptimizer(settings: settings(lr: 0.1, clip: 6.5))
        let report = adam.update([("w", w)], grads: ["w": g])
        XCTAssertEqual(report.gradNorm, 13, accuracy: 1e-9)
        XCTAssertFalse(report.skipped)
        // Bias-corrected Adam's first step is lr·g/(|g| + eps) per weight, whatever the scale.
        XCTAssertEqual(w.toArray()[0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(w.toArray()[1], -1.9, accuracy: 1e-6)
        XCTAssertEqual(w.toArray()[2], 3, accuracy: 1e-7)
        XCTAssertEqual(w.toArray()[3], 0.4, accuracy: 1e-6)
        // The moments saw the gradient clipped to norm 6.5 (divided by 2).
        let m: [Float] = [0.15, -0.2, 0, 0.6]
        XCTAssertEqual(adam.moments["w"]!.m.toArray(), m, accuracy: 1e-6)
    }

    func testWeightDecayAndSkippedSteps() {
        var s = settings(lr: 0.1)
        s.weightDecay = 0.5; s.ignoreGradNorm = 100
        let adam = AdamOptimizer(settings: s)
        let w = Tensor(shape: [2], values: [2, -4])
        adam.update([("w", w)], grads: ["w": Tensor(zeros: [2])])
        // No gradient: only the decay term, scaled by the step size (lr at step 1 with bias correction).
        let stepSize = 0.1 * (1 - 0.999).squareRoot() / (1 - 0.9)
        let expected: [Float] = [Float(2 - stepSize * 0.5 * 2), Float(-4 + stepSize * 0.5 * 4)]
        XCTAssertEqual(w.toArray(), expected, accuracy: 1e-6)
        let before = w.toArray()
        let r = adam.update([("w", w)], grads: ["w": Tensor(shape: [2], values: [1000, 0])])
        XCTAssertTrue(r.skipped)
        XCTAssertEqual(w.toArray(), before)
        XCTAssertEqual(adam.step, 1)
    }

    func testAdamMinimisesAQuadratic() {
        let target: [Float] = [0.3, -1.2, 2.5, 0, -0.7]
        let w = Tensor(zeros: [5])
        var s = settings(lr: 0.05)
        s.lrUseCosineDecay = true; s.lrDecay = 400
        let adam = AdamOptimizer(settings: s)
        for _ in 0..<400 {
            let g = Tensor(zeros: [5])
            for i in 0..<5 { g.data[i] = w.data[i] - target[i] }
            adam.update([("w", w)], grads: ["w": g])
        }
        XCTAssertEqual(w.toArray(), target, accuracy: 1e-3)
    }

    // MARK: A tiny prior

    static func tinyHps(_ changes: [String: Any] = [:]) -> Hyperparameters {
        PriorGradCheckTests.hps(["l_bins": 8, "n_ctx": 16, "prior_width": 16, "prior_depth": 2, "lr": 0.01,
                                 "lr_warmup": 2.0, "clip": 1.0].merging(changes) { _, b in b })
    }

    func testTrainingATinyPriorLowersItsLoss() throws {
        let model = try TrainablePrior.random(hps: Self.tinyHps(), seed: 5)
        let trainer = try PriorTrainer.make(model)
        let b = PriorGradCheckTests.batch(model, 2, seed: 9)
        let first = try trainer.step(z: b.z, zCond: nil, y: b.y, batch: 2).loss.total
        var last = first
        for _ in 0..<30 { last = try trainer.step(z: b.z, zCond: nil, y: b.y, batch: 2).loss.total }
        print("tiny prior: loss \(first) → \(last) bits after 31 steps")
        XCTAssertLessThan(last, 0.6 * first)
    }

    func testResumingFromACheckpointContinuesBitForBit() throws {
        for changes: [String: Any] in [[:], ["level": 1], ["ema": true, "mu": 0.9]] {
            let hps = Self.tinyHps(changes)
            let batches = (0..<6).map { i in
                PriorGradCheckTests.batch(try! TrainablePrior.random(hps: hps, seed: 1), 2, seed: 100 + UInt64(i))
            }
            func train(_ t: PriorTrainer, _ range: Range<Int>) throws {
                for i in range { try t.step(z: batches[i].z, zCond: batches[i].zCond, y: batches[i].y, batch: 2) }
            }
            let straight = try PriorTrainer.make(try .random(hps: hps, seed: 7))
            try train(straight, 0..<6)

            let first = try PriorTrainer.make(try .random(hps: hps, seed: 7))
            try train(first, 0..<4)
            let folder = temporaryFolder(self) + "/ckpt"
            try TrainingCheckpoint.save(first, dataSeed: 3, batchesDrawn: 4, lastLoss: 1.5, to: folder)
            // Saving again over it swaps the folder whole.
            try TrainingCheckpoint.save(first, dataSeed: 3, batchesDrawn: 4, lastLoss: 1.5, to: folder)
            let (resumed, state) = try TrainingCheckpoint.load(folder: folder)
            XCTAssertEqual(state.step, 4); XCTAssertEqual(state.batchesDrawn, 4); XCTAssertEqual(state.dataSeed, 3)
            XCTAssertEqual(resumed.ema != nil, changes["ema"] != nil)
            try train(resumed, 4..<6)

            XCTAssertEqual(resumed.optimizer.step, straight.optimizer.step)
            XCTAssertEqual(resumed.model.parameters.map(\.key), straight.model.parameters.map(\.key))
            for ((key, a), (_, b)) in zip(resumed.model.parameters, straight.model.parameters) {
                XCTAssertEqual(a.toArray().map(\.bitPattern), b.toArray().map(\.bitPattern), "\(changes) \(key)")
                if let ea = resumed.ema?.state[key], let eb = straight.ema?.state[key] {
                    XCTAssertEqual(ea.toArray().map(\.bitPattern), eb.toArray().map(\.bitPattern), "\(changes) average of \(key)")
                }
            }
            // The checkpoint is also a model folder the sampler loads.
            XCTAssertNoThrow(try PriorModel.load(folder: folder))
        }
    }

    func testTheMovingAverageIsWhatTheCheckpointPublishes() throws {
        let model = try TrainablePrior.random(hps: Self.tinyHps(["ema": true, "mu": 0.75]), seed: 2)
        let trainer = try PriorTrainer.make(model)
        let ema = try XCTUnwrap(trainer.ema)
        XCTAssertEqual(ema.mu, 0.75)
        // The average by hand: a_k = mu·a_(k−1) + (1 − mu)·w_k from a_0 = w_0.
        var expected = Dictionary(uniqueKeysWithValues: model.distinctParameters.map { ($0.key, $0.tensor.toArray()) })
        let b = PriorGradCheckTests.batch(model, 2, seed: 4)
        for _ in 0..<3 {
            try trainer.step(z: b.z, zCond: nil, y: b.y, batch: 2)
            for (key, t) in model.distinctParameters {
                let w = t.toArray()
                expected[key] = zip(expected[key]!, w).map { a, x in Float(0.75) * a + (1 - Float(0.75)) * x }
            }
        }
        let folder = temporaryFolder(self) + "/ckpt"
        try TrainingCheckpoint.save(trainer, dataSeed: 0, batchesDrawn: 3, lastLoss: nil, to: folder)
        let published = try SafetensorsFile(path: folder + "/weights.safetensors")
        let raw = try SafetensorsFile(path: folder + "/training_weights.safetensors")
        var differs = 0
        for (key, now) in model.distinctParameters {
            XCTAssertEqual(try raw.tensor(key).toArray(), now.toArray(), key)
            let average = try published.tensor(key).toArray()
            XCTAssertEqual(average, expected[key]!, accuracy: 1e-6)
            if average != now.toArray() { differs += 1 }
        }
        XCTAssertGreaterThan(differs, 0, "the published weights are the average, not the last weights")
        // The tied x_out is published with x_emb's average.
        XCTAssertEqual(try published.tensor("prior.x_out.weight").toArray(), try published.tensor("prior.x_emb.weight").toArray())
        // The reference's default decay: 1 − bs/8/1000.
        XCTAssertEqual(try ExponentialMovingAverage.mu(hps: Hyperparameters(["bs": 4], source: "t")), 0.9995, accuracy: 1e-7)
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
