import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

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
        // A model set is also checked as a whole (levels, codebook, hops, label lists agree).
        if !FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("config.json")) {
            let layout = try ModelSet.inspect(folder)
            let levels = layout.availableLevels
            let line = "\(folder): model set, priors for levels \(levels.map(String.init).joined(separator: ", "))"
                + (levels.count == layout.priors.count && levels.last == 0 ? " (complete)" : " (top level only or partial)")
            if json { Log.note(line) } else { print(line) }
            if let sampling = try SamplingDefaults.load(setFolder: folder) {
                let song = sampling.songSeconds.map { String(format: ", song length %.0f s", $0) } ?? ""
                let own = sampling.levelTemperatures.sorted { $0.key > $1.key }.map { String(format: ", %.2f at level %d", $0.value, $0.key) }
                let text = String(format: "  sampling defaults: temperature %.2f top, %.2f upsamplers", sampling.top, sampling.upsamplers)
                    + own.joined() + song
                if json { Log.note(text) } else { print(text) }
            }
            if let aligner = layout.alignmentPrior {
                let spread = aligner.hps.has(LyricAlignment.spreadKey) ? String(format: ", held near the even spread (%g)", try aligner.hps.double(LyricAlignment.spreadKey)) : ""
                let text = "  lyrics timed by \(AlignmentPrior.folderName): layer \(try aligner.hps.int("alignment_layer")) head \(try aligner.hps.int("alignment_head"))" + spread
                if json { Log.note(text) } else { print(text) }
            }
            for text in try guideLines(sampling: try SamplingDefaults.load(setFolder: folder)) {
                if json { Log.note(text) } else { print(text) }
            }
        }
    }
}

extension Info {
    /// The set's bar guide (what it holds and how strongly the set samples with it) and its instrumental artists.
    func guideLines(sampling: SamplingDefaults?) throws -> [String] {
        var lines: [String] = []
        let path = (folder as NSString).appendingPathComponent(BarGuide.fileName)
        if FileManager.default.fileExists(atPath: path) {
            let guide = try BarGuide.load(path)
            var text = "  bar guide: \(guide.artists) artists × \(guide.bins) places a bar × \(guide.codes) codes"
                + (guide.genres > 0 ? ", the tilt of \(guide.genres) genres" : "")
            if let sampling {
                text += String(format: "; sampled with bar guidance %g", sampling.barGuidance)
                    + sampling.genreBarGuidance.sorted { $0.key < $1.key }.map { String(format: " (%@ %g)", $0.key, $0.value) }.joined()
                    + (guide.genres > 0 ? String(format: ", genre guidance %g", sampling.genreGuidance) : "")
                    + (sampling.primeGuidance > 0 ? String(format: ", prime guidance %g (continuations)", sampling.primeGuidance) : "")
            }
            lines.append(text)
        }
        if let sampling, !sampling.instrumentalArtists.isEmpty {
            lines.append("  instrumental artists (sing in none of the set's songs): \(sampling.instrumentalArtists.count)")
        }
        return lines
    }
}
