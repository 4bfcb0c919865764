import Foundation
import JukeboxCore

/// The recipe of the project's default model set: the architecture of every member and the training
/// settings of every stage, under the reference's hyperparameter names, sized so the whole set trains on
/// two CPU cores in a few hours, weighs well under 50 MB and samples 10 s in seconds. The label lists come
/// from the corpus it is trained on (`jukebox dataset build`), so y_bins always fits them.
///
/// `tiny` is the same recipe at test scale: tiny sizes and a few steps, so the whole pipeline runs in
/// seconds.
public struct DefaultModelPreset: Sendable {
    public enum Scale: String, CaseIterable, Sendable {
        case `default`
        case tiny
    }

    /// One training stage: its folder under the work folder (and its name in WORK/recipe.json), the set
    /// member it trains, the steps and peak learning rate of its warm-up and cosine, and its share of a
    /// time budget (the stages share whatever time is left in these proportions). A stage with `continues`
    /// starts from that earlier stage's weights, a warm restart: the top prior goes on in rounds, each with
    /// a fresh warm-up and a lower peak, because a single longer cosine would have to be planned before
    /// anyone knew how far the held-out bits would keep falling.
    public struct Stage: Sendable {
        public let name: String
        public let member: String
        public let steps: Int
        public let learningRate: Double
        public let continues: String?
        public let budgetShare: Double
        /// Rounds after the first draw their data order from the next seeds up.
        public let seedOffset: UInt64
        /// A round that moves the prior to windows of another length (`train prior --n-ctx`), and its batch.
        public let nCtx: Int?, batchSize: Int?
        /// A round that gives the top prior a bar clock of this many bins (`train prior --bar-clock-bins`).
        public let barClockBins: Int?
        /// A codec stage that trains only these levels, in the shape `multipliers` gives them, keeping the
        /// other levels of the stage it `continues` (`train vqvae --keep-levels-from`) so their codes stay.
        public let trainLevels: [Int]?, multipliers: [Int]?
        /// Warm-up steps, where a stage needs other than the usual (a tenth of its steps, at most 50).
        public let warmup: Int?
        /// A round that makes the prior deeper first (`train prior --depth`): its layers in all.
        public let depth: Int?
        /// The alignment prior's stage: the guidance's weight beside the codes' loss (`train prior --align-weight`).
        public let alignWeight: Double?

        init(_ member: String, steps: Int, lr: Double, share: Double) {
            (name, self.member, self.steps, learningRate, continues, budgetShare, seedOffset) = (member, member, steps, lr, nil, share, 0)
            (nCtx, batchSize, barClockBins, trainLevels, multipliers, warmup, depth) = (nil, nil, nil, nil, nil, nil, nil)
            alignWeight = nil
        }

        /// The codec's level 0 again, its width and depth `multiplier` times the base (the first codec's
        /// multiplier is the reference's 2), trained alone beside the first codec's other levels.
        init(codecLevel0 multiplier: Int, steps: Int, lr: Double, warmup: Int, share: Double) {
            (name, member, continues, self.steps, learningRate, budgetShare, seedOffset) = ("vqvae-level0", "vqvae", "vqvae", steps, lr, share, 2)
            (nCtx, batchSize, barClockBins, trainLevels, multipliers, depth, alignWeight) = (nil, nil, nil, [0], [multiplier, 1, 1], nil, nil)
            self.warmup = warmup
        }

        init(_ member: String, round: Int, steps: Int, lr: Double, share: Double, nCtx: Int? = nil, batchSize: Int? = nil,
             barClockBins: Int? = nil, depth: Int? = nil, warmup: Int? = nil) {
            (self.barClockBins, self.depth, self.warmup) = (barClockBins, depth, warmup)
            name = member + "-round\(round)"
            self.member = member
            (self.steps, learningRate, budgetShare, seedOffset) = (steps, lr, share, UInt64(round - 1))
            continues = round == 2 ? member : member + "-round\(round - 1)"
            (self.nCtx, self.batchSize) = (nCtx, batchSize)
            (trainLevels, multipliers, alignWeight) = (nil, nil, nil)
        }

        /// The set's alignment prior: a copy of the finished top prior (`topStage`) whose alignment head is taught
        /// to look at the character being sung, beside the codes' loss, on the training songs with word times.
        init(alignmentPriorAfter topStage: String, steps: Int, lr: Double, share: Double, batchSize: Int, alignWeight: Double) {
            (name, member, continues) = (AlignmentPrior.folderName, AlignmentPrior.folderName, topStage)
            (self.steps, learningRate, budgetShare, seedOffset, self.batchSize, self.alignWeight) = (steps, lr, share, 7, batchSize, alignWeight)
            (nCtx, barClockBins, trainLevels, multipliers, warmup, depth) = (nil, nil, nil, nil, nil, nil)
        }
    }

    public let scale: Scale
    /// Label bins from the corpus's lists: the largest id plus one (id 0 is "unknown").
    public let genreBins: Int, artistBins: Int

    /// Reads the corpus's `genre_ids.txt` and `artist_ids.txt` for the label bins.
    public init(scale: Scale, corpus: String) throws {
        self.scale = scale
        let vocabulary = try LabelVocabulary(modelFolder: corpus, v3: true)
        genreBins = vocabulary.genres.maxID + 1
        artistBins = vocabulary.artists.maxID + 1
    }

    // MARK: Stages

    /// Sized for the project's two cores (measured 2026-11-26): the VQ-VAE at 0.65 steps/s (11 min), its
    /// wider level 0 alone at 0.5 steps/s (100 min; measured 2026-12-06),
    /// encoding the corpus 2 to 4 min an hour of audio, the top prior at 1.4 steps/s (48 min for its first
    /// round, then 35, 31 and 51; then 0.7 steps/s on windows four times as long, 82 and about 65 min),
    /// the upsamplers at 8 to 10 steps/s (17 to 20 min each; the bottom one's second round 37 min, its third,
    /// 10 layers deep, 47 min at 5.7 steps/s): about 11 hours on the four-hour corpus. A stage stopped early by --budget-minutes keeps a higher learning rate
    /// than planned. With a quarter of the first round's prior steps the genre was not heard; the first
    /// round took the held-out bits per token from 6.38 / 5.35 / 4.52 to 4.29 / 3.98 / 2.89 (hour-long
    /// corpus), the top prior's next rounds to 3.80 and 3.61, round 4, on four times the songs, to 3.23,
    /// and round 5, on windows four times as long (0.75 steps/s, 82 min), to 3.09; round 6, with the bar
    /// clock (0.70 steps/s, stopped at 2219 steps, 53 min), to 2.97 on the four-hour corpus's held-out songs.
    public var stages: [Stage] {
        switch scale {
        case .default:
            return [Stage("vqvae", steps: 800, lr: 0.0006, share: 0.16),
                    // Level 0 again with multiplier 3 (width 48, depth 6; the first codec's has 2): the first
                    // codec's level 0 turned the 4–22 kHz band into noise (flatness 0.33 against the songs' 0.09).
                    Stage(codecLevel0: 3, steps: 3000, lr: 0.0006, warmup: 100, share: 0.3),
                    Stage("prior_level_2", steps: 4000, lr: 0.001, share: 0.18),
                    Stage("prior_level_2", round: 2, steps: 3000, lr: 0.0004, share: 0.12),
                    Stage("prior_level_2", round: 3, steps: 2500, lr: 0.0003, share: 0.10),
                    Stage("prior_level_2", round: 4, steps: 4500, lr: 0.0003, share: 0.18),
                    // Four times the window (6 s) with half the batch: the same codes a step.
                    Stage("prior_level_2", round: 5, steps: 3700, lr: 0.0002, share: 0.18, nCtx: 2048, batchSize: 2),
                    // A bar clock of 96 places per bar (20 to 33 ms at the corpus's tempos), learnt from zero.
                    Stage("prior_level_2", round: 6, steps: 2700, lr: 0.0002, share: 0.14, batchSize: 2, barClockBins: 96),
                    Stage("prior_level_1", steps: 10000, lr: 0.001, share: 0.13),
                    Stage("prior_level_0", steps: 10000, lr: 0.001, share: 0.13),
                    // The wider codec's level-0 codes hold more than the first one's (4.2 bits a code held out
                    // after the first round, against 2.9): the bottom upsampler goes on for two more rounds,
                    // the last with four more layers, so that it keeps the onsets its level-1 codes place.
                    Stage("prior_level_0", round: 2, steps: 20000, lr: 0.0005, share: 0.2),
                    Stage("prior_level_0", round: 3, steps: 16000, lr: 0.0003, share: 0.2, depth: 10, warmup: 200),
                    // The top prior's one lyric-reading layer stayed nearly flat over the words; its copy taught at
                    // 0.8 steps/s for 85 minutes (2026-12-07) times them for the set, which still samples unchanged.
                    Stage(alignmentPriorAfter: "prior_level_2-round6", steps: 4100, lr: 0.0003, share: 0.12, batchSize: 2, alignWeight: 4)]
        case .tiny:
            return [Stage("vqvae", steps: 3, lr: 0.0006, share: 0.2), Stage(codecLevel0: 3, steps: 2, lr: 0.0006, warmup: 1, share: 0.1),
                    Stage("prior_level_2", steps: 3, lr: 0.001, share: 0.2),
                    Stage("prior_level_2", round: 2, steps: 2, lr: 0.0004, share: 0.2),
                    // 32 lyric positions + 128 codes in 2 blocks of 80; 208 codes keep the blocks, 3 of them.
                    Stage("prior_level_2", round: 3, steps: 2, lr: 0.0003, share: 0.2, nCtx: 208, batchSize: 1),
                    Stage("prior_level_2", round: 4, steps: 2, lr: 0.0002, share: 0.2, batchSize: 1, barClockBins: 16),
                    Stage("prior_level_1", steps: 3, lr: 0.001, share: 0.2), Stage("prior_level_0", steps: 3, lr: 0.001, share: 0.2),
                    Stage("prior_level_0", round: 2, steps: 2, lr: 0.0005, share: 0.1, depth: 4, warmup: 1),
                    Stage(alignmentPriorAfter: "prior_level_2-round4", steps: 2, lr: 0.0003, share: 0.1, batchSize: 1, alignWeight: 4)]
        }
    }

    /// The work folder's subfolder holding `member` as the set ships it: its last stage's, where the set
    /// takes its weights from.
    public func finalFolder(of member: String) -> String { stages.last { $0.member == member }?.name ?? member }

    /// The temperatures the set samples with by default (SET/sampling.json), chosen by judging samples
    /// with `jukebox eval genre`: lower than the reference's, where this small set's samples are cleaner.
    /// `songSeconds`: the corpus's mean song length; `artistTempos`: each artist's tempo, for the bar clock;
    /// `artistGenres`: each artist's genre, for the studio's artist picker.
    public func sampling(songSeconds: Double, artistTempos: [String: Double], artistGenres: [String: String] = [:]) -> SamplingDefaults {
        SamplingDefaults(top: 0.9, upsamplers: 0.8, songSeconds: songSeconds.rounded(), artistTempos: artistTempos,
                         barGuidance: barGuide.strength, artistGenres: artistGenres, levelTemperatures: [0: Self.bottomTemperature],
                         genreGuidance: Self.genreGuidance)
    }

    /// How strongly the guide's genre tilt pulls the top level toward the genre asked for. Judged on new
    /// prompts of tuning seeds (README, "The genre asked for"): an artist whose songs lean toward a
    /// neighbouring genre was heard as that genre (a classical artist as hip hop and folk) until drawn back.
    static let genreGuidance = 1.0

    /// The bottom upsampler samples at 1: at 0.8 its codes came out dark (a twentieth of the power above
    /// 4 kHz that the codec's own rebuilds keep), and reggae, told from hip hop by its high band, was heard
    /// as hip hop. Judged on new prompts of tuning seeds 301–340: 32 of 40 at 1 against 27 at 0.8.
    static let bottomTemperature = 1.0

    /// The set's bar guide (BarGuide, counted from the training codes when the set is assembled): places
    /// per bar, and how strongly it steers the top level by default.
    public var barGuide: (bins: Int, strength: Double) { scale == .tiny ? (16, 1) : (96, Self.barGuidance) }
    static let barGuidance = 2.0

    /// The model card's genre judge: clips sampled per genre, and seconds per clip.
    public var genreJudge: (clipsPerGenre: Int, seconds: Double) { scale == .tiny ? (1, 1) : (5, 10) }

    /// Held-out windows scored per prior for the model card.
    public var evaluationWindows: Int { scale == .tiny ? 2 : 48 }

    /// How much faster than the rest the bar clock's table learns (AdamSettings.barClockLrScale): at the
    /// prior's own rate it had grown to a tenth of the artist table's size after 700 steps.
    static let barClockLrScale = 10.0

    // MARK: Architecture

    struct Sizes {
        var lBins, embWidth, vqWidth, vqDepth, sampleLength, vqBatch: Int
        var topCtx, topTokens, topWidth, topDepth: Int
        var upCtx, upWidth, upDepth, condWidth, condDepth: Int
        var priorBatch: Int
    }

    var sizes: Sizes {
        switch scale {
        case .default:
            // VQ-VAE: width 32/depth 3 ran at 0.23 steps/s (batch 4 × 32768); width 16/depth 2 with batch
            // 8 × 16384 at 0.75 steps/s, 3× the audio per second. 1024 level-2 latents per step against
            // 256 codebook entries keeps revival_threshold 1 from redrawing live entries.
            // Top: attn_order 12 puts its prime (lyrics) layer at index 15, so depth 16 is the least.
            return Sizes(lBins: 256, embWidth: 16, vqWidth: 16, vqDepth: 2, sampleLength: 16384, vqBatch: 8,
                         topCtx: 512, topTokens: 64, topWidth: 256, topDepth: 16,
                         upCtx: 512, upWidth: 128, upDepth: 6, condWidth: 64, condDepth: 4, priorBatch: 4)
        case .tiny:
            return Sizes(lBins: 64, embWidth: 16, vqWidth: 16, vqDepth: 2, sampleLength: 4096, vqBatch: 2,
                         topCtx: 128, topTokens: 32, topWidth: 64, topDepth: 16,
                         upCtx: 128, upWidth: 64, upDepth: 3, condWidth: 32, condDepth: 2, priorBatch: 2)
        }
    }

    private static func ints(_ v: [Int]) -> PickleValue { .tuple(v.map { .int($0) }) }

    /// Adam with a short warm-up and half a cosine over the stage's planned steps, so a stage that runs
    /// its steps ends at a small learning rate.
    private func schedule(lr: Double, steps: Int, warmup: Int? = nil) -> HyperparameterPresets.Entries {
        [("lr", .float(lr)), ("lr_warmup", .float(Double(warmup ?? min(50, max(steps / 10, 1))))), ("lr_use_cosine_decay", .bool(true)),
         ("lr_decay", .float(Double(steps))), ("lr_start_linear_decay", .int(0)), ("clip", .float(1.0)),
         // The moving average at these batch sizes would lag thousands of steps behind: saved weights are the trained ones.
         ("ema", .bool(false))]
    }

    private var vqArchitecture: HyperparameterPresets.Entries {
        let s = sizes
        return [("name", .string("default-\(scale.rawValue)")), ("restore_vqvae", .string("")),
                ("l_bins", .int(s.lBins)), ("emb_width", .int(s.embWidth)), ("width", .int(s.vqWidth)), ("depth", .int(s.vqDepth))]
    }

    /// The VQ-VAE: the published geometry (hops 8/32/128 at 44.1 kHz) and objective, small convolutions.
    /// `stage`: which of the codec's stages (its first by default) the shape and training settings are for.
    public func vqvaeHps(stage name: String = "vqvae") throws -> HyperparameterPresets.Entries {
        let s = sizes, stage = try self.stage(named: name)
        var shape: HyperparameterPresets.Entries = []
        if let levels = stage.trainLevels { shape.append(("train_levels", Self.ints(levels))) }
        if let multipliers = stage.multipliers { shape.append(("hvqvae_multipliers", Self.ints(multipliers))) }
        return HyperparameterPresets.merge(try HyperparameterPresets.hps("vqvae"), [vqArchitecture, shape, [
            ("sample_length", .int(s.sampleLength)), ("bs", .int(s.vqBatch)), ("revival_threshold", .float(1.0)),
            ("l_mu", .float(0.99)), ("commit", .float(0.02)),
        ], schedule(lr: stage.learningRate, steps: stage.steps, warmup: stage.warmup)])
    }

    /// The prior at `level`: 2 is a 1b_lyrics-style single encoder-decoder over lyrics with v3 labels;
    /// 1 and 0 are upsamplers with the conditioner over the level above, labelled with the same v3 lists
    /// (whole genre names such as "hip hop", one genre per song, as `dataset encode` writes them).
    /// `stage`: which of the member's stages (its first by default) the training settings are for.
    public func priorHps(level: Int, stage name: String? = nil) throws -> HyperparameterPresets.Entries {
        let s = sizes
        let stage = try self.stage(named: name ?? ModelSet.priorFolderName(level: level))
        let vq = vqArchitecture + [("restore_prior", .string(""))]
        var training: HyperparameterPresets.Entries = [("bs", .int(stage.batchSize ?? s.priorBatch))]
            + schedule(lr: stage.learningRate, steps: stage.steps, warmup: stage.warmup)
        if stage.barClockBins != nil { training.append(("bar_clock_lr_scale", .float(Self.barClockLrScale))) }
        let labels: HyperparameterPresets.Entries = [("y_bins", Self.ints([genreBins, artistBins])), ("fp16_params", .bool(false))]
        switch level {
        case 2:
            // A block is 64 positions of the n_ctx codes plus the lyric tokens before them.
            let blocks = (s.topCtx + s.topTokens) / min(64, s.topCtx + s.topTokens)
            return HyperparameterPresets.merge(try HyperparameterPresets.hps("prior_1b_lyrics"), [vq, labels, [
                ("n_ctx", .int(s.topCtx)), ("n_tokens", .int(s.topTokens)), ("prior_width", .int(s.topWidth)),
                ("prior_depth", .int(s.topDepth)), ("heads", .int(2)), ("blocks", .int(blocks)),
                ("alignment_layer", .int(alignmentHead.layer)), ("alignment_head", .int(alignmentHead.head)),
            ], training])
        case 0, 1:
            return HyperparameterPresets.merge(try HyperparameterPresets.hps("upsampler_level_\(level)"), [vq, labels, [
                ("labels_v3", .bool(true)), ("max_bow_genre_size", .int(1)), ("t_bins", .int(64)),
                ("n_ctx", .int(s.upCtx)), ("prior_width", .int(s.upWidth)), ("prior_depth", .int(s.upDepth)),
                ("heads", .int(1)), ("blocks", .int(s.upCtx / 16)), ("cond_width", .int(s.condWidth)),
                ("cond_depth", .int(s.condDepth)),
                // No timing signal in the upsamplers' label conditioner, but the engine reads both.
                ("min_duration", .float(17.84)), ("max_duration", .float(600.0)),
            ], training])
        default:
            throw JukeboxError("level", "the default set has levels 0, 1 and 2, not \(level)")
        }
    }

    /// The level a member's prior models (the alignment prior reads the top level); nil for the VQ-VAE.
    public func priorLevel(member: String) -> Int? {
        member == AlignmentPrior.folderName ? 2 : ModelSet.priorLevel(folderName: member)
    }

    /// The head the alignment prior's stage teaches: the top prior's alignment_layer and alignment_head.
    public var alignmentHead: (layer: Int, head: Int) { (sizes.topDepth - 1, 0) }

    private func stage(named name: String) throws -> Stage {
        guard let stage = stages.first(where: { $0.name == name }) else { throw JukeboxError(name, "not a stage of the default recipe") }
        return stage
    }

    /// The config.json bytes a stage trains with, as `train vqvae --config` and `train prior --config` read
    /// them (with `--init`, only the training settings count).
    public func config(stage name: String) throws -> Data {
        let stage = try self.stage(named: name)
        if stage.member == "vqvae" { return Data(try HyperparameterJSON.config(kind: .vqvae, hps: try vqvaeHps(stage: name))) }
        guard let level = priorLevel(member: stage.member) else {
            throw JukeboxError(name, "not a member of the default set")
        }
        return Data(try HyperparameterJSON.config(kind: .prior, hps: try priorHps(level: level, stage: name)))
    }
}
