import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// Entry point: errors become one line on stderr and a non-zero exit, never a stack trace.
struct Jukebox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jukebox",
        abstract: "Jukebox on the CPU: sample, encode, decode, score, convert, train, evaluate and benchmark models.",
        subcommands: [Sample.self, Export.self, Encode.self, Decode.self, Score.self, Convert.self, Quantize.self, Info.self, Bench.self, Model.self,
                      Dataset.self, Train.self, Evaluate.self])
}

BLAS.restartOnAVX512KernelsIfGeneric()
do {
    var command = try Jukebox.parseAsRoot()
    try command.run()
} catch let error as JukeboxError {
    FileHandle.standardError.write(Data("jukebox: \(error)\n".utf8))
    exit(1)
} catch {
    Jukebox.exit(withError: error)
}
