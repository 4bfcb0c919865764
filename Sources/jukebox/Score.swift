import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bits per code token under a prior: −log2 p(code | everything before).",
        discussion: """
            CODES holds z (N×T codes of the prior's level, T ≤ n_ctx), z_cond0 (the level above, for \
            upsamplers) and y (N×L label vector in the reference's layout, used as given).
            """)

    @Option(help: "Prior model folder.") var prior: String
    @Argument(help: "Codes file (.safetensors) with z, z_cond0 and y.") var codes: String
    @Flag(help: "Print JSON (the default output is JSON too; the flag is accepted for scripts).") var json = false

    func run() throws {
        let model = try PriorModel.load(folder: prior)
        let file = try SafetensorsFile(path: codes)
        let z = try CodesFile.read(file, "z")
        let zCond = file.entries["z_cond0"] == nil ? nil : try CodesFile.read(file, "z_cond0")
        let y = file.entries["y"] == nil ? nil : try CodesFile.read(file, "y")
        let bits: [[Double]]
        do {
            bits = try model.bitsPerToken(z: z, zCond: zCond, y: y)
        } catch let e as JukeboxError {
            throw e.subject == nil || e.subject!.hasPrefix("/") || e.subject == codes ? e.about(codes) : e.within(codes)
        }
        let all = bits.flatMap { $0 }
        let mean = all.isEmpty ? 0 : all.reduce(0, +) / Double(all.count)
        let out: [String: Any] = ["bits_per_token": bits, "mean_bits_per_token": mean]
        let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
