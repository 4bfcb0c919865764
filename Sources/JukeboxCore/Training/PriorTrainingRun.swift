import Foundation

/// A training run of one prior: draws batches, steps the optimizer, saves checkpoints every `saveEvery`
/// steps and at the end. Reports each step through a callback (the CLI draws progress from it).
public struct PriorTrainingRun {
    public let trainer: PriorTrainer
    public let data: PriorTrainingData
    public let batchSize: Int
    public let dataSeed: UInt64
    public let checkpointFolder: String
    public let saveEvery: Int

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
                    try TrainingCheckpoint.save(model: trainer.model, optimizer: optimizer, dataSeed: dataSeed,
                                                batchesDrawn: drawn, lastLoss: lastLoss, to: checkpointFolder)
                }
                return Outcome(batchesDrawn: drawn, interrupted: true)
            }
            let b = try data.batch(index: drawn, size: batchSize, seed: dataSeed)
            drawn += 1
            let r = try trainer.step(z: b.z, zCond: b.zCond, y: b.y, batch: b.size)
            lastLoss = r.loss.total
            let save = !r.step.skipped && (optimizer.step % saveEvery == 0 || optimizer.step == steps)
            if save {
                try TrainingCheckpoint.save(model: trainer.model, optimizer: optimizer, dataSeed: dataSeed,
                                            batchesDrawn: drawn, lastLoss: lastLoss, to: checkpointFolder)
            }
            unsaved = !save
            onStep(StepEvent(step: optimizer.step, steps: steps, loss: r.loss, report: r.step, saved: save))
        }
        return Outcome(batchesDrawn: drawn, interrupted: false)
    }
}
