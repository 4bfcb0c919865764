import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train models: priors on code files, the VQ-VAE on a corpus folder.",
        subcommands: [TrainPrior.self, TrainLabel.self, TrainVQVAE.self, TrainBarGuide.self, TrainAlignment.self])
}

struct TrainPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Train one level's prior with Adam on windows of codes; OUT is a checkpoint and a model folder.",
        discussion: """
            DATA holds code files (*.safetensors) as `jukebox encode` writes them (z0, z1, z2: one row per \
            song), optionally with `labels` (artist id, genre ids; −1 none) and `lyrics` (the song's lyric \
            tokens, −1 padding). CONFIG is a JSON of the reference's hyperparameters ({"kind": "prior", \
            "hps": {...}} as in a model folder, or the hps alone): the architecture, and bs, lr, lr_warmup, \
            lr_decay, lr_use_linear_decay, lr_use_cosine_decay, clip, beta1, beta2, weight_decay. \
            A checkpoint is saved every --save-every steps and at the end; --resume continues from OUT \
            exactly where it stopped, with the settings saved there. --init starts from an existing prior \
            (a converted published checkpoint, or another run's checkpoint) instead of random weights.
            """)

    @Option(help: "Folder of code files.") var data: String
    @Option(help: "Level of the prior (2 = top; 1 and 0 are upsamplers).") var level: Int
    @Option(help: "Hyperparameters (JSON); not needed with --resume. With --init, only its training settings count.") var config: String?
    @Option(name: .customLong("init"), help: "Start from this prior model folder's weights and architecture (fine-tuning).") var initFrom: String?
    @Option(name: .customLong("n-ctx"), help: "With --init: fine-tune on windows of this many codes instead of the prior's own (the block length stays; new positions start as repeats of the learned ones).") var nCtx: Int?
    @Option(name: .customLong("bar-clock-bins"), help: "With --init: give the top prior a bar clock of this many positions per bar (starting at zero) and fine-tune it with the code files' bar_clock.") var barClockBins: Int?
    @Option(help: "Checkpoint folder to write (and to resume from).") var out: String
    @Option(help: "Optimizer steps to reach in all.") var steps: Int = 1000
    @Option(name: .customLong("save-every"), help: "Save a checkpoint every this many steps.") var saveEvery: Int = 100
    @Option(name: .customLong("log-every"), help: "Log line every this many steps when not on a terminal.") var logEvery: Int = 10
    @Option(help: "With --init: add layers up to this many (each new one a copy of the nearest earlier layer of its attention kind with its output projections zeroed, so training starts from what the prior computed).") var depth: Int?
    @Option(help: "Seed of the initial weights and of the order of the windows.") var seed: UInt64 = 0
    @Option(help: "Stop after this many minutes, saving the checkpoint (a normal exit; --resume goes on).") var minutes: Double?
    @Flag(name: .customLong("cosine-to-limit"), help: "With --minutes, a new run: the learning rate falls along half a cosine to zero at the time limit (its steps estimated from the speed of the first 50 steps, or the first tenth of the time).")
    var cosineToLimit = false
    @Flag(help: "Continue the run saved in OUT.") var resume = false
    @Option(name: .customLong("align-layer"), help: "Teach this lyric-reading layer's --align-head to follow the sung words (code files with word_times; give it again with --resume).")
    var alignLayer: Int?
    @Option(name: .customLong("align-head"), help: "With --align-layer: the head taught.") var alignHead: Int = 0
    @Option(name: .customLong("align-weight"), help: "With --align-layer: the guidance's weight beside the codes' loss.") var alignWeight: Double = 1
    @Option(name: .customLong("train-only"), help: "Change only parameters whose key starts with this (repeatable; e.g. prior.transformer._attn_mods.15.attn.c_attn; give it again with --resume).")
    var trainOnly: [String] = []

    func run() throws {
        guard steps > 0, logEvery > 0 else { throw JukeboxError("steps", "--steps and --log-every must be positive") }
        if let minutes, !(minutes > 0) { throw JukeboxError("--minutes", "must be positive, got \(minutes)") }
        if cosineToLimit && minutes == nil { throw JukeboxError("--cosine-to-limit", "plans the decay to the time limit, so it needs --minutes") }
        if cosineToLimit && resume { throw JukeboxError("--cosine-to-limit", "is planned once, by the new run; --resume keeps that plan") }
        if nCtx != nil && initFrom == nil {
            throw JukeboxError("--n-ctx", "changes the window of an existing prior, so it needs --init (a new run takes n_ctx from --config)")
        }
        if depth != nil && initFrom == nil {
            throw JukeboxError("--depth", "grows an existing prior, so it needs --init (a new run takes prior_depth from --config)")
        }
        if barClockBins != nil && initFrom == nil {
            throw JukeboxError("--bar-clock-bins", "adds a bar clock to an existing prior, so it needs --init (a new run takes bar_clock_bins from --config)")
        }
        var trainer: PriorTrainer
        var firstBatch = 0, dataSeed = seed
        if resume {
            let state: TrainingState
            (trainer, state) = try TrainingCheckpoint.load(folder: out)
            let model = trainer.model
            guard model.config.level == level else {
                throw JukeboxError(out, "holds a level-\(model.config.level) prior, not level \(level)")
            }
            firstBatch = state.batchesDrawn
            dataSeed = state.dataSeed
            Log.note("resuming at step \(trainer.optimizer.step) from \(out)")
        } else {
            if FileManager.default.fileExists(atPath: out + "/training.json") {
                throw JukeboxError(out, "already holds a training checkpoint; pass --resume to continue it")
            }
            let model: TrainablePrior
            if let initFrom {
                model = try TrainablePrior.load(folder: initFrom, settings: try config.map(Self.readHps), nCtx: nCtx,
                                               barClockBins: barClockBins, depth: depth)
                guard model.config.level == level else {
                    throw JukeboxError(initFrom, "holds a level-\(model.config.level) prior, not level \(level)")
                }
            } else {
                guard let config else { throw JukeboxError("config", "a new run needs --config (hyperparameters JSON) or --init") }
                var values = try Self.readHps(config).values
                values["level"] = level
                model = try TrainablePrior.random(hps: Hyperparameters(values, source: config), seed: seed)
            }
            trainer = try PriorTrainer.make(model)
        }
        if !trainOnly.isEmpty {
            let keys = trainer.model.parameters.map(\.key)
            if let none = trainOnly.first(where: { prefix in !keys.contains { $0.hasPrefix(prefix) } }) {
                throw JukeboxError("--train-only", "no parameter's key starts with \(none)")
            }
            trainer.trainable = trainOnly
        }
        let model = trainer.model, optimizer = trainer.optimizer
        if optimizer.step >= steps {
            Log.note("\(out) is at step \(optimizer.step), already --steps \(steps): nothing to do")
            return
        }
        let trainingData = try PriorTrainingData(folder: data, hps: model.hps)
        var guidance: AlignmentGuidance? = nil
        if let alignLayer {
            let g = try AlignmentGuidance(layer: alignLayer, head: alignHead, weight: alignWeight)
            try g.check(model.prior)
            guard trainingData.timedSongs > 0 else {
                throw JukeboxError(data, "no song has word_times: guidance needs code files from `jukebox dataset encode` of a corpus that records them")
            }
            Log.note("guiding layer \(alignLayer) head \(alignHead) toward the sung words of \(trainingData.timedSongs) songs (weight \(alignWeight))")
            guidance = g
        }
        let batchSize = model.hps.has("bs") ? try model.hps.int("bs") : 1
        Log.note("training level \(level): \(trainingData.count) songs (\(trainingData.skipped) left out), batch \(batchSize), "
                 + "\(model.distinctParameters.reduce(0) { $0 + $1.tensor.count }) parameters")
        var run = try PriorTrainingRun(trainer: trainer, data: trainingData,
                                       batchSize: batchSize, dataSeed: dataSeed, checkpointFolder: out, saveEvery: saveEvery)
        run.guidance = guidance
        // Ctrl-C (or SIGTERM) stops after the step under way and saves it: --resume goes on from there.
        let cancel = CancelFlag()
        let interrupts = InterruptRequests([SIGINT, SIGTERM], cancelling: cancel)
        defer { interrupts.stop() }
        let timeUp = TimeLimit(minutes: minutes, cancel: cancel)
        let start = Date(), startStep = optimizer.step
        // The bar counts this session's steps, so its rate and ETA hold after a resume.
        let bar = Progress.Bar("level \(level) steps \(startStep)→\(steps)", total: steps - startStep)
        var cosinePlanned = !cosineToLimit
        let outcome = try run.run(firstBatch: firstBatch, steps: steps, cancel: cancel) { e in
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(e.step - startStep) / max(elapsed, 1e-9)
            // With --minutes, the run ends at its time limit if that comes before its steps.
            let untilLimit = minutes.map { $0 * 60 - elapsed } ?? .infinity
            if !cosinePlanned, let minutes, e.step - startStep >= 50 || elapsed >= minutes * 6 {
                // The config's schedule ran until now; a cosine a tenth of the way to its end or less is within 2.5% of
                // the peak, so the switch does not jolt the run.
                let end = min(e.step + Int((rate * max(untilLimit, 0)).rounded()), steps)
                optimizer.planCosine(endingAt: end)
                cosinePlanned = true
                if Progress.isTerminal { Log.note("") }
                Log.note("learning rate: half a cosine to zero at step \(end) (\(String(format: "%.2f", rate)) steps/s until the time limit)")
            }
            let eta = min(rate > 0 ? Double(e.steps - e.step) / rate : 0, max(untilLimit, 0))
            let align = e.loss.alignment.map { String(format: ", alignment %.3f", $0) } ?? ""
            let line = String(format: "step %d/%d loss %.4f bits (codes %.4f, lyrics %.4f%@) lr %.3g gn %.3g %@%.2f steps/s ETA %.0fs",
                              e.step, e.steps, e.loss.total, e.loss.gen, e.loss.prime, align, e.report.learningRate,
                              e.report.gradNorm, e.report.skipped ? "skipped " : "", rate, eta)
            if Progress.isTerminal {
                bar.update(e.step - startStep, unit: "steps", suffix: String(format: " loss %.3f", e.loss.total))
            } else if e.step % logEvery == 0 || e.step == e.steps || e.report.skipped {
                Log.note(line + (e.saved ? " (saved)" : ""))
            }
        }
        if outcome.interrupted && timeUp.reached {
            if Progress.isTerminal { Log.note("") }
            Log.note("time limit reached: saved \(out) at step \(optimizer.step); --resume continues it")
            return
        }
        if outcome.interrupted {
            if Progress.isTerminal { Log.note("") }
            Log.note("interrupted: saved \(out) at step \(optimizer.step); --resume continues it")
            throw ExitCode(130)
        }
        Log.note("saved \(out) at step \(optimizer.step)")
    }

    static func readHps(_ path: String) throws -> Hyperparameters {
        guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "missing or unreadable") }
        guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
            throw JukeboxError(path, "not a JSON object")
        }
        if dict["hps"] != nil { return try ModelConfig.parse(data, source: path).hps }
        return Hyperparameters(dict, source: path)
    }
}
