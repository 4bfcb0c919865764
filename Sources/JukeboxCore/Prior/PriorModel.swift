import Foundation

/// A prior as its model folder holds it: the transformer prior plus, for an upsampler, the conditioner
/// over the level above (the reference's SimplePrior with its conditioner_blocks).
public struct PriorModel: Sendable {
    public let prior: Prior
    public let conditioner: UpsamplerConditioner?
    public let hps: Hyperparameters
    public let folder: String

    public var level: Int { prior.config.level }
    public var nCtx: Int { prior.config.nCtx }

    /// Strict: every tensor in weights.safetensors belongs to the prior or its conditioner.
    public static func load(folder: String) throws -> PriorModel {
        let config = try ModelConfig.load(folder: folder)
        guard config.kind == .prior else {
            throw JukeboxError(folder + "/config.json", "kind is \(config.kind.rawValue), expected prior")
        }
        var conditioner: UpsamplerConditioner?
        let prior = try Prior.load(folder: folder) { store in
            let level = try config.hps.int("level"), levels = try config.hps.int("levels")
            if level < levels - 1 {
                conditioner = try UpsamplerConditioner(scope: store.scope("conditioner_blocks.0"), hps: config.hps)
            }
        }
        return PriorModel(prior: prior, conditioner: conditioner, hps: config.hps, folder: folder)
    }

    /// x_cond for a batch: the conditioner's upsampled codes of the level above (upsamplers), or nil
    /// (the top level's timing signal comes from the labels).
    public func xCond(zCond: LevelCodes?, batch: Int, length: Int) throws -> Tensor? {
        guard let conditioner else {
            if zCond != nil { throw JukeboxError("z_cond0", "the top-level prior takes no codes of a level above") }
            return nil
        }
        guard let zCond else {
            throw JukeboxError("z_cond0", "missing: an upsampler (level \(level)) needs the codes of level \(level + 1)")
        }
        guard zCond.n == batch else { throw JukeboxError("z_cond0", "has \(zCond.n) rows but z has \(batch)") }
        guard zCond.t * conditioner.upsampling == length else {
            throw JukeboxError("z_cond0", "\(zCond.t) codes per row cover \(zCond.t * conditioner.upsampling) codes of this level,"
                               + " but z has \(length) (need \(length / max(conditioner.upsampling, 1)) per row)")
        }
        return try conditioner.forward(zCond.values, n: batch)
    }

    /// Bits per code token of each row of z, given the level above and the label vector y.
    public func bitsPerToken(z: LevelCodes, zCond: LevelCodes?, y: LevelCodes?) throws -> [[Double]] {
        guard z.t >= 1, z.t <= nCtx else {
            throw JukeboxError("z", "\(z.t) codes per row; this prior scores 1 to n_ctx = \(nCtx) codes at a time")
        }
        if let y, y.n != z.n { throw JukeboxError("y", "has \(y.n) rows but z has \(z.n)") }
        let xCond = try xCond(zCond: zCond, batch: z.n, length: z.t)
        return try prior.bitsPerToken(z: z.values, batch: z.n, y: y?.values, xCond: xCond)
    }
}
