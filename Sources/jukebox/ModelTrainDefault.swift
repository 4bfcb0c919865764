import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// `jukebox model train-default`: the whole recipe of the default model set, stage by stage, each stage
/// the same command a user would run by hand (train vqvae, dataset encode, train prior) so the recipe and
/// the tools cannot drift apart.
struct ModelTrainDefault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-default",
        abstract: "Train the default model set on a corpus: VQ-VAE, codes, three priors, then the set and its model card.",
        discussion: """
            Stages: the VQ-VAE (WORK/vqvae), the train and test songs encoded (WORK/codes-train, WORK/codes-test), \
            the top-level prior in rounds (WORK/prior_level_2, then WORK/prior_level_2-round2 and on, each \
            starting from the last with a fresh warm-up), the two upsamplers (WORK/prior_level_1, _0), the alignment prior \
            (WORK/alignment_prior: the finished top prior taught to follow the sung words, then its head chosen as \
            `train alignment` does; skipped when no training song has word times), then OUT: the model set with \
            the corpus's label lists in every prior, and OUT/model-card.json (held-out SNR and spectral convergence \
            per VQ-VAE level, held-out bits per token of each prior beside a unigram baseline, steps and speeds), \
            and last the genre judge: --judge-clips clips per genre sampled with the set into \
            WORK/genre-judge-sessions and judged as `jukebox eval genre --codec SET` does. \
            The hyperparameters are the `default` preset's (DefaultModelPreset). Interrupted (Ctrl-C, a crash), a \
            rerun with the same WORK resumes the stage under way from its last checkpoint; stages recorded as done \
            in WORK/recipe.json are not run again. --budget-minutes shares the time left among the training \
            stages (a stage that runs out of time saves, and counts as done); without it each stage runs its steps.
            """)

    @Option(help: "Corpus folder (jukebox dataset build).") var corpus: String
    @Option(help: "Work folder for checkpoints and codes (created; reused to resume).") var work: String
    @Option(name: .shortAndLong, help: "Model set folder to write (replaced if it holds an earlier model card).") var output: String
    @Option(help: "Minutes for the whole recipe; the training stages share what is left.") var budgetMinutes: Double?
    @Option(help: "default, or tiny (test sizes, a few steps).") var scale: String = "default"
    @Option(help: "Seed of every stage's initial weights and data order.") var seed: UInt64 = 1
    @Option(name: .customLong("log-every")) var logEvery: Int = 10
    @Option(name: .customLong("judge-clips"), help: "Clips per genre the finished set samples for the card's genre judge (0: no judge; it runs after --budget-minutes; default: the scale's).")
    var judgeClips: Int?
    @Option(name: .customLong("judge-seconds"), help: "Seconds per judged clip (default: the scale's).") var judgeSeconds: Double?

    func validate() throws {
        if let judgeClips, !(0...100).contains(judgeClips) { throw JukeboxError("--judge-clips", "must be between 0 and 100, got \(judgeClips)") }
        if let judgeSeconds, !(judgeSeconds > 0 && judgeSeconds <= 600) {
            throw JukeboxError("--judge-seconds", "must be above 0 and at most 600, got \(judgeSeconds)")
        }
    }

    func run() throws {
        guard let s = DefaultModelPreset.Scale(rawValue: scale) else {
            throw JukeboxError("--scale", "unknown scale \(scale) (default or tiny)")
        }
        if let budgetMinutes, !(budgetMinutes > 0) { throw JukeboxError("--budget-minutes", "must be positive, got \(budgetMinutes)") }
        let preset = try DefaultModelPreset(scale: s, corpus: corpus)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var recipe = RecipeProgress(path: work + "/recipe.json")
        try recipe.load()
        let budget = RecipeBudget(minutes: budgetMinutes, stages: preset.stages)

        for stage in preset.stages {
            if stage.member != "vqvae" { try encodeCodes(preset: preset, recipe: &recipe) }
            guard !recipe.isDone(stage.name) else { Log.note("\(stage.name): done earlier, skipped"); continue }
            if stage.alignWeight != nil, let top = stage.continues, try !Self.hasTimedSongs(codes: work + "/codes-train", prior: work + "/" + top) {
                Log.note("\(stage.name): no training song has word times, so the set gets no alignment prior")
                try recipe.finish(stage.name, ["skipped": "no training song has word times"])
                continue
            }
            let minutes = budget.minutes(for: stage.name, done: recipe.doneNames, encoded: recipe.isDone("codes"))
            let folder = work + "/" + stage.name
            let before = RecipeProgress.step(folder), started = Date()
            var args = ["--data", stage.member == "vqvae" ? corpus : work + "/codes-train", "--out", folder,
                        "--steps", String(stage.steps), "--seed", String(seed &+ stage.seedOffset), "--log-every", String(logEvery)]
            if let minutes { args += ["--minutes", String(format: "%.2f", minutes)] }
            if FileManager.default.fileExists(atPath: folder + "/training.json") {
                args.append("--resume")
            } else {
                let config = work + "/\(stage.name)-config.json"
                // A config written by an earlier try stays: the stage must go on with the settings it began with.
                if !FileManager.default.fileExists(atPath: config) { try AtomicFile.write(try preset.config(stage: stage.name), to: config) }
                args += ["--config", config]
                // A prior goes on from its earlier round's weights; a codec stage of a new shape keeps the
                // earlier codec's other levels.
                if let earlier = stage.continues { args += [stage.trainLevels == nil ? "--init" : "--keep-levels-from", work + "/" + earlier] }
                if let nCtx = stage.nCtx { args += ["--n-ctx", String(nCtx)] }
                if let bins = stage.barClockBins { args += ["--bar-clock-bins", String(bins)] }
                if let depth = stage.depth { args += ["--depth", String(depth)] }
            }
            Log.note("\(stage.name): \(stage.steps) steps" + (stage.continues.map { " on from \($0)" } ?? "")
                     + (stage.nCtx.map { ", on windows of \($0) codes" } ?? "")
                     + (stage.barClockBins.map { ", with a bar clock of \($0) places" } ?? "")
                     + (stage.depth.map { ", grown to \($0) layers" } ?? "")
                     + (minutes.map { String(format: ", at most %.1f minutes", $0) } ?? ""))
            if let level = preset.priorLevel(member: stage.member) {
                var prior = ["--level", String(level), "--save-every", "100"]
                if let weight = stage.alignWeight {
                    let (layer, head) = preset.alignmentHead
                    prior += ["--align-layer", String(layer), "--align-head", String(head), "--align-weight", String(weight)]
                }
                let command = try TrainPrior.parse(args + prior)
                try command.run()
                // Which head reads the words best, alone or held near the even spread, on training songs.
                if stage.alignWeight != nil { try TrainAlignment.parse(["--prior", folder, "--data", work + "/codes-train"]).run() }
            } else {
                let command = try TrainVQVAE.parse(args + ["--eval-every", "100", "--eval-crops", "2", "--save-every", "50"])
                try command.run()
            }
            // The stage's own signal handlers ignore Ctrl-C once they are gone; between stages it should stop us.
            signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
            let after = RecipeProgress.step(folder)
            var facts: [String: Any] = ["step": after, "planned_steps": stage.steps, "seconds": Date().timeIntervalSince(started),
                                        "steps_per_second": Double(after - before) / max(Date().timeIntervalSince(started), 1e-9)]
            if let nCtx = stage.nCtx { facts["n_ctx"] = nCtx }
            if let bins = stage.barClockBins { facts["bar_clock_bins"] = bins }
            if let depth = stage.depth { facts["depth"] = depth }
            try recipe.finish(stage.name, facts)
        }
        var card = try assembleSet(preset: preset, recipe: recipe)
        let judge = (clips: judgeClips ?? preset.genreJudge.clipsPerGenre, seconds: judgeSeconds ?? preset.genreJudge.seconds)
        if judge.clips > 0 {
            card["genre_judge"] = try judgeGenre(clips: judge.clips, seconds: judge.seconds, recipe: &recipe)
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted, .sortedKeys]),
                                 to: output + "/model-card.json")
        }
        Log.note("wrote \(output): " + RecipeModelCard.summary(card))
    }

    /// Whether any training song has word times the alignment prior can be taught with.
    static func hasTimedSongs(codes: String, prior: String) throws -> Bool {
        try PriorTrainingData(folder: codes, hps: try ModelConfig.load(folder: prior).hps).timedSongs > 0
    }

    /// The train and test songs' codes under the finished VQ-VAE; each split is written beside its final
    /// name and renamed when whole, so a split that exists is complete.
    func encodeCodes(preset: DefaultModelPreset, recipe: inout RecipeProgress) throws {
        guard !recipe.isDone("codes") else { return }
        let started = Date()
        try RecipeCodes.encode(corpus: corpus, vqvae: VQVAE(folder: work + "/" + preset.finalFolder(of: "vqvae")), work: work)
        try recipe.finish("codes", ["seconds": Date().timeIntervalSince(started)])
    }

    /// OUT: the trained members (config and weights only), the corpus's label lists beside each prior,
    /// checked by loading the whole set, then the model card (without the genre judge, which samples the
    /// set where it will stay).
    func assembleSet(preset: DefaultModelPreset, recipe: RecipeProgress) throws -> [String: Any] {
        let fm = FileManager.default
        let staging = work + "/set.partial"
        try? fm.removeItem(atPath: staging)
        // The alignment prior ships beside the others unless its stage found no sung song to learn from.
        let alignerStage = preset.stages.first { $0.member == AlignmentPrior.folderName }
        let shipsAligner = alignerStage.map { recipe.entries[$0.name]?["skipped"] == nil } ?? false
        for member in ModelSet.memberNames + (shipsAligner ? [AlignmentPrior.folderName] : []) {
            try fm.createDirectory(atPath: staging + "/" + member, withIntermediateDirectories: true)
            let trained = work + "/" + preset.finalFolder(of: member)
            var files = ["config.json", "weights.safetensors"]
            for file in files { try fm.copyItem(atPath: trained + "/" + file, toPath: staging + "/\(member)/\(file)") }
            if member != "vqvae" {
                files = [LabelVocabulary.artistsFileName, LabelVocabulary.genresFileName]
                for file in files { try fm.copyItem(atPath: corpus + "/" + file, toPath: staging + "/\(member)/\(file)") }
            }
        }
        let topFolder = staging + "/" + ModelSet.priorFolderName(level: 2)
        let guide = try BarGuide.count(try PriorTrainingData(folder: work + "/codes-train", hps: try ModelConfig.load(folder: topFolder).hps),
                                       bins: preset.barGuide.bins)
        try guide.write(to: staging + "/" + BarGuide.fileName)
        let set = try Progress.task("loading the set") { try ModelSet.load(staging) }
        var card = try RecipeModelCard.make(set: set, preset: preset, corpus: corpus, work: work, recipe: recipe.entries)
        card["seed"] = Int(seed)
        let data = try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: staging + "/model-card.json")
        let songs = try CorpusIndex.read(corpus)
        let meanSeconds = songs.reduce(0) { $0 + $1.seconds } / Double(max(songs.count, 1))
        // One tempo per artist: the corpus gives each artist's songs the same one.
        let tempos = Dictionary(songs.map { ($0.artist, $0.bpm) }, uniquingKeysWith: { first, _ in first })
        let genres = Dictionary(songs.map { ($0.artist, $0.genre) }, uniquingKeysWith: { first, _ in first })
        var sampling = preset.sampling(songSeconds: meanSeconds, artistTempos: tempos, artistGenres: genres)
        sampling.instrumentalArtists = CorpusSong.instrumentalArtists(songs)
        try AtomicFile.write(sampling.json, to: staging + "/" + SamplingDefaults.fileName)
        if fm.fileExists(atPath: output) {
            let contents = (try? fm.contentsOfDirectory(atPath: output)) ?? []
            guard contents.isEmpty || contents.contains("model-card.json") else {
                throw JukeboxError(output, "exists and is not an earlier model set of this recipe; choose a new folder")
            }
            try fm.removeItem(atPath: output)
        }
        try fm.moveItem(atPath: staging, toPath: output)
        return card
    }

    /// The codec-aware genre judge of the finished set, as `eval genre --codec SET --sample-per-genre N`
    /// gives it: `clips` per genre, each with an artist and lyrics of the corpus, judged by a
    /// classifier that has heard the corpus through the set's VQ-VAE. Kept in WORK/recipe.json with the
    /// set's digest, so a rerun that rebuilds the same set does not sample again.
    func judgeGenre(clips: Int, seconds: Double, recipe: inout RecipeProgress) throws -> [String: Any] {
        var digest = ContentDigest()
        for member in ModelSet.memberNames {
            for file in ["config.json", "weights.safetensors"] {
                let path = output + "/\(member)/\(file)"
                guard let bytes = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "cannot be read") }
                digest.add(bytes)
            }
        }
        digest.add(Data("\(clips) clips of \(seconds) s".utf8))
        if let judged = recipe.entries["genre_judge"], judged["set_digest"] as? String == digest.hex {
            Log.note("genre judge: done earlier for this set, skipped")
            return judged
        }
        let sessions = work + "/genre-judge-sessions", started = Date()
        try? FileManager.default.removeItem(atPath: sessions)
        var judge = GenreJudge(corpus: corpus)
        (judge.codec, judge.model, judge.perGenre, judge.seconds, judge.sessionsOut) = (output, output, clips, seconds, sessions)
        // The card's figure keeps its setting (the training songs' prompts) until the card is measured anew.
        judge.prompts = .training
        let (evaluation, samples, tempo, sound) = try judge.measure(log: Log.note, sampling: { SamplingProgress().show($0) })
        guard var judged = try JSONSerialization.jsonObject(with: GenreReport(evaluation, samples: samples, tempo: tempo, sound: sound).encoded())
                as? [String: Any] else {
            throw JukeboxError("genre judge", "report is not a JSON object")
        }
        judged["command"] = "jukebox eval genre --data CORPUS --codec SET --model SET --sample-per-genre \(clips) --seconds \(seconds) --prompts training --sessions-out WORK/genre-judge-sessions"
        judged["set_digest"] = digest.hex
        judged["seconds"] = Date().timeIntervalSince(started)
        try recipe.finish("genre_judge", judged)
        if let samples {
            Log.note(String(format: "genre judge: %.0f%% of %d clips named right (chance %.0f%%), the intended genre's probability %.3f",
                            100 * samples.matrix.accuracy, samples.matrix.total, 100 / Double(evaluation.classifier.genres.count),
                            samples.intendedProbability))
        }
        return judged
    }
}
