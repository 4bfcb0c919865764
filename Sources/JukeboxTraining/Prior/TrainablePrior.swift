import Foundation
import JukeboxCore

/// Tensors by key with a key prefix, as a ParameterSource (the conditioner reads its weights through it).
struct DictionarySource: ParameterSource {
    let tensors: [String: Tensor]
    let prefix: String

    func scope(_ name: String) -> DictionarySource {
        DictionarySource(tensors: tensors, prefix: prefix.isEmpty ? name : prefix + "." + name)
    }

    func parameter(_ name: String, _ shape: [Int], _ initial: ParameterInit) throws -> Tensor {
        let key = prefix.isEmpty ? name : prefix + "." + name
        guard let t = tensors[key] else { throw JukeboxError("weights", "missing tensor \(key) (expected shape \(shape))") }
        guard t.shape == shape else {
            throw JukeboxError("weights", "tensor \(key) has shape \(t.shape) but the model expects \(shape)")
        }
        return t
    }
}

/// A prior whose weights this process owns and may change (an optimizer updates them in place): the
/// reference's SimplePrior with its conditioner over the level above, for training. The weights are
/// owned float32 copies in state_dict order; a tied x_out is the very tensor of x_emb.
public final class TrainablePrior: @unchecked Sendable {
    public let hps: Hyperparameters
    /// Every state_dict entry, in order (x_out appears under its own key, sharing x_emb's tensor when tied).
    public let parameters: [(key: String, tensor: Tensor)]
    public let prior: Prior
    public let conditioner: UpsamplerConditioner?

    static let conditionerPrefix = "conditioner_blocks.0"

    /// Builds the model over `tensors` (by key), tying x_out to x_emb where the reference does.
    public init(hps: Hyperparameters, tensors given: [String: Tensor], order: [String]? = nil) throws {
        self.hps = hps
        let config = try PriorConfig(hps: hps)
        var tensors = given
        var keys = try Prior.parameters(config: config).map { spec -> String in
            if case .sameAs(let other) = spec.initial, let t = tensors[other] { tensors[spec.key] = t }
            return spec.key
        }
        prior = try Prior(config: config, source: .dictionary(tensors))
        if config.conditionsOnLevelAbove {
            let source = DictionarySource(tensors: tensors, prefix: TrainablePrior.conditionerPrefix)
            conditioner = try UpsamplerConditioner(parameters: source, settings: .init(hps))
            let shapes = try UpsamplerConditioner.parameterShapes(hps)
            keys = shapes.map { TrainablePrior.conditionerPrefix + "." + $0.key } + keys
        } else {
            conditioner = nil
        }
        let known = Set(keys)
        if let extra = tensors.keys.first(where: { !known.contains($0) }) {
            throw JukeboxError("weights", "unexpected tensor \(extra)")
        }
        let ordered = order.map { o in o.filter { known.contains($0) } + keys.filter { !o.contains($0) } } ?? keys
        parameters = ordered.map { ($0, tensors[$0]!) }
    }

    /// A model folder (config.json + weights.safetensors) read into owned copies (widened to float32).
    /// `settings` overlays training settings (bs, lr, …) on the folder's hyperparameters; the architecture
    /// stays the folder's.
    /// `nCtx` changes the window (PriorWindow.resize) for fine-tuning on windows of another length;
    /// `depth` adds layers (PriorDepth.grow) for training a deeper prior on from this one.
    public static func load(folder: String, settings: Hyperparameters? = nil, nCtx: Int? = nil, barClockBins: Int? = nil,
                            depth: Int? = nil, weightsFile: String = "weights.safetensors") throws -> TrainablePrior {
        let model = try ModelConfig.load(folder: folder)
        guard model.kind == .prior else { throw JukeboxError(folder, "kind is \(model.kind.rawValue), expected prior") }
        let file = try SafetensorsFile(path: (folder as NSString).appendingPathComponent(weightsFile))
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name).copy() }
        var hps = model.hps
        if let settings {
            var values = hps.values
            for (k, v) in settings.values where trainingSettingNames.contains(k) || k.hasPrefix("lr") { values[k] = v }
            hps = Hyperparameters(values, source: hps.source)
        }
        if let nCtx { (hps, tensors) = try PriorWindow.resize(hps: hps, tensors: tensors, to: nCtx) }
        if let barClockBins { (hps, tensors) = try PriorBarClock.add(hps: hps, tensors: tensors, bins: barClockBins) }
        if let depth { (hps, tensors) = try PriorDepth.grow(hps: hps, tensors: tensors, to: depth) }
        return try TrainablePrior(hps: hps, tensors: tensors, order: file.names)
    }

    /// Hyperparameters that steer training, not the architecture.
    public static let trainingSettingNames: Set<String> = ["bs", "clip", "beta1", "beta2", "eps", "weight_decay", "bar_clock_lr_scale",
                                                           "ignore_grad_norm"]

    /// Random weights with the reference's init scales (the conditioner's as torch's defaults).
    public static func random(hps: Hyperparameters, seed: UInt64) throws -> TrainablePrior {
        var tensors = try Prior.randomTensors(hps: hps, seed: seed)
        let config = try PriorConfig(hps: hps)
        if config.conditionsOnLevelAbove {
            let recorder = ParameterRecorder(seed: seed &+ 1, prefix: conditionerPrefix)
            _ = try UpsamplerConditioner(parameters: recorder, settings: .init(hps))
            for e in recorder.entries { tensors[e.key] = e.tensor }
        }
        return try TrainablePrior(hps: hps, tensors: tensors)
    }

    public var config: PriorConfig { prior.config }

    /// Parameters with distinct storage (a tied x_out counted once), in order: what an optimizer updates.
    public var distinctParameters: [(key: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        return parameters.filter { seen.insert(ObjectIdentifier($0.tensor.storage)).inserted }
    }

    /// train_loss of a batch (z: batch rows of n_ctx codes; zCond: the level above's codes, upsamplers;
    /// y: label vectors) and the gradient of every parameter, added into `grads`.
    @discardableResult
    public func accumulateGradients(z: [Int], zCond: [Int]?, y: [Int]?, batch: Int, into grads: Gradients,
                                    guidance: AlignmentGuidance? = nil, alignTargets: [Int]? = nil) throws -> PriorLoss {
        var xCond: Tensor? = nil
        var tape: ConditionerTape? = nil
        if let conditioner {
            guard let zCond else { throw JukeboxError("z_cond0", "an upsampler needs the codes of the level above") }
            guard zCond.count * conditioner.upsampling == z.count else {
                throw JukeboxError("z_cond0", "\(zCond.count) codes cover \(zCond.count * conditioner.upsampling) codes of this level, but z has \(z.count)")
            }
            (xCond, tape) = try conditioner.trainingForward(zCond, n: batch)
        } else if zCond != nil {
            throw JukeboxError("z_cond0", "the top-level prior takes no codes of a level above")
        }
        let (loss, dXCond) = try prior.trainingStep(z: z, batch: batch, y: y, xCond: xCond, grads: grads,
                                                    guidance: guidance, alignTargets: alignTargets)
        if let conditioner, let tape, let dXCond { conditioner.trainingBackward(tape, dXCond: dXCond, grads: grads) }
        return loss
    }

    /// train_loss and the gradients under the reference's parameter names.
    public func lossAndGradients(z: [Int], zCond: [Int]?, y: [Int]?, batch: Int, guidance: AlignmentGuidance? = nil,
                                 alignTargets: [Int]? = nil) throws -> (loss: PriorLoss, gradients: [String: Tensor]) {
        let grads = Gradients()
        let loss = try accumulateGradients(z: z, zCond: zCond, y: y, batch: batch, into: grads, guidance: guidance,
                                           alignTargets: alignTargets)
        return (loss, grads.named(parameters))
    }
}
