import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxEvaluation

/// Options both alignment commands take: the prior and the songs with known word times.
struct AlignmentSongOptions: ParsableArguments {
    @Option(help: "Top prior model folder (or a model set's prior_level_N).") var prior: String
    @Option(help: "Code folder from `jukebox dataset encode` of a corpus that records word times.") var data: String
    @Option(help: "Songs to use (at most).") var songs: Int = 16
    @Option(name: .customLong("hop-fraction"), help: "Windows this fraction of n_ctx apart.") var hopFraction: Double = 0.5

    func load() throws -> (PriorModel, [AlignmentEvaluation.Song]) {
        guard songs >= 1 else { throw JukeboxError("--songs", "must be at least 1 (got \(songs))") }
        guard hopFraction > 0, hopFraction <= 1 else { throw JukeboxError("--hop-fraction", "\(hopFraction) must lie in (0, 1]") }
        let model = try PriorModel.load(folder: prior)
        guard model.prior.config.isTopLevel else {
            throw JukeboxError(prior, "is the prior of level \(model.level); alignment reads the top prior")
        }
        return (model, try AlignmentEvaluation.songs(folder: data, prior: model, limit: songs))
    }

    func measure(_ model: PriorModel, _ list: [AlignmentEvaluation.Song], layers: [Int]?) throws -> AlignmentEvaluation.Result {
        let bar = Progress.Bar("aligning", total: list.count)
        return try AlignmentEvaluation.measure(prior: model, songs: list, layers: layers, hopFraction: hopFraction) { done, _ in
            bar.update(done, unit: "songs")
        }
    }
}

struct EvaluateAlignment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alignment",
        abstract: "How far the top prior's alignment puts each word from when it is sung, beside spreading the words evenly.",
        discussion: """
            Each song's codes are read by the prior window by window; the attention of the alignment layer and \
            head (the prior's config, or --layer and --head) on the lyric characters, read as a path that only \
            goes forward, gives each word's onset. Errors are pooled over the songs' words: median and 90th \
            percentile, in seconds and in beats of the song's tempo. The baseline is what the lyric windows \
            assume: the characters spread evenly over the song.
            """)

    @OptionGroup var options: AlignmentSongOptions
    @Option(help: "Layer to read (default: the prior's alignment_layer).") var layer: Int?
    @Option(help: "Head to read (default: the prior's alignment_head).") var head: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let (model, list) = try options.load()
        guard let layer = try layer ?? model.hps.optionalInt("alignment_layer"),
              let head = try head ?? model.hps.optionalInt("alignment_head") else {
            throw JukeboxError(options.prior, "has no alignment_layer and alignment_head: choose them with `jukebox train alignment` or give --layer and --head")
        }
        let heads = model.prior.prior.transformer.config.heads
        guard head >= 0 && head < heads else { throw JukeboxError("--head", "is \(head); the prior has heads 0..<\(heads)") }
        let result = try options.measure(model, list, layers: [layer])
        let chosen = result.candidates.first { $0.head == head }!.errors
        let held = result.held.first { $0.head == head }!
        if json {
            try printJSON(["songs": result.songs, "layer": layer, "head": head, "alignment": chosen.json,
                           "held_near_even": ["spread": held.spread, "errors": held.errors.json], "even_spread": result.evenSpread.json])
            return
        }
        print("\(result.songs) songs, \(chosen.words) words; word-onset error")
        print("                          median        90th percentile")
        func row(_ name: String, _ e: AlignmentEvaluation.Errors) {
            print(name.padding(toLength: 22, withPad: " ", startingAt: 0)
                  + String(format: "%6.2f s %5.2f beats %6.2f s %5.2f beats", e.medianSeconds, e.medianBeats, e.p90Seconds, e.p90Beats))
        }
        row("layer \(layer), head \(head)", chosen)
        row(String(format: "held near even %.2f", held.spread), held.errors)
        row("even spread", result.evenSpread)
    }
}

struct TrainAlignment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alignment",
        abstract: "Choose the layer and head of a top prior whose attention best follows the sung words; write them into its config.",
        discussion: """
            Every head of every layer that attends to the lyrics is measured on the songs (as `jukebox eval \
            alignment` does) and the one with the smallest median word-onset error is written to the prior's \
            config.json as alignment_layer and alignment_head (--dry-run only prints the table). The published \
            priors come with the reference's choice and need none of this.
            """)

    @OptionGroup var options: AlignmentSongOptions
    @Flag(name: .customLong("dry-run"), help: "Print the measurements; change nothing.") var dryRun = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let (model, list) = try options.load()
        let result = try options.measure(model, list, layers: nil)
        let plain = result.candidates[0], held = result.held[0]
        // A head read alone, or held near the even spread: whichever puts the words nearer their onsets.
        let holds = held.errors.medianSeconds < plain.errors.medianSeconds
        let best = holds ? (layer: held.layer, head: held.head, errors: held.errors) : plain
        if json {
            var chosen: [String: Any] = ["layer": best.layer, "head": best.head]
            if holds { chosen["spread"] = held.spread }
            try printJSON(["songs": result.songs, "even_spread": result.evenSpread.json, "chosen": chosen,
                           "candidates": result.candidates.map { ["layer": $0.layer, "head": $0.head, "errors": $0.errors.json] },
                           "held_near_even": result.held.prefix(10).map { ["layer": $0.layer, "head": $0.head, "spread": $0.spread, "errors": $0.errors.json] }])
        } else {
            print("layer head  median error (s, beats)  90th percentile (s, beats)")
            for c in result.candidates {
                print(String(format: "%5d %4d  %8.2f %8.2f          %8.2f %8.2f", c.layer, c.head, c.errors.medianSeconds,
                             c.errors.medianBeats, c.errors.p90Seconds, c.errors.p90Beats))
            }
            for c in result.held.prefix(3) {
                print(String(format: "%5d %4d  %8.2f %8.2f          %8.2f %8.2f   held near the even spread (%.2f)", c.layer, c.head,
                             c.errors.medianSeconds, c.errors.medianBeats, c.errors.p90Seconds, c.errors.p90Beats, c.spread))
            }
            print(String(format: "even spread %8.2f %8.2f          %8.2f %8.2f", result.evenSpread.medianSeconds,
                         result.evenSpread.medianBeats, result.evenSpread.p90Seconds, result.evenSpread.p90Beats))
        }
        guard !dryRun else { return }
        let config = try ModelConfig.load(folder: options.prior)
        try ModelConfig(kind: config.kind, hps: config.hps.with(["alignment_layer": best.layer, "alignment_head": best.head,
                                                                 LyricAlignment.spreadKey: holds ? held.spread : NSNull()]),
                        weightFormat: config.weightFormat).write(folder: options.prior)
        Log.note("wrote alignment_layer \(best.layer), alignment_head \(best.head)"
                 + (holds ? String(format: ", \(LyricAlignment.spreadKey) %.2f", held.spread) : "") + " to \(options.prior)/config.json")
    }
}
