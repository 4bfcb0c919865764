import Foundation
import JukeboxCore

/// A training run of one prior: draws batches, steps the optimizer, saves checkpoints every `saveEvery`
/// steps and at the end. Reports each step through a callback (the CLI draws progress from it).
public struct PriorTrainingRun {
    public let trainer: PriorTrainer
    public let data: PriorTrainingData
    public let batchSize: Int
    public let dataSeed: UInt64
    public let checkpointFolder: String
    public let saveEvery: Int
    /// Alignment guidance for a lyric head, on the songs whose word times are known (nil: none).
    public var guidance: AlignmentGuidance? = nil

    public init(trainer: PriorTrainer, data: PriorTrainingData, batchSize: Int, dataSeed: UInt64,
                checkpointFolder: String, saveEvery: Int) throws {
        guard batchSize > 0 else { throw JukeboxError("bs", "batch size must be at least 1, got \(batchSize)") }
        guard saveEvery > 0 else { throw JukeboxError("save-every", "must be at least 1, got \(saveEvery)") }
        self.trainer = trainer; self.data = data; self.batchSize = batchSize; self.dataSeed = dataSeed
        self.checkpointFolder = checkpointFolder; self.saveEvery = saveEvery
    }

    public struct StepEvent: Sendable {
        /// Optimizer steps done, and the run's target.
        public let step: Int, steps: Int
        public let loss: PriorLoss
        public let report: AdamOptimizer.StepReport
        public let saved: Bool
    }

    public struct Outcome: Sendable {
        /// Batches drawn in all (where a resumed run goes on).
        public let batchesDrawn: Int
        /// True when `cancel` stopped the run early (its last step is saved).
        public let interrupted: Bool
    }

    /// Trains from batch `firstBatch` until the optimizer has taken `steps` steps (skipped steps draw
    /// another batch). When `cancel` is set, stops after the step under way and saves it, so no finished
    /// step is lost.
    @discardableResult
    public func run(firstBatch: Int, steps: Int, cancel: CancelFlag? = nil, onStep: (StepEvent) -> Void) throws -> Outcome {
        var drawn = firstBatch
        var lastLoss: Double? = nil
        var unsaved = false
        let optimizer = trainer.optimizer
        while optimizer.step < steps {
            if cancel?.isCancelled == true {
                if unsaved {
                    try TrainingCheckpoint.save(trainer, dataSeed: dataSeed,
                                                batchesDrawn: drawn, lastLoss: lastLoss, to: checkpointFolder)
                }
                return Outcome(batchesDrawn: drawn, interrupted: true)
            }
            let b = try data.batch(index: drawn, size: batchSize, seed: dataSeed)
            drawn += 1
            let r = try trainer.step(z: b.z, zCond: b.zCond, y: b.y, batch: b.size, guidance: guidance,
                                     alignTargets: guidance == nil ? nil : b.alignTargets)
            lastLoss = r.loss.total
            let save = !r.step.skipped && (optimizer.step % saveEvery == 0 || optimizer.step == steps)
            if save {
                try TrainingCheckpoint.save(trainer, dataSeed: dataSeed,
                                            batchesDrawn: drawn, lastLoss: lastLoss, to: checkpointFolder)
            }
            unsaved = !save
            onStep(StepEvent(step: optimizer.step, steps: steps, loss: r.loss, report: r.step, saved: save))
        }
        return Outcome(batchesDrawn: drawn, interrupted: false)
    }
}

/// One optimizer step of a prior on one batch: loss, gradients, clipping, Adam.
public struct PriorTrainer {
    public let model: TrainablePrior
    public let optimizer: AdamOptimizer
    /// The weights' moving average, stepped after each optimizer step (nil: hps.ema off).
    public let ema: ExponentialMovingAverage?
    /// Key prefixes of the only parameters the optimizer changes (nil: all). Fine-tuning one layer's attention to
    /// follow the sung words, say, while the rest of the prior, and what it has learnt, stays as it was.
    public var trainable: [String]? = nil

    public init(model: TrainablePrior, optimizer: AdamOptimizer, ema: ExponentialMovingAverage? = nil) {
        self.model = model
        self.optimizer = optimizer
        self.ema = ema
    }

    /// A fresh trainer for `model`: Adam with the hps's settings, and the moving average when hps.ema is on.
    public static func make(_ model: TrainablePrior) throws -> PriorTrainer {
        let ema = try model.hps.has("ema") && model.hps.bool("ema")
        return PriorTrainer(model: model, optimizer: AdamOptimizer(settings: try AdamSettings(hps: model.hps)),
                            ema: ema ? ExponentialMovingAverage(parameters: model.distinctParameters, mu: try ExponentialMovingAverage.mu(hps: model.hps)) : nil)
    }

    public struct Report: Sendable {
        public let loss: PriorLoss
        public let step: AdamOptimizer.StepReport
    }

    @discardableResult
    public func step(z: [Int], zCond: [Int]?, y: [Int]?, batch: Int, guidance: AlignmentGuidance? = nil,
                     alignTargets: [Int]? = nil) throws -> Report {
        var (loss, grads) = try model.lossAndGradients(z: z, zCond: zCond, y: y, batch: batch, guidance: guidance,
                                                       alignTargets: alignTargets)
        var parameters = model.parameters
        if let trainable {
            parameters = parameters.filter { p in trainable.contains { p.key.hasPrefix($0) } }
            let keys = Set(parameters.map(\.key))
            grads = grads.filter { keys.contains($0.key) }
        }
        let report = optimizer.update(parameters, grads: grads)
        if !report.skipped { ema?.step(model.distinctParameters) }
        return Report(loss: loss, step: report)
    }
}
