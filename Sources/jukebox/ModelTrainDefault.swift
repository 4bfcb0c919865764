import ArgumentParser
import Foundation
import JukeboxCore

/// `jukebox model train-default`: the whole recipe of the default model set, stage by stage, each stage
/// the same command a user would run by hand (train vqvae, dataset encode, train prior) so the recipe and
/// the tools cannot drift apart.
struct ModelTrainDefault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-default",
        abstract: "Train the default model set on a corpus: VQ-VAE, codes, three priors, then the set and its model card.",
        discussion: """
            Stages: the VQ-VAE (WORK/vqvae), the train and test songs encoded (WORK/codes-train, WORK/codes-test), \
            the top-level prior and the two upsamplers (WORK/prior_level_2, _1, _0), then OUT: the model set with \
            the corpus's label lists in every prior, and OUT/model-card.json (held-out SNR and spectral convergence \
            per VQ-VAE level, held-out bits per token of each prior beside a unigram baseline, steps and speeds). \
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
            if stage.name == "prior_level_2" { try encodeCodes(recipe: &recipe) }
            guard !recipe.isDone(stage.name) else { Log.note("\(stage.name): done earlier, skipped"); continue }
            let minutes = budget.minutes(for: stage.name, done: recipe.doneNames, encoded: recipe.isDone("codes"))
            let folder = work + "/" + stage.name
            let before = RecipeProgress.step(folder), started = Date()
            var args = ["--data", stage.name == "vqvae" ? corpus : work + "/codes-train", "--out", folder,
                        "--steps", String(stage.steps), "--seed", String(seed), "--log-every", String(logEvery)]
            if let minutes { args += ["--minutes", String(format: "%.2f", minutes)] }
            if FileManager.default.fileExists(atPath: folder + "/training.json") {
                args.append("--resume")
            } else {
                let config = work + "/\(stage.name)-config.json"
                // A config written by an earlier try stays: the stage must go on with the settings it began with.
                if !FileManager.default.fileExists(atPath: config) { try AtomicFile.write(try preset.config(member: stage.name), to: config) }
                args += ["--config", config]
            }
            Log.note("\(stage.name): \(stage.steps) steps" + (minutes.map { String(format: ", at most %.1f minutes", $0) } ?? ""))
            if stage.name == "vqvae" {
                var command = try TrainVQVAE.parse(args + ["--eval-every", "100", "--eval-crops", "2", "--save-every", "50"])
                try command.run()
            } else {
                let level = Int(stage.name.dropFirst("prior_level_".count))!
                var command = try TrainPrior.parse(args + ["--level", String(level), "--save-every", "100"])
                try command.run()
            }
            // The stage's own signal handlers ignore Ctrl-C once they are gone; between stages it should stop us.
            signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
            let after = RecipeProgress.step(folder)
            try recipe.finish(stage.name, ["step": after, "planned_steps": stage.steps, "seconds": Date().timeIntervalSince(started),
                                           "steps_per_second": Double(after - before) / max(Date().timeIntervalSince(started), 1e-9)])
        }
        try assembleSet(preset: preset, recipe: recipe)
    }

    /// The train and test songs' codes under the finished VQ-VAE; each split is written beside its final
    /// name and renamed when whole, so a split that exists is complete.
    func encodeCodes(recipe: inout RecipeProgress) throws {
        guard !recipe.isDone("codes") else { return }
        let started = Date()
        for split in ["train", "test"] {
            let final = work + "/codes-\(split)", partial = final + ".partial"
            if FileManager.default.fileExists(atPath: final) { continue }
            try? FileManager.default.removeItem(atPath: partial)
            var command = try DatasetEncode.parse(["--vqvae", work + "/vqvae", "--data", corpus, "--split", split, "--output", partial])
            try command.run()
            try FileManager.default.moveItem(atPath: partial, toPath: final)
        }
        try recipe.finish("codes", ["seconds": Date().timeIntervalSince(started)])
    }

    /// OUT: the trained members (config and weights only), the corpus's label lists beside each prior,
    /// checked by loading the whole set, then the model card.
    func assembleSet(preset: DefaultModelPreset, recipe: RecipeProgress) throws {
        let fm = FileManager.default
        let staging = work + "/set.partial"
        try? fm.removeItem(atPath: staging)
        for member in ModelSet.memberNames {
            try fm.createDirectory(atPath: staging + "/" + member, withIntermediateDirectories: true)
            var files = ["config.json", "weights.safetensors"]
            for file in files { try fm.copyItem(atPath: work + "/\(member)/\(file)", toPath: staging + "/\(member)/\(file)") }
            if member != "vqvae" {
                files = [LabelVocabulary.artistsFileName, LabelVocabulary.genresFileName]
                for file in files { try fm.copyItem(atPath: corpus + "/" + file, toPath: staging + "/\(member)/\(file)") }
            }
        }
        let set = try Progress.task("loading the set") { try ModelSet.load(staging) }
        var card = try RecipeModelCard.make(set: set, preset: preset, corpus: corpus, work: work, recipe: recipe.entries)
        card["seed"] = Int(seed)
        let data = try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: staging + "/model-card.json")
        let songs = try CorpusIndex.read(corpus)
        let meanSeconds = songs.reduce(0) { $0 + $1.seconds } / Double(max(songs.count, 1))
        try AtomicFile.write(preset.sampling(songSeconds: meanSeconds).json, to: staging + "/" + SamplingDefaults.fileName)
        if fm.fileExists(atPath: output) {
            let contents = (try? fm.contentsOfDirectory(atPath: output)) ?? []
            guard contents.isEmpty || contents.contains("model-card.json") else {
                throw JukeboxError(output, "exists and is not an earlier model set of this recipe; choose a new folder")
            }
            try fm.removeItem(atPath: output)
        }
        try fm.moveItem(atPath: staging, toPath: output)
        Log.note("wrote \(output): " + RecipeModelCard.summary(card))
    }
}
