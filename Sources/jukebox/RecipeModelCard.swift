import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// SET/model-card.json: what the recipe made and how good it is on the corpus's held-out songs.
enum RecipeModelCard {
    static func make(set: ModelSet, preset: DefaultModelPreset, corpus: String, work: String,
                     recipe: [String: [String: Any]]) throws -> [String: Any] {
        let songs = try CorpusIndex.read(corpus)
        var card: [String: Any] = [
            "recipe": "jukebox model train-default --scale \(preset.scale.rawValue)",
            "corpus": ["build": buildCommand(corpus), "songs": songs.count,
                       "held_out": songs.filter { $0.split == "test" }.count,
                       "minutes": songs.reduce(0) { $0 + $1.seconds } / 60,
                       "genres": Set(songs.map(\.genre)).sorted(), "artists": Set(songs.map(\.artist)).count],
            // The genre judge is recorded in the recipe's progress too, but belongs to the finished set.
            "stages": recipe.filter { $0.key != "genre_judge" },
        ]
        // The VQ-VAE's own held-out evaluation (train vqvae writes it with the last checkpoint).
        var vqvae: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: work + "/\(preset.finalFolder(of: "vqvae"))/evaluation.json"),
           let evaluation = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            vqvae = evaluation
        }
        // Whole held-out songs, as `jukebox eval vqvae` measures them.
        let reconstructed = try Progress.task("reconstructing the held-out songs") { try VQVAEHeldOut.evaluate(vqvae: set.vqvae, corpus: corpus) }
        vqvae["held_out_songs"] = reconstructed.map(\.json)
        card["vqvae"] = vqvae
        var priors: [[String: Any]] = []
        for level in set.priors.keys.sorted(by: >) {
            guard let prior = set.priors[level] else { continue }
            let scored = try Progress.task("scoring level \(level) on held-out songs") {
                try PriorHeldOut.evaluate(prior: prior, train: work + "/codes-train", test: work + "/codes-test",
                                          windows: preset.evaluationWindows)
            }
            priors.append(scored.json)
        }
        card["priors"] = priors
        if let aligner = set.alignmentPrior { card["alignment"] = try alignmentFigures(aligner, codes: work + "/codes-test") }
        var bytes: [String: Int] = [:]
        for member in ModelSet.memberNames + (set.alignmentPrior == nil ? [] : [AlignmentPrior.folderName]) {
            let path = set.folder + "/\(member)/weights.safetensors"
            bytes[member] = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        }
        card["weights_bytes"] = bytes
        card["weights_bytes_total"] = bytes.values.reduce(0, +)
        return card
    }

    /// The alignment prior's word-onset errors on the held-out sung songs, as `eval alignment` gives them.
    static func alignmentFigures(_ prior: PriorModel, codes: String) throws -> [String: Any] {
        let layer = try prior.hps.int("alignment_layer"), head = try prior.hps.int("alignment_head")
        var figures: [String: Any] = ["layer": layer, "head": head,
                                      "command": "jukebox eval alignment --prior SET/\(AlignmentPrior.folderName) --data CODES-TEST --songs 64"]
        if prior.hps.has(LyricAlignment.spreadKey) { figures["spread"] = try prior.hps.double(LyricAlignment.spreadKey) }
        let songs: [AlignmentEvaluation.Song]
        do { songs = try AlignmentEvaluation.songs(folder: codes, prior: prior, limit: 64) } catch let e as JukeboxError {
            figures["note"] = e.message  // no held-out song is sung: nothing to measure
            return figures
        }
        let result = try Progress.task("timing the held-out songs' words") { try AlignmentEvaluation.measure(prior: prior, songs: songs, layers: [layer]) }
        let held = result.held.first { $0.head == head }
        figures["songs"] = result.songs
        figures["alignment"] = result.candidates.first { $0.head == head }?.errors.json
        figures["held_near_even"] = held.map { ["spread": $0.spread, "errors": $0.errors.json] }
        figures["even_spread"] = result.evenSpread.json
        return figures
    }

    /// How the corpus was made, from its dataset.json (where the corpus lies is no fact about the set).
    static func buildCommand(_ corpus: String) -> String {
        guard let data = FileManager.default.contents(atPath: corpus + "/dataset.json"),
              let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let seed = summary["seed"] as? Int, let minutes = summary["minutes_requested"] as? Double else {
            return "unknown (no readable dataset.json)"
        }
        let artists = (summary["artists"] as? [Any])?.count ?? 0, genres = (summary["genres"] as? [Any])?.count ?? 0
        let perGenre = genres > 0 ? " --artists-per-genre \(artists / genres)" : ""
        return "jukebox dataset build --seed \(seed) --minutes \(String(format: "%g", minutes))" + perGenre
    }

    /// One line for the log: bits per token per level against the unigram.
    static func summary(_ card: [String: Any]) -> String {
        let priors = (card["priors"] as? [[String: Any]] ?? []).map { p in
            String(format: "level %d %.3f bits/token (unigram %.3f)", p["level"] as? Int ?? -1,
                   p["bits_per_token"] as? Double ?? .nan, p["unigram_bits_per_token"] as? Double ?? .nan)
        }
        let mb = Double(card["weights_bytes_total"] as? Int ?? 0) / 1e6
        return priors.joined(separator: ", ") + String(format: "; %.1f MB of weights", mb)
    }
}
