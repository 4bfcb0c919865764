import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// `jukebox model fine-tune`: a model set taught a user's own music (a corpus from `dataset import`) within a
/// time budget, written as a new set; the set it starts from is only read.
///
/// Stages, each recorded in WORK/fine-tune.json when done so a rerun goes on where one stopped: the label
/// lists grown by the corpus's new artists and genres; the corpus encoded by the set's VQ-VAE with those
/// lists; every prior given rows for the new names (starting as "unknown") and scored on the held-out songs
/// ("before"); each prior fine-tuned by `train prior --init` for its share of the budget; the fine-tuned
/// priors scored again ("after"); then OUTPUT with the grown lists, tempos, bar guide and a model card.
struct ModelFineTune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fine-tune",
        abstract: "Teach a model set your own recordings (a corpus from `jukebox dataset import`): a new set.",
        discussion: """
            New artists and genres of the corpus join the set's label lists (their embedding rows learnt from \
            the prior's "unknown" row), the top prior and the upsamplers are fine-tuned in turn in what is \
            left of --budget-minutes once the songs are encoded and scored (half of it the top prior's), and OUTPUT/model-card.json gains `fine_tune`: the \
            held-out songs' bits per token at every level before and after, what naming the new artist is worth \
            (bits with the artist "unknown"), and the codec's SNR and spectral convergence on them (the VQ-VAE \
            is kept as it is). A base set's alignment prior comes along untrained, its lists grown the same way, \
            so the lyrics stay timed as well as before. Interrupted, a rerun with the same --work goes on from the last checkpoint with a \
            fresh budget for what is left. Sets of 16-bit or quantized weights cannot be trained: start from \
            the float32 set they were made from.
            """)

    @Option(help: "Model set to start from (default: the bundled one). Only read.") var model: String?
    @Option(help: "Corpus of your recordings (`jukebox dataset import`), with held-out songs.") var data: String
    @Option(name: .shortAndLong, help: "Model set folder to write (new, or an earlier fine-tune's).") var output: String
    @Option(name: .customLong("work"), help: "Work folder for codes and checkpoints, reused to resume (default: OUTPUT.work).")
    var workOption: String?
    var work: String { workOption ?? output + ".work" }
    @Option(name: .customLong("budget-minutes"), help: "Minutes for the whole command: encoding, scoring and the priors' training share what is left.") var budgetMinutes: Double = 60
    @Option(help: "Peak learning rate (after a short warm-up; it falls along half a cosine to zero by the end of each prior's time).") var lr: Double = 0.0002
    @Option(name: .customLong("max-steps"), help: "Steps per prior at most; the budget usually ends them first.") var maxSteps: Int = 100_000
    @Option(help: "Held-out windows each prior is scored on, before and after.") var windows: Int = 24
    @Option(help: "Seed of the order of the training windows.") var seed: UInt64 = 1
    @Option(name: .customLong("log-every")) var logEvery: Int = 10

    func validate() throws {
        guard budgetMinutes > 0, budgetMinutes.isFinite else { throw JukeboxError("--budget-minutes", "must be positive, got \(budgetMinutes)") }
        guard lr > 0, lr < 1 else { throw JukeboxError("--lr", "must be between 0 and 1, got \(lr)") }
        guard maxSteps > 0 else { throw JukeboxError("--max-steps", "must be positive, got \(maxSteps)") }
        guard (1...10_000).contains(windows) else { throw JukeboxError("--windows", "must be between 1 and 10000, got \(windows)") }
    }

    /// The codec is measured on this much of each held-out song, from its middle: whole songs took a
    /// third of an hour's budget on four hours of music (23 minutes for ten held-out songs of 7 minutes).
    static let codecSeconds = 30.0

    /// Shares of the budget: the top prior learns the music's form and has the most to learn.
    static func budgetShare(level: Int, top: Int) -> Double { level == top ? 2 : 1 }

    func run() throws {
        let fm = FileManager.default
        let deadline = Date().addingTimeInterval(budgetMinutes * 60)
        let base = try BundledModel.resolve(model)
        guard !SampleJob.samePlace(base, output) else { throw JukeboxError(output, "is the set being fine-tuned, which is never changed; choose a new folder") }
        // Refused now, not after the budget is spent: OUTPUT is new, empty or an earlier fine-tune's.
        try Self.checkReplaceable(output)
        let set = try Progress.task("loading \(base)") { try ModelSet.load(base) }
        let levels = set.availableLevels
        let songs = try CorpusIndex.read(data)
        guard songs.contains(where: { $0.split == "train" }) else { throw JukeboxError(data, "holds no training songs") }
        guard songs.contains(where: { $0.split == "test" }) else {
            throw JukeboxError(data, "holds no held-out songs to measure on (import it again with --held-out-every)")
        }
        let topConfig = try set.prior(level: set.topLevel).prior.config
        guard topConfig.labels, let vocabulary = set.vocabularies[set.topLevel] else {
            throw JukeboxError(base + "/" + ModelSet.priorFolderName(level: set.topLevel), "has no artist and genre labels to learn the new music's under")
        }
        // One growth serves every prior, so every prior must read the same lists (the published 1b_lyrics set's
        // upsamplers do not: their lists are v2, its top prior's v3).
        for level in levels where level != set.topLevel {
            let config = try set.prior(level: level).prior.config
            guard !config.labels || (config.yBins == topConfig.yBins && config.labelsV3 == topConfig.labelsV3) else {
                throw JukeboxError(base + "/" + ModelSet.priorFolderName(level: level),
                                   "has other label lists than the top prior (y_bins \(config.yBins) against \(topConfig.yBins)); fine-tune needs one set of lists")
            }
        }
        let growth = try LabelVocabularyGrowth(vocabulary, yBins: topConfig.yBins, artists: songs.map(\.artist), genres: songs.map(\.genre))
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        var recipe = RecipeProgress(path: work + "/fine-tune.json")
        try recipe.load()
        let identity = ["base": URL(fileURLWithPath: base).standardizedFileURL.path, "data": URL(fileURLWithPath: data).standardizedFileURL.path]
        if let recorded = recipe.entries["work"]?.compactMapValues({ $0 as? String }), recorded != identity {
            throw JukeboxError(work, "holds a fine-tune of \(recorded["base"] ?? "?") on \(recorded["data"] ?? "?"); choose another --work")
        }
        try recipe.finish("work", identity)
        Log.note("fine-tuning \(base) on \(songs.count) songs of \(data): new artists \(growth.newArtists), new genres \(growth.newGenres)")

        // Codes of the corpus under the set's codec, labelled with the grown lists.
        if !recipe.isDone("codes") {
            let started = Date()
            try RecipeCodes.encode(corpus: data, vqvae: set.vqvae, work: work, vocabulary: growth.vocabulary,
                                   genreSlots: max(topConfig.maxBowGenreSize, 1))
            try recipe.finish("codes", ["seconds": Date().timeIntervalSince(started)])
        }

        // Every prior with rows for the new names; scored on the held-out songs as the set is.
        for level in levels {
            let name = ModelSet.priorFolderName(level: level), start = work + "/start/" + name
            if !fm.fileExists(atPath: start + "/config.json") {
                let source = base + "/" + name
                if try set.prior(level: level).prior.config.labels {
                    try PriorLabelGrowth.write(prior: source, growth: growth, to: start + ".partial")
                } else {
                    try fm.createDirectory(atPath: start + ".partial", withIntermediateDirectories: true)
                    for file in ["config.json", "weights.safetensors"] { try fm.copyItem(atPath: source + "/" + file, toPath: start + ".partial/" + file) }
                }
                try? fm.removeItem(atPath: start)
                try fm.moveItem(atPath: start + ".partial", toPath: start)
            }
            try score(prior: start, level: level, stage: "before-\(level)", recipe: &recipe)
        }
        if !recipe.isDone("codec") {
            let bar = Progress.Bar("codec on the held-out songs", total: songs.filter { $0.split == "test" }.count)
            let rebuilt = try VQVAEHeldOut.evaluate(vqvae: set.vqvae, corpus: data, middleSeconds: Self.codecSeconds) { done, _ in
                bar.update(done, unit: "songs")
            }
            try recipe.finish("codec", ["levels": rebuilt.map(\.json), "seconds_per_song": Self.codecSeconds])
        }

        // The priors are scored again after training: keep what scoring them took before, and a little more.
        let scoring = levels.reduce(30.0) { $0 + (recipe.entries["before-\($1)"]?["seconds"] as? Double ?? 10) }
        try train(levels: levels, top: set.topLevel, until: deadline.addingTimeInterval(-scoring), recipe: &recipe)
        for level in levels { try score(prior: work + "/" + ModelSet.priorFolderName(level: level), level: level, stage: "after-\(level)", recipe: &recipe) }
        try assemble(base: base, set: set, growth: growth, songs: songs, recipe: recipe)
    }

    /// Each prior in turn, top first, from its grown start for its share of what is left of the budget.
    func train(levels: [Int], top: Int, until deadline: Date, recipe: inout RecipeProgress) throws {
        let config = work + "/fine-tune-settings.json"
        if !FileManager.default.fileExists(atPath: config) {
            let settings: [String: Any] = ["lr": lr, "lr_warmup": 20, "lr_use_cosine_decay": false, "lr_use_linear_decay": false, "lr_gamma": 1]
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys]), to: config)
        }
        for level in levels {
            let stage = "train-\(level)"
            guard !recipe.isDone(stage) else { Log.note("level \(level): fine-tuned earlier, skipped"); continue }
            let pending = levels.filter { !recipe.isDone("train-\($0)") }
            let shares = pending.reduce(0) { $0 + Self.budgetShare(level: $1, top: top) }
            let minutes = max(deadline.timeIntervalSinceNow / 60 * Self.budgetShare(level: level, top: top) / shares, 0.05)
            let folder = work + "/" + ModelSet.priorFolderName(level: level)
            let before = RecipeProgress.step(folder), started = Date()
            var args = ["--data", work + "/codes-train", "--level", String(level), "--out", folder, "--steps", String(maxSteps),
                        "--seed", String(seed &+ UInt64(level)), "--log-every", String(logEvery), "--save-every", "100",
                        "--minutes", String(format: "%.2f", minutes)]
            if FileManager.default.fileExists(atPath: folder + "/training.json") {
                args.append("--resume")
            } else {
                // A cosine to zero at the end of the prior's share: sampled from, a prior left at a constant
                // rate drifts into fewer, more repeated codes than the music has (measured on level 1).
                args += ["--init", work + "/start/" + ModelSet.priorFolderName(level: level), "--config", config, "--cosine-to-limit"]
            }
            Log.note(String(format: "level %d: fine-tuning for at most %.1f minutes", level, minutes))
            try TrainPrior.parse(args).run()
            signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
            let seconds = Date().timeIntervalSince(started), after = RecipeProgress.step(folder)
            try recipe.finish(stage, ["step": after, "seconds": seconds, "steps_per_second": Double(after - before) / max(seconds, 1e-9),
                                      "learning_rate": lr])
        }
    }

    /// Held-out bits per token of the prior in `folder` (with the artist "unknown" beside), once per stage.
    func score(prior folder: String, level: Int, stage: String, recipe: inout RecipeProgress) throws {
        guard !recipe.isDone(stage) else { return }
        let started = Date()
        let prior = try Progress.task("scoring level \(level) (\(stage.hasPrefix("before") ? "before" : "after"))") {
            try PriorHeldOut.evaluate(prior: try PriorModel.load(folder: folder), train: work + "/codes-train", test: work + "/codes-test",
                                      windows: windows, unknownArtist: true)
        }
        var entry = prior.json
        entry["seconds"] = Date().timeIntervalSince(started)
        try recipe.finish(stage, entry)
    }

    /// OUTPUT: the base set's VQ-VAE and files, the fine-tuned priors with the grown lists, tempos and genres
    /// of the new artists, the bar guide grown by their songs, and the model card with `fine_tune`.
    func assemble(base: String, set: ModelSet, growth: LabelVocabularyGrowth, songs: [CorpusSong],
                  recipe: RecipeProgress) throws {
        let fm = FileManager.default
        let staging = work + "/set.partial"
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: staging + "/vqvae", withIntermediateDirectories: true)
        for file in ["config.json", "weights.safetensors"] { try fm.copyItem(atPath: base + "/vqvae/" + file, toPath: staging + "/vqvae/" + file) }
        for level in set.availableLevels {
            let name = ModelSet.priorFolderName(level: level)
            try fm.createDirectory(atPath: staging + "/" + name, withIntermediateDirectories: true)
            for file in ["config.json", "weights.safetensors"] { try fm.copyItem(atPath: work + "/\(name)/" + file, toPath: staging + "/\(name)/" + file) }
            if try PriorConfig(hps: try ModelConfig.load(folder: staging + "/" + name).hps).labels { try growth.write(into: staging + "/" + name) }
        }
        // The alignment prior is carried, untrained (a user's songs come without word times), so the new set's
        // karaoke stays as good as the base set's: its lists grow with the priors', the new rows "unknown".
        if set.alignmentPrior != nil {
            try PriorLabelGrowth.write(prior: base + "/" + AlignmentPrior.folderName, growth: growth,
                                       to: staging + "/" + AlignmentPrior.folderName, keepingFormat: true)
        }
        var sampling = set.sampling
        // Continuations of the user's own songs keep their prime's places in the bar unless the base set says otherwise.
        if sampling?.primeGuidance == 0 { sampling?.primeGuidance = SamplingDefaults.fineTunedPrimeGuidance }
        let instrumental = CorpusSong.instrumentalArtists(songs)
        for artist in Set(songs.map(\.artist)) {
            guard let key = growth.vocabulary.artistName(id: growth.vocabulary.artistID(artist).id) else { continue }
            let tempos = songs.filter { $0.artist == artist }.map(\.bpm).sorted()
            if !tempos.isEmpty { sampling?.artistTempos[key] = tempos[tempos.count / 2] }
            sampling?.artistGenres[key] = songs.first { $0.artist == artist }?.genre
            if instrumental.contains(artist) { sampling?.instrumentalArtists.insert(key) }
        }
        if let sampling { try AtomicFile.write(sampling.json, to: staging + "/" + SamplingDefaults.fileName) }
        if let guide = set.barGuide {
            let topFolder = staging + "/" + ModelSet.priorFolderName(level: set.topLevel)
            let data = try PriorTrainingData(folder: work + "/codes-train", hps: try ModelConfig.load(folder: topFolder).hps)
            try guide.grown(by: try BarGuide.count(data, bins: guide.bins)).write(to: staging + "/" + BarGuide.fileName)
        }
        var card = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + "/model-card.json")))) as? [String: Any] ?? [:]
        card["fine_tune"] = fineTuneCard(base: base, growth: growth, songs: songs, recipe: recipe, carriedAligner: set.alignmentPrior != nil)
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted, .sortedKeys]), to: staging + "/model-card.json")
        _ = try Progress.task("loading the new set") { try ModelSet.load(staging) }
        try Self.checkReplaceable(output)
        if fm.fileExists(atPath: output) { try fm.removeItem(atPath: output) }
        try fm.moveItem(atPath: staging, toPath: output)
        Log.note("wrote \(output): " + Self.summary(recipe: recipe, levels: set.availableLevels))
    }

    func fineTuneCard(base: String, growth: LabelVocabularyGrowth, songs: [CorpusSong], recipe: RecipeProgress,
                      carriedAligner: Bool) -> [String: Any] {
        let test = songs.filter { $0.split == "test" }
        var levels: [[String: Any]] = []
        for level in recipe.entries.keys.compactMap({ $0.hasPrefix("after-") ? Int($0.dropFirst(6)) : nil }).sorted(by: >) {
            var entry: [String: Any] = ["level": level, "before": recipe.entries["before-\(level)"] ?? [:], "after": recipe.entries["after-\(level)"] ?? [:]]
            entry["training"] = recipe.entries["train-\(level)"]
            levels.append(entry)
        }
        var card: [String: Any] = [
            "base": base, "corpus": data, "songs": songs.count, "held_out_songs": test.count,
            "held_out_minutes": test.reduce(0) { $0 + $1.seconds } / 60, "minutes": songs.reduce(0) { $0 + $1.seconds } / 60,
            "new_artists": growth.newArtists, "new_genres": growth.newGenres, "budget_minutes": budgetMinutes,
            "priors": levels, "codec": recipe.entries["codec"] ?? [:],
            "note": "bits per token on the corpus's held-out songs; before = the base set with the new names as unknown; bits_with_unknown_artist = the same windows with artist id 0; the VQ-VAE is the base set's",
            "command": "jukebox model fine-tune --model SET --data CORPUS -o NEWSET --budget-minutes \(budgetMinutes)"]
        if carriedAligner { card["alignment_prior"] = "the base set's, not trained; the new names' rows start as unknown" }
        return card
    }

    /// OUTPUT may be written when it does not exist, is empty, or holds a set an earlier fine-tune wrote.
    static func checkReplaceable(_ output: String) throws {
        guard FileManager.default.fileExists(atPath: output) else { return }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
        let card = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/model-card.json")))) as? [String: Any]
        guard contents.isEmpty || card?["fine_tune"] != nil else {
            throw JukeboxError(output, "exists and is not an earlier fine-tuned set; choose a new folder")
        }
    }

    static func summary(recipe: RecipeProgress, levels: [Int]) -> String {
        levels.map { level -> String in
            let before = recipe.entries["before-\(level)"]?["bits_per_token"] as? Double ?? .nan
            let after = recipe.entries["after-\(level)"]?["bits_per_token"] as? Double ?? .nan
            return String(format: "level %d %.3f → %.3f bits", level, before, after)
        }.joined(separator: ", ")
    }
}
