import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model set (or one prior folder) with its transformer matrices in a compact weight format.",
        discussion: """
            Formats: f16 and bf16 (16-bit floats), q8 (8.5 bits a weight) and q4 (4.5 bits a weight: int values \
            with one scale per 32). The VQ-VAE, embeddings, norms and the output layer stay as they are. The new \
            set samples at once (sample, the studio, score, eval) and `jukebox info` shows its format. The source \
            is never changed and OUTPUT must not exist.
            """)

    @Argument(help: "A model set folder, or one prior's model folder.") var source: String
    @Option(name: .customLong("to"), help: "Weight format: \(WeightFormat.names).") var format: String
    @Option(name: .shortAndLong, help: "The folder to write (must not exist).") var output: String

    func run() throws {
        guard let f = WeightFormat(rawValue: format) else {
            throw JukeboxError("--to", "unknown weight format \(format) (known: \(WeightFormat.names))")
        }
        let summaries = try WeightQuantizer.quantize(source, to: f, output: output,
                                                     progress: { if Progress.isTerminal { Log.note($0) } })
        for s in summaries {
            print(String(format: "%@: %d matrices as %@; %.1f MB → %.1f MB", s.folder, s.matrices, f.rawValue,
                         Double(s.bytesBefore) / 1e6, Double(s.bytesAfter) / 1e6))
        }
    }
}
