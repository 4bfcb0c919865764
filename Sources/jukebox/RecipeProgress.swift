import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// WORK/recipe.json: which stages of the recipe are done, with their steps and times. A stage is written
/// here only once its command returned normally (its steps run, or its time used up), so an interrupted
/// stage is resumed by the next run and a finished one is never trained again.
struct RecipeProgress {
    let path: String
    private(set) var entries: [String: [String: Any]] = [:]

    init(path: String) { self.path = path }

    mutating func load() throws {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let stages = object["stages"] as? [String: [String: Any]] else {
            throw JukeboxError(path, "is not a recipe progress file (delete it to start the recipe again)")
        }
        entries = stages
    }

    func isDone(_ stage: String) -> Bool { entries[stage] != nil }
    var doneNames: Set<String> { Set(entries.keys) }

    mutating func finish(_ stage: String, _ facts: [String: Any]) throws {
        entries[stage] = facts
        let data = try JSONSerialization.data(withJSONObject: ["stages": entries], options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: path)
    }

    /// The optimizer step a checkpoint folder is at (0 where there is none yet).
    static func step(_ folder: String) -> Int {
        guard let data = FileManager.default.contents(atPath: folder + "/training.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return 0 }
        return object["step"] as? Int ?? 0
    }
}

/// WORK/codes-train and WORK/codes-test: a corpus's splits encoded by a VQ-VAE, each written beside its final
/// name and renamed when whole, so a split that exists is complete (a rerun encodes only what is missing).
/// Labels are the corpus's own lists, or `vocabulary` (a set's lists grown by the corpus, for fine-tuning).
enum RecipeCodes {
    static func encode(corpus: String, vqvae: VQVAE, work: String, vocabulary: LabelVocabulary? = nil, genreSlots: Int = 1) throws {
        let songs = try CorpusIndex.read(corpus)
        for split in ["train", "test"] {
            let final = work + "/codes-\(split)", partial = final + ".partial"
            if FileManager.default.fileExists(atPath: final) { continue }
            try? FileManager.default.removeItem(atPath: partial)
            let count = songs.filter { $0.split == split }.count
            let bar = Progress.Bar("encoding \(count) \(split) songs", total: count)
            _ = try CorpusEncoder.encode(corpus: corpus, vqvae: vqvae, split: split, to: partial, vocabulary: vocabulary,
                                         genreSlots: genreSlots) { done, _ in bar.update(done, unit: "songs") }
            try FileManager.default.moveItem(atPath: partial, toPath: final)
        }
    }
}

/// Shares a time budget among the training stages: each stage, when it starts, gets the time left (less
/// a reserve for encoding the codes and scoring the priors) in proportion to its share among the stages
/// still to run, so a stage that finishes early leaves its time to the next.
struct RecipeBudget {
    let deadline: Date?
    let total: Double
    let stages: [DefaultModelPreset.Stage]

    init(minutes: Double?, stages: [DefaultModelPreset.Stage]) {
        deadline = minutes.map { Date().addingTimeInterval($0 * 60) }
        total = minutes ?? 0
        self.stages = stages
    }

    func minutes(for stage: String, done: Set<String>, encoded: Bool) -> Double? {
        guard let deadline else { return nil }
        // Encoding an hour of audio and scoring the priors took about 3 minutes of a 40-minute budget.
        let reserve = total * (encoded ? 0.03 : 0.08)
        let left = deadline.timeIntervalSinceNow / 60 - reserve
        let pending = stages.filter { !done.contains($0.name) }
        let shares = pending.reduce(0) { $0 + $1.budgetShare }
        guard let mine = pending.first(where: { $0.name == stage })?.budgetShare, shares > 0 else { return nil }
        // At least a few seconds, so even an overrun budget saves a checkpoint of every stage.
        return max(left * mine / shares, 0.05)
    }
}
