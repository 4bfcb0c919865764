import Foundation

/// What to generate: labels, lengths, sampling settings and randomness (the reference's sample.py hps).
public struct GenerationPrompt: Sendable {
    public var artistID: Int
    public var genreIDs: [Int]
    /// The whole song's lyric tokens; each window takes its own n_tokens of them.
    public var lyricTokens: [Int]
    /// The song's length in audio samples (the labels' total_length).
    public var totalLength: Int
    /// Audio samples to have at every sampled level when done (the reference's sample_length).
    public var sampleLength: Int
    /// Where the generated audio sits in the song (the labels' offset before windows), in samples.
    public var offset: Int = 0
    /// Where the bars fall, for a top prior with a bar clock (nil: none given, the clock adds nothing).
    public var barClock: BarClock? = nil
    /// How strongly the set's bar guide pulls the top level's codes toward the artist's places in the bar
    /// (0: not at all; needs `barClock` and a set with a guide).
    public var barGuidance: Double = 0
    /// How strongly the guide's genre tilt pulls the top level's codes toward those of the first of
    /// `genreIDs` (0: not at all; needs a set whose guide holds genres; no clock needed).
    public var genreGuidance: Double = 0
    /// How strongly each level of a continuation is pulled toward the places in the bar its prime's own codes
    /// at that level take (`PrimeGuide`; 0: not at all; needs `barClock` and codes to continue).
    public var primeGuidance: Double = 0
    /// Per level (0 = bottom); the last entry is reused for missing levels.
    public var settings: [SamplingSettings]
    public var hopFraction: [Double] = WindowPlan.defaultHopFraction
    public var seed: UInt64
    public var samples: Int
    /// Index of this batch's first sample in the whole run: a run split into batches (the reference's
    /// split_batch) draws the same codes as one batch, as every sample has its own random stream.
    public var firstSampleIndex: Int = 0
    /// Context tokens fed to the cache per forward pass when priming a window.
    public var chunkSize: Int = 64
    /// Decode each window's codes as it finishes and report the audio (`audioDecoded` events).
    public var renderWhileSampling = false

    public init(artistID: Int, genreIDs: [Int], lyricTokens: [Int], totalLength: Int, sampleLength: Int,
                settings: [SamplingSettings], seed: UInt64, samples: Int) {
        (self.artistID, self.genreIDs, self.lyricTokens) = (artistID, genreIDs, lyricTokens)
        (self.totalLength, self.sampleLength, self.settings, self.seed, self.samples) =
            (totalLength, sampleLength, settings, seed, samples)
    }

    func settings(level: Int) -> SamplingSettings { settings.isEmpty ? SamplingSettings() : settings[min(level, settings.count - 1)] }
}

public enum GenerationMode: Sendable {
    /// Sample from nothing, top level first, down to `lowestLevel` (top level only when it is the top).
    case ancestral(lowestLevel: Int)
    /// Given the top level's codes, fill every level below.
    case upsample(top: LevelCodes)
    /// Extend the given codes (one entry per level, bottom first; t may be 0) at every level from the top
    /// down to `lowestLevel`; the levels below it keep what they were given.
    case continuation([LevelCodes], lowestLevel: Int = 0)
    /// Encode audio [samples or 1, T, 1] with the VQ-VAE and continue from its codes at every level from
    /// the top down to `lowestLevel`.
    case primed(audio: Tensor, lowestLevel: Int = 0)
}

public struct GenerationResult: Sendable {
    /// One entry per level, bottom first (rows = samples; t = 0 where nothing exists).
    public let codes: [LevelCodes]
    public let cancelled: Bool
}

/// Hierarchical sampling: the top level window by window, then each upsampler conditioned on the
/// level above (the reference's _sample / sample_level / sample_single_window).
public final class Generator: @unchecked Sendable {
    public let models: ModelSet

    public init(models: ModelSet) { self.models = models }

    struct Cancelled: Error {}

    /// Codes of every level after each finished window, so a caller can keep them on disk as sampling goes
    /// (a kill then loses at most the window being sampled). An error it throws stops the run.
    public typealias Checkpoint = (_ codes: [LevelCodes]) throws -> Void

    public func generate(_ prompt: GenerationPrompt, mode: GenerationMode, cancel: CancelFlag? = nil,
                         checkpoint: Checkpoint? = nil,
                         events: ((GenerationEvent) -> Void)? = nil) throws -> GenerationResult {
        let emit = events ?? { _ in }
        let levelsCount = models.vqvae.levels, top = levelsCount - 1, n = prompt.samples
        var rows = [[[Int]]](repeating: [[Int]](repeating: [], count: max(n, 0)), count: levelsCount)
        do {
            try validate(prompt)
            let order: [Int]
            func levels(downTo lowest: Int) throws -> [Int] {
                guard lowest >= 0, lowest <= top else { throw JukeboxError("levels", "lowest level \(lowest) is outside 0...\(top)") }
                return Array((lowest...top).reversed())
            }
            switch mode {
            case .ancestral(let lowest):
                order = try levels(downTo: lowest)
            case .upsample(let codes):
                rows[top] = try Self.rows(codes, samples: n, what: "top-level codes")
                order = Array((0..<top).reversed())
            case .continuation(let codes, let lowest):
                guard codes.count == levelsCount else {
                    throw JukeboxError("codes", "\(codes.count) levels of codes; the VQ-VAE has \(levelsCount)")
                }
                for l in 0..<levelsCount { rows[l] = try Self.rows(codes[l], samples: n, what: "level \(l) codes") }
                order = try levels(downTo: lowest)
            case .primed(let audio, let lowest):
                order = try levels(downTo: lowest)
                let codes = try models.vqvae.encode(audio)
                for l in 0..<levelsCount { rows[l] = try Self.rows(codes[l], samples: n, what: "primed audio") }
            }
            let emit = prompt.renderWhileSampling ? try renderingEmitter(emit, rows: rows, samples: n) : emit
            try sampleLevels(order, prompt: prompt, rows: &rows, cancel: cancel, checkpoint: checkpoint, emit: emit)
        } catch is Cancelled {
            emit(.cancelled)
            return GenerationResult(codes: Self.levelCodes(rows), cancelled: true)
        } catch {
            emit(.failed("\(error)"))
            throw error
        }
        return GenerationResult(codes: Self.levelCodes(rows), cancelled: false)
    }

    /// Wraps `emit` so every finished window is decoded from the codes sampled so far and reported
    /// as audio: the partial renders a listener hears while the rest is still being sampled.
    func renderingEmitter(_ emit: @escaping (GenerationEvent) -> Void, rows: [[[Int]]], samples: Int) throws
        -> (GenerationEvent) -> Void {
        var buffer = SampledCodes(levels: rows.count, samples: samples)
        for (level, codes) in Self.levelCodes(rows).enumerated() where codes.t > 0 { try buffer.seed(level: level, codes: codes) }
        let vqvae = models.vqvae
        return { event in
            buffer.record(event)
            emit(event)
            guard case let .windowFinished(level, _, start, length) = event, length > 0,
                  let audio = try? PartialRender.decode(vqvae: vqvae, codes: buffer.codes(level: level), level: level,
                                                        range: start..<(start + length)) else { return }
            let t = audio.shape[1]
            let rows = (0..<audio.shape[0]).map { Array(UnsafeBufferPointer(start: audio.data + $0 * t, count: t)) }
            emit(.audioDecoded(level: level, samples: PartialRender.audioSpan(vqvae: vqvae, level: level, range: start..<(start + length)),
                               audio: rows))
        }
    }

    /// Samples each level of `order` in turn into `rows`, each from its own prior.
    func sampleLevels(_ order: [Int], prompt: GenerationPrompt, rows: inout [[[Int]]], cancel: CancelFlag?,
                      checkpoint: Checkpoint? = nil, emit: (GenerationEvent) -> Void) throws {
        for level in order {
            let model = try models.prior(level: level)
            try check(model, level: level)
            try sampleLevel(level, model: model, prompt: prompt, rows: &rows, cancel: cancel, checkpoint: checkpoint, emit: emit)
            emit(.levelFinished(level: level))
        }
    }

    /// What ModelSet.load checks from the configs, checked again on the objects (sets built in memory).
    func check(_ model: PriorModel, level: Int) throws {
        let c = model.prior.config, vqvae = models.vqvae
        guard c.level == level, c.levels == vqvae.levels else {
            throw JukeboxError("prior_level_\(level)", "is a prior for level \(c.level) of \(c.levels)")
        }
        guard c.lBins == vqvae.codebookSize else {
            throw JukeboxError("prior_level_\(level)", "l_bins \(c.lBins) differs from the VQ-VAE's \(vqvae.codebookSize)")
        }
        if level < vqvae.levels - 1 {
            let ratio = vqvae.hopLengths[level + 1] / vqvae.hopLengths[level]
            guard let cond = model.conditioner, cond.upsampling == ratio else {
                throw JukeboxError("prior_level_\(level)", "needs a conditioner upsampling the level above by \(ratio)")
            }
        }
    }

    func validate(_ p: GenerationPrompt) throws {
        guard p.samples >= 1 else { throw JukeboxError("samples", "need at least one sample (got \(p.samples))") }
        let topHop = models.vqvae.hopLengths[models.topLevel]
        guard p.sampleLength >= topHop, p.sampleLength % topHop == 0 else {
            throw JukeboxError("sample_length", "\(p.sampleLength) samples is not a positive multiple of the top level's hop \(topHop)")
        }
        guard p.totalLength > 0, p.offset >= 0, p.offset < p.totalLength else {
            throw JukeboxError("total_length", "offset \(p.offset) must lie inside the song of \(p.totalLength) samples")
        }
        guard p.chunkSize >= 1 else { throw JukeboxError("chunk_size", "must be at least 1 (got \(p.chunkSize))") }
        for s in p.settings { try s.validate() }
    }

    /// Rows of a LevelCodes, one per sample; a single row is repeated for every sample.
    static func rows(_ codes: LevelCodes, samples: Int, what: String) throws -> [[Int]] {
        if codes.t == 0 { return [[Int]](repeating: [], count: samples) }
        if codes.n == samples { return (0..<samples).map { Array(codes.row($0)) } }
        if codes.n == 1 { return [[Int]](repeating: Array(codes.row(0)), count: samples) }
        throw JukeboxError("codes", "\(what) have \(codes.n) rows for \(samples) samples")
    }

    static func levelCodes(_ rows: [[[Int]]]) -> [LevelCodes] {
        rows.map { r in
            let t = r.map(\.count).min() ?? 0
            return LevelCodes(n: r.count, t: t, uncheckedValues: r.flatMap { $0.prefix(t) })
        }
    }
}

extension Generator {
    /// generate() on a background task, its events as an AsyncStream (finished when the run ends,
    /// whether it completes, is cancelled through `cancel`, or fails).
    public func stream(_ prompt: GenerationPrompt, mode: GenerationMode, cancel: CancelFlag)
        -> (events: AsyncStream<GenerationEvent>, result: Task<GenerationResult, Error>) {
        let (events, continuation) = AsyncStream.makeStream(of: GenerationEvent.self, bufferingPolicy: .unbounded)
        let task = Task.detached(priority: .userInitiated) { [self] in
            defer { continuation.finish() }
            return try self.generate(prompt, mode: mode, cancel: cancel, events: { continuation.yield($0) })
        }
        return (events, task)
    }
}
