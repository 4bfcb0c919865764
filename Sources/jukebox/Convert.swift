import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a PyTorch checkpoint (.pth.tar, legacy or zip) into a model folder, without Python.",
        discussion: """
            The pickle inside is read by a restricted unpickler that rebuilds tensors, storages, dicts and \
            plain values only and refuses every other global. Hyperparameters come from the checkpoint, or \
            from --preset (\(HyperparameterPresets.names.joined(separator: ", "))). Priors with labels get \
            their artist and genre lists copied from --labels (a folder with v2_*_ids.txt and v3_*_ids.txt, \
            as in the reference's jukebox/data/ids), or from $JUKEBOX_LABELS.
            """)

    @Argument(help: "Checkpoint file (.pth.tar).") var input: String
    @Option(name: .shortAndLong, help: "Model folder to write.") var output: String
    @Option(help: "Use a named preset's hyperparameters instead of the checkpoint's.") var preset: String?
    @Option(help: "Folder with the reference's label id lists.") var labels: String?
    @Flag(help: "Keep fp16/bf16 weights as they are stored (half the disk; widened on load).") var keepHalf = false

    func run() throws {
        if let preset, !HyperparameterPresets.names.contains(preset) {
            throw JukeboxError("--preset", "unknown preset \(preset) (known: \(HyperparameterPresets.names.joined(separator: ", ")))")
        }
        let labelsDirectory = labels ?? ProcessInfo.processInfo.environment["JUKEBOX_LABELS"]
        let s = try Progress.task("converting \(input)") {
            try CheckpointConverter.convert(input: input, output: output, preset: preset,
                                            labelsDirectory: labelsDirectory, keepHalf: keepHalf)
        }
        for w in s.warnings { Log.note("warning: \(w)") }
        let dtypes = s.sourceDTypes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        Log.note("wrote \(s.output): \(s.kind.rawValue), \(s.tensorCount) tensors, \(s.parameterCount) parameters"
                 + " (from \(dtypes); \(s.format) format; hps from \(s.hpsSource)"
                 + (s.labels.map { "; \($0) labels" } ?? "") + (s.step.map { "; step \($0)" } ?? "") + ")")
    }
}
