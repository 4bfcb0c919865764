import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode audio into VQ-VAE codes at every level (z0, z1, z2).")

    @Option(help: "VQ-VAE model folder.") var vqvae: String
    @Argument(help: "Audio file: any format, rate or channel count libsndfile reads.") var input: String
    @Option(name: .shortAndLong, help: "Output codes file (.safetensors).") var output: String

    func run() throws {
        let model = try VQVAE(folder: vqvae)
        // Read, resampled and encoded a window at a time: memory stays that of one window however long the file.
        let reader = try AudioReader(input, sampleRate: model.sampleRate)
        let rate = Double(model.sampleRate)
        let bar = Progress.Bar("encoding", total: max(Int(reader.declaredSeconds.rounded(.up)), 1))
        let (kept, codes) = try model.encode(reader: reader) { bar.update(Int(Double($0) / rate), unit: "s") }
        bar.update(bar.total, unit: "s")
        try CodesFile.write(codes.enumerated().map { ("z\($0.offset)", $0.element) }, to: output,
                            metadata: ["source": input, "sample_rate": "\(model.sampleRate)"])
        // Like the reference, the end is cut to whole top-level codes.
        Log.note("wrote \(output): " + String(format: "%.2f s, ", Double(kept) / rate)
                 + codes.enumerated().map { "z\($0.offset) \($0.element.n)×\($0.element.t)" }.joined(separator: ", "))
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode the codes of one level to audio.")

    @Option(help: "VQ-VAE model folder.") var vqvae: String
    @Argument(help: "Codes file (.safetensors) holding zL.") var codes: String
    @Option(help: "Which level's codes to decode (0 = finest).") var level: Int
    @Flag(help: "Write 32-bit float samples instead of 16-bit PCM.") var float = false
    @Option(name: .shortAndLong, help: "Output WAV file; with several rows, -1, -2… are added before .wav.")
    var output: String

    func run() throws {
        let model = try VQVAE(folder: vqvae)
        guard (0..<model.levels).contains(level) else {
            throw JukeboxError("--level", "\(level) is not a level of this VQ-VAE (0..<\(model.levels))")
        }
        let z = try CodesFile.read(codes, "z\(level)")
        let audio = try Progress.task("decoding level \(level)") { try model.decode(z, level: level) }
            .reshaped([z.n, z.t * model.hopLengths[level]])
        let t = audio.shape[1]
        for row in 0..<z.n {
            let path = z.n == 1 ? output : Self.numbered(output, row + 1)
            let samples = Array(UnsafeBufferPointer(start: audio.data + row * t, count: t))
            try AudioFile.writeWAV(path, samples: samples, sampleRate: model.sampleRate, format: float ? .float32 : .pcm16)
            Log.note("wrote \(path) (\(String(format: "%.2f", Double(t) / Double(model.sampleRate))) s)")
        }
    }

    static func numbered(_ path: String, _ i: Int) -> String {
        let ns = path as NSString
        let ext = ns.pathExtension
        return ns.deletingPathExtension + "-\(i)" + (ext.isEmpty ? "" : "." + ext)
    }
}
