import ArgumentParser
import Foundation
import JukeboxCore

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a model folder or a model set: kind, level, parameters, bytes, labels.")

    @Argument(help: "A model folder (config.json + weights.safetensors) or a model set folder.")
    var folder: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let summaries = try ModelSummary.describe(folder)
        if json {
            let data = try JSONSerialization.data(withJSONObject: summaries.map(\.dictionary),
                                                  options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for s in summaries { print(s.text) }
        }
    }
}
