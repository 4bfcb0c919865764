import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct TrainVQVAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqvae",
        abstract: "Train a VQ-VAE on a corpus folder (jukebox dataset build); OUT is a model folder plus evaluation.json.",
        discussion: """
            DATA is a corpus folder: songs.jsonl (file, split train/test) and its audio. CONFIG is a JSON of the \
            reference's hyperparameters ({"kind": "vqvae", "hps": {...}} or the hps alone): the architecture \
            (levels, downs_t, strides_t, emb_width, l_bins, width, depth, m_conv, dilation_growth_rate, \
            hvqvae_multipliers, ...), the objective (loss_fn, lmix_l1/l2/linf, linf_k, commit, spectral, \
            multispectral, multispec_loss_*, l_mu) and training (sample_length, bs, lr, lr_warmup, clip, ...). \
            Each step draws bs seeded crops of sample_length samples from the train songs. OUT is a checkpoint \
            saved every --save-every steps and at the end: a VQ-VAE model folder plus the optimizer's and the \
            codebooks' state; --resume continues it bit for bit (Ctrl-C saves the step under way first). \
            evaluation.json holds the last held-out reconstruction per level (spectral convergence, SNR, codes \
            used). --init starts from another VQ-VAE folder (its architecture; the codebooks' running counts \
            restored as the reference's restore_k; a fresh optimizer). The config's train_levels (this project's, \
            e.g. [0]) trains only those levels: the others keep their weights and codebooks and cost nothing; \
            with a new architecture for the trained levels (hvqvae_multipliers [4, 1, 1] makes level 0 four \
            times as wide and deep), --keep-levels-from names the VQ-VAE whose other levels are kept, so the \
            codes the priors know stay the same.
            """)

    @Option(help: "Corpus folder.") var data: String
    @Option(help: "Hyperparameters (JSON); not needed with --resume.") var config: String?
    @Option(name: .customLong("init"), help: "Continue from this VQ-VAE model folder.") var initFrom: String?
    @Option(name: .customLong("keep-levels-from"), help: "With train_levels in a new run: the VQ-VAE whose other levels are kept.")
    var keepLevelsFrom: String?
    @Option(help: "Model folder to write.") var out: String
    @Option(help: "Optimizer steps to reach in all.") var steps: Int = 1000
    @Option(name: .customLong("save-every")) var saveEvery: Int = 100
    @Option(name: .customLong("eval-every"), help: "Evaluate on the held-out songs every this many steps (and at the end).") var evalEvery: Int = 100
    @Option(name: .customLong("log-every")) var logEvery: Int = 10
    @Option(name: .customLong("eval-crops"), help: "Held-out crops per test song.") var evalCrops: Int = 4
    @Option(help: "Seed of the initial weights, codebook draws and crops.") var seed: UInt64 = 0
    @Option(help: "Stop after this many minutes, evaluating and saving (a normal exit; --resume goes on).") var minutes: Double?
    @Flag(help: "Continue the run saved in OUT.") var resume = false

    /// Keys that shape the network: taken from --init's folder, never from --config.
    static let architecture: Set<String> = ["levels", "downs_t", "strides_t", "emb_width", "l_bins", "width", "depth", "m_conv",
                                            "dilation_growth_rate", "dilation_cycle", "hvqvae_multipliers",
                                            "vqvae_reverse_decoder_dilation", "sr", "use_bottleneck"]

    func run() throws {
        guard steps > 0, saveEvery > 0, evalEvery > 0, logEvery > 0, evalCrops > 0 else {
            throw JukeboxError("train vqvae", "--steps, --save-every, --eval-every, --log-every and --eval-crops must be positive")
        }
        if let minutes, !(minutes > 0) { throw JukeboxError("--minutes", "must be positive, got \(minutes)") }
        let trainer: VQVAETrainer
        if keepLevelsFrom != nil && (resume || initFrom != nil) {
            throw JukeboxError("--keep-levels-from", "is for a new run of a new architecture (--init and --resume keep every level already)")
        }
        if resume {
            let hps = try ModelConfig.load(folder: out).hps
            let corpus = try Self.corpus(data, hps)
            trainer = try VQVAECheckpoint.load(folder: out, data: corpus)
            Log.note("resuming at step \(trainer.optimizer.step) from \(out)")
        } else {
            if FileManager.default.fileExists(atPath: out) {
                throw JukeboxError(out, "already exists; pass --resume to continue it, or a new folder")
            }
            guard let config else { throw JukeboxError("config", "a new run needs --config (hyperparameters JSON)") }
            var hps = try TrainPrior.readHps(config)
            if let initFrom {
                var values = try ModelConfig.load(folder: initFrom).hps.values
                for (k, v) in hps.values where !Self.architecture.contains(k) { values[k] = v }
                hps = Hyperparameters(values, source: config)
            }
            let corpus = try Self.corpus(data, hps)
            if let initFrom {
                let probe = corpus.batch(index: -1, size: 64, seed: seed)
                let model = try TrainableVQVAE.load(folder: initFrom, bandwidth: try Bandwidth.measure([probe]),
                                                    sampleLength: corpus.sampleLength, seed: seed, settings: hps)
                trainer = try VQVAETrainer(model: model, optimizer: AdamOptimizer(settings: try AdamSettings(hps: hps)),
                                           data: corpus, batchSize: hps.has("bs") ? try hps.int("bs") : 1, dataSeed: seed,
                                           ema: VQVAETrainer.averaging(model, hps))
            } else {
                trainer = try VQVAETrainer.start(hps: hps, data: corpus, seed: seed)
                let model = trainer.model
                if let keepLevelsFrom {
                    try model.adoptUntrainedLevels(from: keepLevelsFrom, sampleLength: corpus.sampleLength)
                } else if model.trainedLevels.count < model.config.levels {
                    throw JukeboxError("train_levels", "leaves levels untrained in a new run: name the VQ-VAE to keep them from "
                                       + "with --keep-levels-from")
                }
            }
        }
        let sampleLength = trainer.data.sampleLength
        let corpus = trainer.data
        let model = trainer.model
        let levels = model.trainedLevels.count < model.config.levels ? " (levels \(model.trainedLevels.map(String.init).joined(separator: ", ")) only)" : ""
        Log.note("training the VQ-VAE\(levels): \(corpus.train.count) train songs, \(corpus.test.count) held out, batch \(trainer.batchSize) × "
                 + "\(sampleLength) samples, \(model.trainableParameters.reduce(0) { $0 + $1.tensor.count }) parameters, "
                 + String(format: "bandwidth l2 %.4g l1 %.4g spec %.4g", model.objective.bandwidth.l2, model.objective.bandwidth.l1,
                          model.objective.bandwidth.spec))
        let cancel = CancelFlag()
        let interrupts = InterruptRequests([SIGINT, SIGTERM], cancelling: cancel)
        defer { interrupts.stop() }
        let timeUp = TimeLimit(minutes: minutes, cancel: cancel)
        let start = Date(), startStep = trainer.optimizer.step
        var last: VQVAETrainer.StepReport? = nil
        var evaluation: [VQVAELevelEvaluation] = []
        while trainer.optimizer.step < steps {
            if cancel.isCancelled { break }
            let r = try trainer.step()
            last = r
            let step = trainer.optimizer.step
            let rate = Double(step - startStep) / max(Date().timeIntervalSince(start), 1e-9)
            if step % logEvery == 0 || step == steps {
                let levels = r.loss.levels.map { e in
                    String(format: "l%d recons %.4f spec %.4f commit %.4f used %d", e.level, e.recons, e.multispectral, e.commit, e.bottleneck.usage)
                }.joined(separator: ", ")
                Log.note(String(format: "step %d/%d loss %.4f (%@) lr %.3g gn %.3g %.2f steps/s", step, steps, r.loss.total, levels,
                                r.optimizer.learningRate, r.optimizer.gradNorm, rate))
            }
            if step % evalEvery == 0 || step == steps {
                evaluation = try trainer.evaluate(perSong: evalCrops)
                Log.note("held out at step \(step): " + evaluation.map {
                    String(format: "level %d SC %.3f SNR %.2f dB codes %d", $0.level, $0.spectralConvergence, $0.snr, $0.codesUsed)
                }.joined(separator: "; "))
            }
            if step % saveEvery == 0 || step == steps { try save(trainer, evaluation, last, start, startStep) }
        }
        if cancel.isCancelled && timeUp.reached {
            // The model card reads evaluation.json: it should describe the weights saved, not an earlier step.
            if last != nil { evaluation = try trainer.evaluate(perSong: evalCrops) }
            try save(trainer, evaluation, last, start, startStep)
            Log.note("time limit reached: saved \(out) at step \(trainer.optimizer.step); --resume continues it")
            return
        }
        if cancel.isCancelled {
            try save(trainer, evaluation, last, start, startStep)
            Log.note("interrupted: saved \(out) at step \(trainer.optimizer.step); --resume continues it")
            throw ExitCode(130)
        }
        Log.note("saved \(out) at step \(trainer.optimizer.step)")
    }

    static func corpus(_ folder: String, _ hps: Hyperparameters) throws -> VQVAETrainingData {
        guard hps.has("sample_length") else { throw JukeboxError(hps.source, "sample_length is missing") }
        let (rate, length) = (try VQVAEHyperparameters(hps).sampleRate, try hps.int("sample_length"))
        return try Progress.task("reading \(folder)") { try VQVAETrainingData.load(folder: folder, sampleRate: rate, sampleLength: length) }
    }

    func save(_ trainer: VQVAETrainer, _ evaluation: [VQVAELevelEvaluation], _ last: VQVAETrainer.StepReport?, _ start: Date,
              _ startStep: Int) throws {
        try VQVAECheckpoint.save(trainer, lastLoss: last?.loss.total, to: out)
        let seconds = Date().timeIntervalSince(start)
        let report: [String: Any] = [
            "step": trainer.optimizer.step, "loss": last?.loss.total ?? 0,
            "steps_per_second": Double(trainer.optimizer.step - startStep) / max(seconds, 1e-9),
            "held_out": evaluation.map { ["level": $0.level, "spectral_convergence": $0.spectralConvergence, "snr_db": $0.snr,
                                          "codes_used": $0.codesUsed] },
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: out + "/evaluation.json"), options: .atomic)
    }
}
