import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct TrainBarGuide: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bar-guide",
        abstract: "Count where each artist's top-level codes fall in the bar: a model set's bar_guide.safetensors.",
        discussion: """
            DATA holds code files with labels and bar_clock (as `jukebox dataset encode` writes them). The \
            counts are per artist id of PRIOR's list and per place in the bar; `sample --bar-guidance` adds \
            them, scaled, to the top prior's logits. Songs without a bar clock are left out. The file also \
            holds each genre's tilt (how much likelier each code is in the genre's songs than in all of \
            them), which `sample --genre-guidance` adds.
            """)

    @Option(help: "Folder of code files.") var data: String
    @Option(help: "The top prior's model folder (its artist list and code count size the table).") var prior: String
    @Option(help: "Places per bar.") var bins: Int = 96
    @Option(name: .shortAndLong, help: "File to write (a model set's bar_guide.safetensors).") var output: String

    func run() throws {
        let model = try ModelConfig.load(folder: prior)
        guard model.kind == .prior else { throw JukeboxError(prior, "kind is \(model.kind.rawValue), expected prior") }
        let data = try PriorTrainingData(folder: self.data, hps: model.hps)
        let guide = try BarGuide.count(data, bins: bins)
        try guide.write(to: output)
        Log.note("wrote \(output): \(guide.artists) artists × \(guide.bins) places × \(guide.codes) codes, and \(guide.genres) genres' tilt, from \(data.count) songs")
    }
}
