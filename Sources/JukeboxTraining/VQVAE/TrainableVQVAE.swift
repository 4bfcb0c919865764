import Foundation
import JukeboxCore

/// The loss terms of one level (the reference's per-level metrics) and of its codebook.
public struct VQVAELevelLoss: Sendable {
    public var level: Int
    public var recons: Double            // recons_loss_l{L+1}
    public var spectral: Double          // spectral_loss_l{L+1} (0 unless the spectral weight is set)
    public var multispectral: Double     // multispectral_loss_l{L+1}
    public var commit: Double            // this level's commit_loss (before the commit weight)
    public var bottleneck: BottleneckMetrics
}

/// One training forward's loss: the weighted total and its terms by level (the levels it reached).
public struct VQVAELoss: Sendable {
    public var total: Double
    public var levels: [VQVAELevelLoss]
}

/// A VQ-VAE whose weights this process owns and changes: owned float32 tensors in state_dict order
/// under the reference's key names, the encoders and decoders built over them (a gradient step changes
/// them in place), and each level's codebook with its EMA state. Gradients reach every encoder and
/// decoder weight; the codebooks (`bottleneck.level_blocks.{L}.k`, buffers in the reference) are set by
/// their EMA updates, never by gradients.
public final class TrainableVQVAE: @unchecked Sendable {
    public let hps: Hyperparameters
    public let config: VQVAEHyperparameters
    /// Every state_dict entry, in order.
    public let parameters: [(key: String, tensor: Tensor)]
    public var objective: VQVAEObjective
    /// The levels a training step reaches (hps `train_levels`, this project's; every level when absent).
    /// The levels are independent networks that share only the loss's sum, so a level left out keeps its
    /// weights and codebook exactly and costs nothing while the others train: level 0 can be rebuilt wider
    /// while the codes of the levels above, which the priors were trained on, stay the same.
    public let trainedLevels: [Int]
    let model: VQVAE
    let bottlenecks: [EMABottleneckBlock]
    /// The multi-resolution STFT bases, built once per setting (millions of sines and cosines).
    private var multispectralCache: (settings: [[Int]], loss: SpectralLoss)?

    var multispectralLoss: SpectralLoss {
        let settings = [objective.multispecNFFT, objective.multispecHop, objective.multispecWindow]
        if let c = multispectralCache, c.settings == settings { return c.loss }
        let loss = objective.multispectralLoss
        multispectralCache = (settings, loss)
        return loss
    }

    /// Builds the model over `tensors` (by key, each exactly the shape the model asks for).
    init(hps: Hyperparameters, tensors: [String: Tensor], bandwidth: Bandwidth, seed: UInt64) throws {
        self.hps = hps
        config = try VQVAEHyperparameters(hps)
        objective = try VQVAEObjective(hps, bandwidth: bandwidth)
        trainedLevels = try Self.trainedLevels(hps, levels: config.levels)
        model = try VQVAE(hps: config, parameters: DictionarySource(tensors: tensors, prefix: ""))
        let keys = try VQVAE.parameterShapes(hps).map(\.key)
        if let extra = tensors.keys.first(where: { !Set(keys).contains($0) }) {
            throw JukeboxError("weights", "unexpected tensor \(extra)")
        }
        parameters = keys.map { ($0, tensors[$0]!) }
        // The reference revives below revival_threshold only when it restores trained weights, and below 1
        // otherwise; here a fresh run honours revival_threshold too (1 by default, so nothing changes unless
        // it is set), since with few latents per step (bs·sample_length/hop < l_bins) a threshold of 1
        // would count most entries dead and redraw them every step.
        let mu = Float(objective.lMu), threshold = Float(objective.revivalThreshold)
        bottlenecks = model.codebooks.enumerated().map { level, block in
            EMABottleneckBlock(codebook: block.codebook, mu: mu, threshold: threshold, seed: seed &+ UInt64(level) &* 0x9E37)
        }
    }

    /// Fresh random weights (torch's default initialisation); the codebooks are set from the first batch.
    public static func random(hps: Hyperparameters, bandwidth: Bandwidth, seed: UInt64) throws -> TrainableVQVAE {
        let recorder = ParameterRecorder(seed: seed)
        _ = try VQVAE(hps: VQVAEHyperparameters(hps), parameters: recorder)
        return try TrainableVQVAE(hps: hps, tensors: Dictionary(uniqueKeysWithValues: recorder.entries.map { ($0.key, $0.tensor) }),
                                  bandwidth: bandwidth, seed: seed)
    }

    /// Continues from a model folder: owned copies of its weights, and the codebooks' running sums
    /// restored as the reference's restore_k does (each entry counted sample_length/hop times over l_bins,
    /// dead below revival_threshold). `settings` replaces the folder's hyperparameters when given (the same
    /// architecture, other training settings).
    public static func load(folder: String, bandwidth: Bandwidth, sampleLength: Int, seed: UInt64,
                            settings: Hyperparameters? = nil) throws -> TrainableVQVAE {
        let config = try ModelConfig.load(folder: folder)
        let store = try WeightStore(folder: folder)
        var tensors: [String: Tensor] = [:]
        for (key, shape) in try VQVAE.parameterShapes(config.hps) { tensors[key] = try store.take(key, shape).copy() }
        try store.finish()
        let m = try TrainableVQVAE(hps: settings ?? config.hps, tensors: tensors, bandwidth: bandwidth, seed: seed)
        for (level, b) in m.bottlenecks.enumerated() {
            b.restore(numTokens: sampleLength / m.config.hopLengths[level], threshold: Float(m.objective.revivalThreshold))
        }
        return m
    }

    /// `train_levels` checked against the architecture: distinct levels that exist, in order.
    static func trainedLevels(_ hps: Hyperparameters, levels: Int) throws -> [Int] {
        guard hps.has("train_levels") else { return Array(0..<levels) }
        let chosen = try hps.ints("train_levels")
        guard !chosen.isEmpty, Set(chosen).count == chosen.count, chosen.allSatisfy({ (0..<levels).contains($0) }) else {
            throw JukeboxError(hps.source, "train_levels \(chosen) must name distinct levels of 0..<\(levels)")
        }
        return chosen.sorted()
    }

    /// Whether `key` belongs to one of `levels`' encoder, decoder or codebook.
    static func key(_ key: String, isIn levels: [Int]) -> Bool {
        levels.contains { l in ["encoders.\(l).", "decoders.\(l).", "bottleneck.level_blocks.\(l)."].contains { key.hasPrefix($0) } }
    }

    /// The parameters gradients reach: the trained levels' encoders and decoders (never the codebooks).
    public var trainableParameters: [(key: String, tensor: Tensor)] {
        parameters.filter { !$0.key.hasPrefix("bottleneck.") && Self.key($0.key, isIn: trainedLevels) }
    }

    /// Takes the weights and codebooks of every level not trained from the VQ-VAE at `folder`, whose
    /// architecture must give those levels the same shapes (a wider level 0 beside the old levels 1 and
    /// 2, say); their codebooks' running counts are restored as `load` restores them.
    public func adoptUntrainedLevels(from folder: String, sampleLength: Int) throws {
        let kept = (0..<config.levels).filter { !trainedLevels.contains($0) }
        guard !kept.isEmpty else { throw JukeboxError(folder, "every level is trained: there is nothing to keep from it") }
        let other = try ModelConfig.load(folder: folder)
        let shapes = Dictionary(uniqueKeysWithValues: try VQVAE.parameterShapes(other.hps).map { ($0.key, $0.shape) })
        let store = try WeightStore(folder: folder)
        for (key, tensor) in parameters where Self.key(key, isIn: kept) {
            guard let shape = shapes[key] else { throw JukeboxError(folder, "has no \(key) (its levels differ from the config's)") }
            guard shape == tensor.shape else {
                throw JukeboxError(folder, "\(key) is \(shape), the config makes it \(tensor.shape): level \(key.split(separator: ".")[key.hasPrefix("bottleneck") ? 2 : 1]) differs")
            }
            tensor.data.update(from: try store.take(key, shape).data, count: tensor.count)
        }
        for level in kept {
            bottlenecks[level].restore(numTokens: sampleLength / config.hopLengths[level], threshold: Float(objective.revivalThreshold))
        }
    }

    /// The reference's forward with its loss, adding every parameter's gradient into `grads`; with
    /// `updateCodebooks` (training) the codebooks take their EMA step, without it (evaluation) they stay.
    /// x [N, T, 1] mono audio with T a multiple of the top level's hop.
    public func accumulateGradients(_ x: Tensor, into grads: Gradients, updateCodebooks: Bool = true) throws -> VQVAELoss {
        try forward(x, grads: grads, updateCodebooks: updateCodebooks).loss
    }

    /// The loss, each level's reconstruction [N, T] and codes (N·T/hop, row-major); no gradients, codebooks unchanged.
    public func evaluate(_ x: Tensor) throws -> (loss: VQVAELoss, reconstructions: [Tensor], codes: [[Int]]) {
        try forward(x, grads: nil, updateCodebooks: false)
    }

    func forward(_ x: Tensor, grads: Gradients?, updateCodebooks: Bool) throws
        -> (loss: VQVAELoss, reconstructions: [Tensor], codes: [[Int]]) {
        guard x.rank == 3, x.shape[2] == 1 else { throw JukeboxError("audio", "expected shape [N, T, 1], found \(x.shape)") }
        let (n, t) = (x.shape[0], x.shape[1])
        let top = config.hopLengths.last!
        guard n > 0, t > 0, t % top == 0 else {
            throw JukeboxError("audio", "length \(t) must be a positive multiple of the top level's hop \(top)")
        }
        guard t >= objective.minimumLength else {
            throw JukeboxError("audio", "length \(t) is too short for the spectral loss (needs ≥ \(objective.minimumLength))")
        }
        let o = objective
        let input = x.reshaped([n, 1, t])
        let multispec = multispectralLoss
        let multispecTarget = o.multispectral != 0 ? multispec.target(x.data, n: n, t: t) : nil
        let single = SpectralLoss(resolutions: [SpectralLoss.defaultSTFT])
        let singleTarget = o.spectral != 0 ? single.target(x.data, n: n, t: t) : nil
        var total = 0.0
        var levels: [VQVAELevelLoss] = []
        var outputs: [Tensor] = []
        var codes: [[Int]] = []
        // Training reaches only the trained levels; evaluation rebuilds at every level.
        for level in grads == nil ? Array(0..<config.levels) : trainedLevels {
            var encoderTape = ConvTape(), decoderTape = ConvTape()
            let latents = model.encoders[level].trainingForward(input, &encoderTape)
            let q = bottlenecks[level].forward(latents, updateCodebook: updateCodebooks)
            let output = model.decoders[level].trainingForward(q.quantised, &decoderTape)
            let dOut = Tensor(zeros: [n, 1, t])
            let recons = try ReconstructionLoss.add(o.lossFn, weight: 1, target: x.data, prediction: output.data, n: n,
                                                    t: t, objective: o, into: dOut.data)
            var spec = 0.0, multi = 0.0
            if let singleTarget {
                spec = single.add(weight: o.spectral / o.bandwidth.spec, target: singleTarget, prediction: output.data,
                                  into: dOut.data) / o.spectral
            }
            if let multispecTarget {
                multi = multispec.add(weight: o.multispectral / o.bandwidth.spec, target: multispecTarget,
                                      prediction: output.data, into: dOut.data) / o.multispectral
            }
            total += recons + o.spectral * spec + o.multispectral * multi + o.commit * q.commitLoss
            levels.append(VQVAELevelLoss(level: level, recons: recons, spectral: spec, multispectral: multi, commit: q.commitLoss,
                                         bottleneck: q.metrics))
            outputs.append(output.reshaped([n, t]))
            codes.append(q.codes)
            guard let grads else { continue }
            // Straight through: the decoder's input gradient is the encoder output's, plus commit·∂commit_loss.
            let dLatents = model.decoders[level].trainingBackward(dOut, &decoderTape, grads: grads)
            let c = Float(o.commit)
            for i in 0..<dLatents.count { dLatents.data[i] += c * q.dCommit.data[i] }
            model.encoders[level].trainingBackward(dLatents, &encoderTape, grads: grads)
        }
        return (VQVAELoss(total: total, levels: levels), outputs, codes)
    }

    /// The gradients under the reference's parameter names (the names weights.safetensors uses).
    public func namedGradients(_ grads: Gradients) -> [String: Tensor] { grads.named(trainableParameters) }

    /// Plain gradient descent, p ← p − lr·g, for tests and as the simplest optimizer.
    public func sgdStep(_ grads: Gradients, lr: Float) {
        for (_, p) in trainableParameters {
            guard let g = grads.gradient(of: p) else { continue }
            for i in 0..<p.count { p.data[i] -= lr * g.data[i] }
        }
    }

    /// An inference VQVAE over copies of the current weights (its packed kernels made from them).
    public func inferenceModel() throws -> VQVAE {
        try VQVAE(hps: config, parameters: DictionarySource(
            tensors: Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0.tensor.copy()) }), prefix: ""))
    }

    /// The current weights as a safetensors file under the reference's names.
    public func weightsWriter() -> SafetensorsWriter {
        var w = SafetensorsWriter()
        for (key, t) in parameters { w.add(key, t) }
        return w
    }

    /// Writes a model folder (config.json + weights.safetensors) that loads wherever a VQ-VAE does, and
    /// that `load(folder:…)` continues from. Written beside the target and swapped in whole.
    public func save(folder: String) throws {
        try StagingFolder.replace(folder, purpose: "vqvae") { work in
            try ModelConfig(kind: .vqvae, hps: hps).write(folder: work)
            try weightsWriter().write(to: work + "/weights.safetensors")
        }
    }
}
