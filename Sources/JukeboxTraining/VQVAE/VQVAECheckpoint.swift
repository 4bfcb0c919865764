import Foundation
import JukeboxCore

/// What a VQ-VAE run needs beyond the prior's TrainingState to go on exactly: the bandwidth its losses
/// are scaled by, and each codebook's EMA bookkeeping.
struct VQVAETrainingExtras: Codable {
    struct Codebook: Codable {
        var initialised: Bool
        var draws: Int
        var threshold: Float
    }
    var l1: Double, l2: Double, spec: Double
    var codebooks: [Codebook]
}

/// A VQ-VAE training checkpoint: a model folder (config.json + weights.safetensors, loadable wherever a
/// VQ-VAE is) plus training.json (the optimizer's and the data's position, as the priors' checkpoints
/// hold it), optimizer.safetensors (Adam's moments, and each codebook's running sums as
/// `bottleneck.level_blocks.{L}.k_sum` and `.k_elem`) and vqvae_training.json (bandwidth, codebook
/// draws). With a moving average of the weights, weights.safetensors holds the average (the model the
/// reference publishes) and training_weights.safetensors the weights the optimizer goes on from.
/// Written beside the target and swapped in whole; resuming continues bit for bit.
public enum VQVAECheckpoint {
    public static func save(_ trainer: VQVAETrainer, lastLoss: Double?, to folder: String) throws {
        try StagingFolder.replace(folder, purpose: "checkpoint") { work in
            let model = trainer.model
            try ModelConfig(kind: .vqvae, hps: model.hps).write(folder: work)
            if trainer.ema != nil {
                try model.weightsWriter().write(to: work + "/training_weights.safetensors")
                try trainer.withAveragedWeights { try model.weightsWriter().write(to: work + "/weights.safetensors") }
            } else {
                try model.weightsWriter().write(to: work + "/weights.safetensors")
            }
            var (moments, steps) = trainer.optimizer.stateTensors()
            for (level, b) in model.bottlenecks.enumerated() {
                moments.add("bottleneck.level_blocks.\(level).k_sum", b.kSum)
                moments.add("bottleneck.level_blocks.\(level).k_elem", shape: [b.bins], floats: b.kElem)
            }
            try moments.write(to: work + "/optimizer.safetensors")
            let state = TrainingState(step: trainer.optimizer.step, settings: trainer.optimizer.settings, parameterSteps: steps,
                                      dataSeed: trainer.dataSeed, batchesDrawn: trainer.batchesDrawn, lastLoss: lastLoss,
                                      emaMu: trainer.ema?.mu)
            let bw = model.objective.bandwidth
            let extras = VQVAETrainingExtras(l1: bw.l1, l2: bw.l2, spec: bw.spec, codebooks: model.bottlenecks.map {
                .init(initialised: $0.initialised, draws: $0.draws, threshold: $0.threshold)
            })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(encoder.encode(state), to: work + "/training.json")
            try AtomicFile.write(encoder.encode(extras), to: work + "/vqvae_training.json")
        }
    }

    /// The trainer as saved, over `data` (the same corpus and sample_length).
    public static func load(folder: String, data: VQVAETrainingData) throws -> VQVAETrainer {
        func read<T: Decodable>(_ name: String, _ type: T.Type) throws -> T {
            let path = folder + "/" + name
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw JukeboxError(path, "missing: \(folder) is not a VQ-VAE training checkpoint")
            }
            do { return try JSONDecoder().decode(T.self, from: bytes) } catch {
                throw JukeboxError(path, "unreadable (\(error.localizedDescription))")
            }
        }
        let state = try read("training.json", TrainingState.self)
        guard state.format <= TrainingState.currentFormat else {
            throw JukeboxError(folder + "/training.json", "format \(state.format) is newer than this program reads")
        }
        let extras = try read("vqvae_training.json", VQVAETrainingExtras.self)
        let config = try ModelConfig.load(folder: folder)
        guard config.kind == .vqvae else { throw JukeboxError(folder, "kind is \(config.kind.rawValue), expected vqvae") }
        func weights(_ file: String) throws -> [String: Tensor] {
            let store = try WeightStore(file: SafetensorsFile(path: folder + "/" + file))
            var tensors: [String: Tensor] = [:]
            for (key, shape) in try VQVAE.parameterShapes(config.hps) { tensors[key] = try store.take(key, shape).copy() }
            try store.finish()
            return tensors
        }
        let tensors = try weights(state.emaMu == nil ? "weights.safetensors" : "training_weights.safetensors")
        let model = try TrainableVQVAE(hps: config.hps, tensors: tensors,
                                       bandwidth: Bandwidth(l1: extras.l1, l2: extras.l2, spec: extras.spec), seed: state.dataSeed)
        guard extras.codebooks.count == model.bottlenecks.count else {
            throw JukeboxError(folder + "/vqvae_training.json", "holds \(extras.codebooks.count) codebooks for \(model.bottlenecks.count) levels")
        }
        let file = try SafetensorsFile(path: folder + "/optimizer.safetensors")
        for (level, b) in model.bottlenecks.enumerated() {
            let sum = try file.tensor("bottleneck.level_blocks.\(level).k_sum"), elem = try file.tensor("bottleneck.level_blocks.\(level).k_elem")
            guard sum.shape == b.kSum.shape, elem.count == b.bins else {
                throw JukeboxError(file.path, "codebook \(level)'s running sums have shapes \(sum.shape), \(elem.shape)")
            }
            b.kSum.data.update(from: sum.data, count: sum.count)
            b.kElem = elem.toArray()
            (b.initialised, b.draws, b.threshold) = (extras.codebooks[level].initialised, extras.codebooks[level].draws,
                                                     extras.codebooks[level].threshold)
        }
        let optimizer = AdamOptimizer(settings: state.settings)
        let keys = Set(model.trainableParameters.map(\.key))
        if let unknown = state.parameterSteps.keys.first(where: { !keys.contains($0) }) {
            throw JukeboxError(folder + "/training.json", "optimizer state for \(unknown), which the model does not have")
        }
        try optimizer.restore(step: state.step, steps: state.parameterSteps, file: file)
        var ema: ExponentialMovingAverage? = nil
        if let mu = state.emaMu {
            let averages = try weights("weights.safetensors")
            ema = ExponentialMovingAverage(state: Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.key, averages[$0.key]!) }),
                                           mu: mu)
        }
        let bs = config.hps.has("bs") ? try config.hps.int("bs") : 1
        let trainer = try VQVAETrainer(model: model, optimizer: optimizer, data: data, batchSize: bs, dataSeed: state.dataSeed, ema: ema)
        trainer.batchesDrawn = state.batchesDrawn
        return trainer
    }
}
