import Foundation
import JukeboxCore

/// A set's priors taught the prime before they continue it: a few optimizer steps of each prior on windows of
/// the prime's own codes, under the prompt's labels. A set trained on other music predicts a user's recording
/// poorly (the bundled top prior scores real game music worse than a uniform guess), so left alone its
/// continuation drifts to its own style within seconds; having heard the prime, it goes on in its sound.
/// The adapted set is written as a folder of its own (the VQ-VAE and every other file as the set's), so the
/// session that samples from it can be continued later with the same weights.
public enum PrimeAdaptation {
    public struct Settings: Sendable, Equatable {
        /// Optimizer steps per prior (0: none).
        public let steps: Int
        public let learningRate: Double
        public init(steps: Int, learningRate: Double = 0.0003) throws {
            guard steps > 0, steps <= 100_000 else { throw JukeboxError("--adapt-steps", "must be between 1 and 100000, got \(steps)") }
            guard learningRate > 0, learningRate < 1 else {
                throw JukeboxError("--adapt-lr", "must be between 0 and 1, got \(learningRate)")
            }
            (self.steps, self.learningRate) = (steps, learningRate)
        }
    }

    /// Writes into `output` the set at `folder` with each prior that has a window's worth of the prime taught it
    /// for `settings.steps` steps. `primeCodes` are the prime's codes per level (one row); `prompt` gives the
    /// labels, lyrics, song length and bar clock the windows are labelled with. Returns the levels adapted.
    @discardableResult
    public static func adapt(set folder: String, primeCodes: [LevelCodes], prompt: GenerationPrompt, settings: Settings,
                             to output: String, log: (String) -> Void = { _ in },
                             progress: (_ level: Int, _ step: Int, _ steps: Int) -> Void = { _, _, _ in }) throws -> [Int] {
        try copySet(folder, to: output)
        var adapted: [Int] = []
        for level in (0..<primeCodes.count).reversed() {
            let member = (folder as NSString).appendingPathComponent(ModelSet.priorFolderName(level: level))
            guard FileManager.default.fileExists(atPath: member) else { continue }
            let overlay = Hyperparameters(["lr": settings.learningRate, "lr_warmup": 0, "lr_use_cosine_decay": false,
                                           "lr_use_linear_decay": false], source: "prime adaptation")
            let model = try TrainablePrior.load(folder: member, settings: overlay)
            guard let data = try PriorTrainingData(prime: primeCodes, prompt: prompt, hps: model.hps) else {
                log("note: the prime is shorter than a level-\(level) window (\(model.config.nCtx) codes); that prior is left as it is")
                continue
            }
            let trainer = try PriorTrainer.make(model)
            let batch = model.hps.has("bs") ? max(try model.hps.int("bs"), 1) : 1
            for step in 0..<settings.steps {
                let b = try data.batch(index: step, size: batch, seed: prompt.seed)
                try trainer.step(z: b.z, zCond: b.zCond, y: b.y, batch: b.size)
                progress(level, step + 1, settings.steps)
            }
            var weights = SafetensorsWriter()
            for (key, tensor) in model.parameters { weights.add(key, tensor) }
            try weights.write(to: output + "/" + ModelSet.priorFolderName(level: level) + "/weights.safetensors")
            adapted.append(level)
        }
        return adapted
    }

    /// Every file of the set, with the weights hard-linked where the file system allows (a prior's are then
    /// replaced by writing a new file, never in place).
    static func copySet(_ folder: String, to output: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: output) { try fm.removeItem(atPath: output) }
        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        for item in try fm.subpathsOfDirectory(atPath: folder).sorted() {
            let source = (folder as NSString).appendingPathComponent(item), target = (output as NSString).appendingPathComponent(item)
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: source, isDirectory: &isFolder) else { continue }
            if isFolder.boolValue {
                try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
            } else if (try? fm.linkItem(atPath: source, toPath: target)) == nil {
                try fm.copyItem(atPath: source, toPath: target)
            }
        }
    }
}

extension PriorTrainingData {
    /// Windows of a prime's codes (one row per level), labelled as the prompt samples them: its artist, genres,
    /// lyrics, song length and bar clock. Nil when the prime is shorter than one window of this prior.
    public convenience init?(prime codes: [LevelCodes], prompt: GenerationPrompt, hps: Hyperparameters) throws {
        let c = try PriorConfig(hps: hps)
        let (hop, upsampling) = try Self.geometry(c, hps)
        guard c.level < codes.count, c.isTopLevel || c.level + 1 < codes.count else {
            throw JukeboxError("prime", "has no codes of level \(c.level)" + (c.isTopLevel ? "" : " and the level above"))
        }
        let z = codes[c.level]
        let usable = c.isTopLevel ? z.t : min(z.t, codes[c.level + 1].t * upsampling)
        guard usable >= c.nCtx else { return nil }
        let song = Song(codes: Array(z.values.prefix(usable)),
                        above: c.isTopLevel ? nil : Array(codes[c.level + 1].values.prefix(usable / upsampling)),
                        artist: prompt.artistID, genres: Self.genreSlots(prompt.genreIDs, c), lyrics: prompt.lyricTokens,
                        totalSamples: max(prompt.totalLength, usable * hop), barClock: c.barClockBins > 0 ? prompt.barClock : nil)
        self.init(config: c, hopLength: hop, upsampling: upsampling, songs: [song], skipped: 0)
    }
}
