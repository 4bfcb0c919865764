import Foundation
import JukeboxCore

/// Where a training run stands, saved beside the weights (training.json).
public struct TrainingState: Codable, Sendable, Equatable {
    public static let currentFormat = 1
    public var format = TrainingState.currentFormat
    /// Optimizer steps taken.
    public var step: Int
    public var settings: AdamSettings
    /// Adam's step count of each parameter (they differ only where a parameter got no gradient).
    public var parameterSteps: [String: Int]
    /// What the caller's data order needs to go on where it stopped (seed; batches drawn so far).
    public var dataSeed: UInt64
    public var batchesDrawn: Int
    /// The last logged loss (bits per token), for the record.
    public var lastLoss: Double?
    /// The moving average's decay when weights.safetensors holds the average (raw weights then in
    /// training_weights.safetensors); nil without one.
    public var emaMu: Float?

    enum CodingKeys: String, CodingKey {
        case format, step, settings, parameterSteps = "parameter_steps", dataSeed = "data_seed"
        case batchesDrawn = "batches_drawn", lastLoss = "last_loss", emaMu = "ema_mu"
    }
}

/// A training checkpoint is a model folder (config.json + weights.safetensors, loadable wherever a prior is)
/// plus optimizer.safetensors (Adam's moments, `exp_avg.<key>` and `exp_avg_sq.<key>`) and training.json.
/// With a moving average (hps.ema), weights.safetensors holds the average, as the reference's checkpoints
/// do, and training_weights.safetensors the weights the optimizer goes on from. It is written into a hidden
/// folder beside the target and swapped in, so a crash never leaves a mix of two steps; resuming from it
/// continues bit for bit.
public enum TrainingCheckpoint {
    public static func save(_ trainer: PriorTrainer, dataSeed: UInt64, batchesDrawn: Int, lastLoss: Double?,
                            to folder: String) throws {
        let model = trainer.model, optimizer = trainer.optimizer
        try StagingFolder.replace(folder, purpose: "checkpoint") { work in
            try ModelConfig(kind: .prior, hps: model.hps).write(folder: work)
            var weights = SafetensorsWriter(), raw = SafetensorsWriter()
            for (key, t) in model.parameters {
                raw.add(key, t)
                // A tied x_out is saved with x_emb's average.
                let tied = model.distinctParameters.first { $0.tensor.storage === t.storage }!.key
                weights.add(key, trainer.ema?.state[tied] ?? t)
            }
            try weights.write(to: work + "/weights.safetensors")
            if trainer.ema != nil { try raw.write(to: work + "/training_weights.safetensors") }
            let (moments, steps) = optimizer.stateTensors()
            try moments.write(to: work + "/optimizer.safetensors")
            let state = TrainingState(step: optimizer.step, settings: optimizer.settings, parameterSteps: steps,
                                      dataSeed: dataSeed, batchesDrawn: batchesDrawn, lastLoss: lastLoss,
                                      emaMu: trainer.ema?.mu)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(encoder.encode(state), to: work + "/training.json")
        }
    }

    /// The trainer (model, optimizer with its settings as saved, moving average) and the state, from a
    /// checkpoint folder.
    public static func load(folder: String) throws -> (PriorTrainer, TrainingState) {
        let path = folder + "/training.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JukeboxError(path, "missing: \(folder) is not a training checkpoint")
        }
        let state: TrainingState
        do { state = try JSONDecoder().decode(TrainingState.self, from: data) } catch {
            throw JukeboxError(path, "unreadable (\(error.localizedDescription))")
        }
        guard state.format <= TrainingState.currentFormat else {
            throw JukeboxError(path, "format \(state.format) is newer than this program reads (\(TrainingState.currentFormat))")
        }
        var ema: ExponentialMovingAverage? = nil
        let model: TrainablePrior
        if let mu = state.emaMu {
            model = try TrainablePrior.load(folder: folder, weightsFile: "training_weights.safetensors")
            let averages = try TrainablePrior.load(folder: folder)
            ema = ExponentialMovingAverage(state: Dictionary(uniqueKeysWithValues: averages.distinctParameters.map { ($0.key, $0.tensor) }), mu: mu)
        } else {
            model = try TrainablePrior.load(folder: folder)
        }
        let optimizer = AdamOptimizer(settings: state.settings)
        let keys = Set(model.parameters.map(\.key))
        if let unknown = state.parameterSteps.keys.first(where: { !keys.contains($0) }) {
            throw JukeboxError(path, "optimizer state for \(unknown), which the model does not have")
        }
        try optimizer.restore(step: state.step, steps: state.parameterSteps,
                              file: SafetensorsFile(path: folder + "/optimizer.safetensors"))
        return (PriorTrainer(model: model, optimizer: optimizer, ema: ema), state)
    }
}
