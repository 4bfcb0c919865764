import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine's speed on random weights of a given shape.",
        subcommands: [BenchPrior.self, BenchMatvec.self, BenchVQVAE.self, BenchSample.self, BenchVQVAETrain.self, BenchEncode.self])
}

struct BenchMatvec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matvec",
        abstract: "Time one weight format's matrix-vector product alone at batch 1…16, beside the memory bandwidth.",
        discussion: """
            About 1 GB of random matrices of one shape are multiplied in turn, so every product streams its \
            weights from memory as a sampling step does. Each batch size prints microseconds a product and the \
            weight bytes streamed a second; --file-layout keeps q8, q4, f16 and bf16 as a file stores them (no tiles).
            """)

    @Option(help: "Weight format: \(WeightFormat.names).") var format: String = "q4"
    @Option(name: .customLong("in"), help: "Inputs of the matrix.") var nIn: Int = 1920
    @Option(name: .customLong("out"), help: "Outputs of the matrix.") var nOut: Int = 7680
    @Option(help: "Batch sizes, comma-separated.") var batches: String = "1,2,3,4,8,16"
    @Option(help: "Passes through the matrices per batch size.") var repeats: Int = 10
    @Option(help: "Megabytes of matrices (at least 8 matrices): far more than the caches hold.") var megabytes: Int = 1024
    @Flag(name: .customLong("file-layout"), help: "q8, q4, f16 and bf16 in the file's row-major layout, not tiled.") var fileLayout = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let f = WeightFormat(rawValue: format) else { throw JukeboxError("--format", "unknown format \(format) (\(WeightFormat.names))") }
        let list = batches.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ $0 != nil }) else { throw JukeboxError("--batches", "\(batches) is not a list of numbers") }
        let r = try MatvecBenchmark.run(format: f, nIn: nIn, nOut: nOut, batches: list.map { $0! }, repeats: repeats, tiles: !fileLayout,
                                       megabytes: megabytes)
        if json {
            try printJSON(["format": f.rawValue, "in": nIn, "out": nOut, "tiled": r.tiled, "isa": WeightKernels.isa,
                           "bandwidth_bytes_per_second": r.bandwidthBytesPerSecond,
                           "batches": r.rows.map { ["batch": $0.batch, "microseconds_per_product": $0.microsecondsPerProduct,
                                                    "bytes_per_second": $0.bytesPerSecond,
                                                    "bandwidth_bytes_per_second": $0.bandwidthBytesPerSecond] }])
            return
        }
        print(String(format: "%@ %d×%d%@ (%@), memory bandwidth %.1f GB/s (the mean of its readings before each batch size)",
                     f.rawValue, nIn, nOut, r.tiled ? " tiled" : "", WeightKernels.isa, r.bandwidthBytesPerSecond / 1e9))
        let first = r.rows.first?.microsecondsPerProduct ?? 1
        for row in r.rows {
            print(String(format: "batch %2d: %8.1f µs a product (%.2f× batch %d), %.1f GB/s of weights (memory read %.1f GB/s just before)",
                         row.batch, row.microsecondsPerProduct, row.microsecondsPerProduct / first, r.rows.first?.batch ?? 1,
                         row.bytesPerSecond / 1e9, row.bandwidthBytesPerSecond / 1e9))
        }
    }
}

struct BenchVQVAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqvae",
        abstract: "Decode random codes with the published 5b VQ-VAE's shapes; report the real-time factor.")

    @Option(help: "Seconds of audio to decode.") var seconds: Double = 10
    @Option(help: "Level whose codes are decoded (0 = finest).") var level: Int = 0
    @Option(help: "Items decoded together.") var batch: Int = 1
    @Option(help: "Timed repeats; the best is reported.") var repeats: Int = 3
    @Flag(help: "Print {\"realtime_factor\": x} as JSON.") var json = false

    func run() throws {
        guard seconds > 0, batch >= 1, repeats >= 1 else {
            throw JukeboxError("bench vqvae", "--seconds, --batch and --repeats must be positive")
        }
        let r = try VQVAEBenchmark.run(seconds: seconds, level: level, batch: batch, repeats: repeats)
        if json {
            try printJSON(["realtime_factor": r.realtimeFactor, "level": r.level, "batch": r.batch,
                           "audio_seconds": r.audioSeconds, "wall_seconds": r.wallSeconds, "gflops": r.gflops])
        } else {
            print(r.description)
        }
    }
}

struct BenchPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Sample tokens from a random prior with the key/value cache; report tokens/s.",
        discussion: """
            With --preset, the prior has exactly a published architecture (upsampler, 1b_lyrics, 5b, 5b_lyrics) \
            with its matrices in --format, and the memory bandwidth measured in the same run is printed beside \
            the result as a roofline. Without it, a labelled top prior of the shape given by --width and the rest.
            """)

    @Option(help: "A published architecture: \(PublishedPriorBenchmark.Preset.names).") var preset: String?
    @Option(help: "Weight format with --preset: \(WeightFormat.names).") var format: String = "f32"
    @Option(help: "With --preset: positions put in the key/value cache before timing (a long window's speed).")
    var context: Int = 0
    @Option var width: Int = 512
    @Option var depth: Int = 8
    @Option var heads: Int = 2
    @Option(name: .customLong("n-ctx")) var nCtx: Int = 2048
    @Option(name: .customLong("attn-order")) var attnOrder: Int = 2
    @Option(help: "blocks (0 for none).") var blocks: Int = 16
    @Option(help: "Tokens to sample per item (at most n_ctx; with --preset default 64).") var tokens: Int?
    @Option(help: "Items sampled together; with --preset a comma-separated list (1,3) is measured in turns, one result (a JSON line) each.")
    var batch: String = "1"
    @Flag(help: "Print the result as JSON.") var json = false

    /// The batch sizes asked for.
    private func batchSizes() throws -> [Int] {
        let list = batch.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw JukeboxError("--batch", "\(batch) is not a batch size or a comma-separated list of them")
        }
        return list.map { $0! }
    }

    func run() throws {
        if let preset { return try runPreset(preset) }
        let sizes = try batchSizes()
        guard sizes.count == 1, let batch = sizes.first else {
            throw JukeboxError("--batch", "several batch sizes are measured only with --preset")
        }
        let tokens = self.tokens ?? 256
        guard width > 0, depth > 0, heads > 0, nCtx > 0, tokens > 0, batch > 0 else {
            throw JukeboxError("bench prior", "sizes must be positive")
        }
        let r = try PriorBenchmark.measure(width: width, depth: depth, heads: heads, nCtx: nCtx, attnOrder: attnOrder,
                                           blocks: blocks == 0 ? nil : blocks, tokens: tokens, batch: batch)
        if json {
            try printJSON(["tokens_per_second": r.tokensPerSecond, "steps_per_second": r.stepsPerSecond,
                           "batch": r.batch, "tokens": r.steps, "seconds": r.seconds, "cache_bytes": r.cacheBytes])
        } else {
            print(r.description)
        }
    }

    private func runPreset(_ name: String) throws {
        guard let preset = PublishedPriorBenchmark.Preset(rawValue: name) else {
            throw JukeboxError("--preset", "unknown preset \(name) (known: \(PublishedPriorBenchmark.Preset.names))")
        }
        guard let format = WeightFormat(rawValue: format) else {
            throw JukeboxError("--format", "unknown format \(self.format) (known: \(WeightFormat.names))")
        }
        let results = try PublishedPriorBenchmark.run(preset: preset, format: format, batches: try batchSizes(), context: context,
                                                      tokens: tokens ?? 64, progress: { if Progress.isTerminal { Log.note($0 + "…") } })
        for r in results {
            if json { try printJSON(r.json) } else { print(r.description) }
        }
        if results.count > 1, !json, let first = results.first {
            for r in results.dropFirst() {
                print(String(format: "batch %d gives %.2f times the tokens of batch %d", r.batch,
                             r.tokensPerSecond / first.tokensPerSecond, first.batch))
            }
        }
    }
}

struct BenchSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Sample every level of a random model set and decode it, at batch 1 and 4; tokens/s per level and real-time factor.")

    @Option(help: "tiny or small (the random model set's size).") var preset: String = "small"
    @Option(help: "Seconds of audio to generate.") var seconds: Double = 5
    @Option(help: "Batch sizes to measure.") var batch: [Int] = [1, 4]
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let p = RandomModelSet.Preset(rawValue: preset) else { throw JukeboxError("--preset", "unknown preset \(preset) (tiny or small)") }
        guard seconds > 0, batch.allSatisfy({ $0 >= 1 }) else { throw JukeboxError("bench sample", "--seconds and --batch must be positive") }
        let folder = NSTemporaryDirectory() + "jukebox-bench-set-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try RandomModelSet.write(preset: p, seed: 1, to: folder)
        let set = try ModelSet.load(folder)
        var rows: [[String: Any]] = []
        for b in batch {
            let r = try SampleBenchmark.run(set: set, seconds: seconds, batch: b)
            let perLevel = Dictionary(uniqueKeysWithValues: r.tokensPerSecond.map { ("level\($0.key)", $0.value) })
            rows.append(["batch": b, "tokens_per_second": perLevel, "realtime_factor": r.realtimeFactor,
                         "sampling_seconds": r.samplingSeconds, "decode_seconds": r.decodeSeconds, "audio_seconds": r.audioSeconds])
            if !json {
                let levels = r.tokensPerSecond.sorted { $0.key > $1.key }.map { String(format: "level %d %.0f tok/s", $0.key, $0.value) }
                print(String(format: "batch %d: %@; %.2f s of audio per sample in %.2f s (%.3fx real time)", b,
                             levels.joined(separator: ", "), r.audioSeconds, r.samplingSeconds + r.decodeSeconds, r.realtimeFactor))
            }
        }
        if json { try printJSON(["preset": preset, "seconds": seconds, "runs": rows]) }
    }
}

func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

struct BenchEncode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a long synthetic recording (stereo, 48 kHz) window by window; report time and peak memory.")

    @Option(help: "Minutes of audio.") var minutes: Double = 20
    @Option(help: "A VQ-VAE model folder (default: the published 5b VQ-VAE's shapes with random weights).")
    var vqvae: String?
    @Option(help: "Where the recording is written while it is encoded (removed after).") var folder: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard minutes > 0, minutes <= 600 else { throw JukeboxError("--minutes", "\(minutes) is not within 0–600") }
        let model = try vqvae.map { try VQVAE(folder: $0) } ?? EncodeBenchmark.published5b()
        let dir = folder ?? NSTemporaryDirectory()
        let bar = Progress.Bar("encoding", total: Int((minutes * 60).rounded(.up)))
        let r = try EncodeBenchmark.run(model: model, minutes: minutes, folder: dir) { bar.update(Int($0), unit: "s") }
        if json { try printJSON(r.json) } else { print(r.description) }
    }
}
