import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// `jukebox model ...`: model sets.
struct Model: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with model sets (vqvae + prior_level_2/1/0 folders).",
        subcommands: [ModelFetch.self, ModelVerify.self, ModelList.self, ModelRandom.self, ModelTrainDefault.self, ModelFineTune.self])
}

struct ModelRandom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random",
        abstract: "Write a model set with seeded random weights (the published layout, scaled down).",
        discussion: """
            The set has a 3-level VQ-VAE (hops 8/32/128 at 44.1 kHz), a top-level prior with lyrics and v3 \
            labels (1b_lyrics style), and two upsamplers with the conditioner over the level above, each with \
            the reference's full hyperparameters and small invented artist and genre lists. It makes noise, \
            not music: it is for trying the pipeline and the studio without the published checkpoints.
            """)

    @Option(help: "Size: \(RandomModelSet.Preset.allCases.map(\.rawValue).joined(separator: " or ")).")
    var preset: String = "tiny"
    @Option(help: "Seed of the random weights (the same seed writes the same weights).") var seed: UInt64 = 0
    @Option(name: .shortAndLong, help: "Model set folder to write (must not exist, or be empty).") var output: String

    func run() throws {
        guard let p = RandomModelSet.Preset(rawValue: preset) else {
            throw JukeboxError("--preset", "unknown preset \(preset) (known: \(RandomModelSet.Preset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try Progress.task("writing a \(p.rawValue) random model set") {
            try RandomModelSet.write(preset: p, seed: seed, to: output)
        }
        Log.note("wrote \(output): vqvae, \(ModelSet.memberNames.dropFirst().joined(separator: ", ")) (random \(p.rawValue), seed \(seed))")
    }
}
