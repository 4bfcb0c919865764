import Foundation

/// The reference's hierarchical VQ-VAE at inference: one encoder, one codebook and one decoder
/// per level. Level L turns audio into one code per hopLengths[L] samples; decoding level L uses
/// only level L's codes (the reference's decode(zs[L:], start_level=L) feeds just zs[L] through
/// decoders[L]). Immutable after loading; each call makes its own scratch, so calls may overlap.
///
/// Keys: `encoders.{L}`, `decoders.{L}`, `bottleneck.level_blocks.{L}.k`.
public final class VQVAE: @unchecked Sendable {
    public let hps: VQVAEHyperparameters
    package let encoders: [Encoder]
    package let decoders: [Decoder]
    package let codebooks: [BottleneckBlock]

    public var levels: Int { hps.levels }
    /// Audio samples per code at each level (8, 32, 128 for the published 5b VQ-VAE).
    public var hopLengths: [Int] { hps.hopLengths }
    public var sampleRate: Int { hps.sampleRate }
    /// Entries per codebook (l_bins).
    public var codebookSize: Int { hps.lBins }
    public var embWidth: Int { hps.embWidth }

    /// Builds the model, taking every parameter from `parameters` in the reference's state_dict order.
    public init<P: ParameterSource>(hps: VQVAEHyperparameters, parameters p: P) throws {
        self.hps = hps
        encoders = try (0..<hps.levels).map { try Encoder(p.scope("encoders.\($0)"), level: $0, hps: hps) }
        decoders = try (0..<hps.levels).map { try Decoder(p.scope("decoders.\($0)"), level: $0, hps: hps) }
        codebooks = try (0..<hps.levels).map {
            try BottleneckBlock(p.scope("bottleneck.level_blocks.\($0)"), bins: hps.lBins, width: hps.embWidth)
        }
    }

    /// Strict loading: every tensor must be present with its shape, and none may be left over.
    public convenience init(config: ModelConfig, weights: WeightStore) throws {
        guard config.kind == .vqvae else {
            throw JukeboxError(config.hps.source, "kind is \(config.kind.rawValue), expected vqvae")
        }
        try self.init(hps: VQVAEHyperparameters(config.hps), parameters: weights.scope(""))
        try weights.finish()
    }

    /// A model folder: config.json + weights.safetensors.
    public convenience init(folder: String) throws {
        try self.init(config: ModelConfig.load(folder: folder), weights: WeightStore(folder: folder))
    }

    /// Every state_dict key and shape the model reads, in the reference's order.
    public static func parameterShapes(_ hps: Hyperparameters) throws -> [(key: String, shape: [Int])] {
        let recorder = ParameterRecorder(fill: false)
        _ = try VQVAE(hps: VQVAEHyperparameters(hps), parameters: recorder)
        return recorder.shapes
    }

    /// Seeded random weights for any hyperparameters (tests, benchmarks), as a safetensors file.
    public static func randomWeights(_ hps: Hyperparameters, seed: UInt64) throws -> SafetensorsWriter {
        let recorder = ParameterRecorder(seed: seed)
        _ = try VQVAE(hps: VQVAEHyperparameters(hps), parameters: recorder)
        return recorder.writer()
    }

    /// A model with seeded random weights, built in memory.
    public static func random(_ hps: Hyperparameters, seed: UInt64) throws -> VQVAE {
        try VQVAE(hps: VQVAEHyperparameters(hps), parameters: ParameterRecorder(seed: seed))
    }

    private func checkLevel(_ level: Int) throws {
        guard level >= 0 && level < levels else {
            throw JukeboxError("level", "level \(level) is outside 0..<\(levels)")
        }
    }

    /// Audio [N, T, 1] → [N, 1, T], checking T against the hop of `level`. The reference asserts
    /// the encoder's lengths, so it needs T to be a multiple of the hop; we throw instead of padding
    /// (callers cut prompts to a multiple of the top hop, as sample.py does).
    private func audioInput(_ x: Tensor, level: Int) throws -> Tensor {
        guard x.rank == 3, x.shape[2] == 1 else {
            throw JukeboxError("audio", "expected shape [N, T, 1] (mono), found \(x.shape)")
        }
        let (n, t) = (x.shape[0], x.shape[1])
        guard n > 0, t > 0 else { throw JukeboxError("audio", "no samples (shape \(x.shape))") }
        let hop = hopLengths[level]
        guard t % hop == 0 else {
            throw JukeboxError("audio", "length \(t) is not a multiple of level \(level)'s hop length \(hop)"
                               + " (cut or pad it to \(t / hop * hop) or \((t / hop + 1) * hop) samples)")
        }
        return x.reshaped([n, 1, t])
    }

    /// The encoder's output before quantisation: audio [N, T, 1] → [N, emb_width, T / hop].
    public func encoderOutput(_ x: Tensor, level: Int) throws -> Tensor {
        try checkLevel(level)
        return encoders[level](try audioInput(x, level: level))
    }

    /// Audio [N, T, 1] → codes of each level in `levels` (all by default), N rows of T / hop each.
    public func encode(_ x: Tensor, levels range: Range<Int>? = nil) throws -> [LevelCodes] {
        let range = range ?? 0..<levels
        for level in range { try checkLevel(level) }
        return try range.map { level in codebooks[level].encode(try encoderOutput(x, level: level)) }
    }

    /// One level's codes → audio [N, T · hop, 1]. Codes outside 0..<l_bins throw.
    public func decode(_ codes: LevelCodes, level: Int) throws -> Tensor {
        try checkLevel(level)
        guard codes.n > 0, codes.t > 0 else {
            throw JukeboxError("codes", "nothing to decode (\(codes.n) rows of \(codes.t) codes)")
        }
        let latents = try codebooks[level].decode(codes)
        let audio = decoders[level](latents)
        // Weights that hold NaN or infinities decode to garbage (full-scale DC once clipped): said, not written.
        let samples = UnsafeBufferPointer(start: audio.data, count: audio.count)
        guard !samples.contains(where: { !$0.isFinite }) else {
            throw JukeboxError("vqvae", "level \(level) decodes to values that are not numbers: its weights hold NaN or infinite values")
        }
        return audio.reshaped([codes.n, audio.shape[2], 1])
    }

    /// An audio file encoded whole: read mono at the model's rate, its end cut to whole top-level codes
    /// (as the reference cuts), then every level's codes. The audio that was kept comes back with them.
    /// With `middleSeconds`, only that long a stretch from the middle of the file (all of a shorter one),
    /// read as it streams: a measure over many long songs need not encode them whole.
    public func encode(file path: String, middleSeconds: Double? = nil) throws -> (audio: [Float], codes: [LevelCodes]) {
        var mono = try AudioFile.readMono(path, sampleRate: sampleRate, maxSeconds: middleSeconds, centred: true)
        let hop = hopLengths.max() ?? 1
        mono.removeLast(mono.count % hop)
        guard !mono.isEmpty else { throw JukeboxError(path, "shorter than one top-level code (\(hop) samples)") }
        return (mono, try encode(Tensor(shape: [1, mono.count, 1], values: mono)))
    }

    /// Convenience: row-major codes of `n` items.
    public func decode(_ codes: [Int], n: Int, level: Int) throws -> Tensor {
        guard n > 0, codes.count % n == 0 else {
            throw JukeboxError("codes", "\(codes.count) codes do not split into \(n) rows")
        }
        return try decode(LevelCodes(n: n, t: codes.count / n, values: codes), level: level)
    }
}
