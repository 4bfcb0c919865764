import Foundation

/// What a session folder's `session.json` holds: the prompt, the model set, the sampler settings,
/// the seeds and per-sample generator states, and the history of every window's candidates.
/// Plain Codable values; SessionFolder reads and writes them.
public struct SessionDocument: Codable, Equatable, Sendable {
    /// The format this build writes. Older versions are migrated on open (SessionMigration).
    public static let currentFormatVersion = 2

    public var formatVersion: Int
    public var prompt: SessionPrompt
    /// The model set folder, as given when the session was made.
    public var modelSet: String
    /// Other sampler settings by name (chunk sizes, hop fraction, ...), kept as text so a newer sampler's
    /// settings survive an older reader.
    public var settings: [String: String]
    /// The seed each sample's generator started from.
    public var seeds: [UInt64]
    /// Each sample's generator state now (its words), so sampling resumes exactly where it stopped.
    public var rngStates: [[UInt64]]
    /// Every window sampled so far, in order.
    public var history: [WindowRecord]
    /// The codes file this document describes (format 2: a new generation per save, named here, so codes
    /// and document change together when the document is renamed into place); nil: `codes.safetensors`.
    public var codesFile: String?

    public init(prompt: SessionPrompt, modelSet: String, settings: [String: String] = [:], seeds: [UInt64],
                rngStates: [[UInt64]], history: [WindowRecord] = []) {
        formatVersion = Self.currentFormatVersion
        self.prompt = prompt
        self.modelSet = modelSet
        self.settings = settings
        self.seeds = seeds
        self.rngStates = rngStates
        self.history = history
    }

    /// Checks the parts that must agree with each other; `source` names the file in errors.
    public func validate(source: String) throws {
        let n = prompt.samples
        guard n >= 1 else { throw JukeboxError(source, "prompt.samples is \(n); a session has at least one sample") }
        guard seeds.count == n else { throw JukeboxError(source, "seeds has \(seeds.count) entries for \(n) samples") }
        guard rngStates.count == n else {
            throw JukeboxError(source, "rngStates has \(rngStates.count) entries for \(n) samples")
        }
        guard prompt.totalSeconds > 0, prompt.sampleSeconds > 0, prompt.totalSeconds.isFinite, prompt.sampleSeconds.isFinite else {
            throw JukeboxError(source, "prompt.totalSeconds and prompt.sampleSeconds must be positive")
        }
        if let bad = prompt.temperatures.first(where: { !($0 > 0) || !$0.isFinite }) {
            throw JukeboxError(source, "prompt.temperatures holds \(bad); temperatures must be positive")
        }
        if let k = prompt.topK, k < 0 { throw JukeboxError(source, "prompt.topK is \(k); must not be negative") }
        if let p = prompt.topP, !(p >= 0 && p <= 1) { throw JukeboxError(source, "prompt.topP is \(p); must be in 0...1") }
        for (i, w) in history.enumerated() {
            guard w.level >= 0, w.window >= 0, w.start >= 0, w.length >= 0 else {
                throw JukeboxError(source, "history[\(i)] has a negative level, window, start or length")
            }
            if let kept = w.kept, !w.candidates.contains(kept) {
                throw JukeboxError(source, "history[\(i)] keeps candidate \(kept), which is not among its candidates \(w.candidates)")
            }
        }
    }
}

/// How the session makes its audio.
public enum SessionMode: String, Codable, Sendable, CaseIterable {
    /// From nothing: the top level is sampled from scratch.
    case ancestral
    /// Continuing given audio (encoded into codes first).
    case primed
    /// Only upsampling codes that are already there.
    case upsample
    /// Extending saved codes at every level.
    case `continue`
}

/// What the user asked for.
public struct SessionPrompt: Codable, Equatable, Sendable {
    public var artist: String
    public var genre: String
    public var lyrics: String
    /// Length of the whole piece (the label's total length).
    public var totalSeconds: Double
    /// Length to sample now.
    public var sampleSeconds: Double
    /// Sampling temperature per level, index = level (the reference's temp_rest, temp_rest, temp_top).
    public var temperatures: [Double]
    /// Keep only the k most likely codes (nil or 0: all).
    public var topK: Int?
    /// Keep the smallest set of codes whose probability reaches p (nil or 0: all).
    public var topP: Double?
    public var seed: UInt64
    /// Number of samples drawn side by side (the batch).
    public var samples: Int
    public var mode: SessionMode
    /// The tempo the bar clock kept, in beats a minute (top priors with a bar clock; nil: none).
    public var bpm: Double?
    /// Where a bar of the bar clock starts, in seconds from the song's start (nil: at its start).
    public var downbeat: Double?
    /// How strongly the set's bar guide steered the top level (nil: not at all).
    public var barGuidance: Double?
    /// How strongly the guide's genre tilt steered the top level (nil: not at all).
    public var genreGuidance: Double?
    /// How strongly the prime's own places in the bar steered a continuation's top level (nil: not at all).
    public var primeGuidance: Double?

    /// The bars the session was sampled with, audio at `sampleRate` (nil: it kept no tempo).
    public func barClock(sampleRate: Double) throws -> BarClock? {
        try bpm.map { try BarClock(bpm: $0, sampleRate: sampleRate, downbeat: Int(((downbeat ?? 0) * sampleRate).rounded())) }
    }

    public init(artist: String, genre: String, lyrics: String, totalSeconds: Double, sampleSeconds: Double,
                temperatures: [Double], topK: Int? = nil, topP: Double? = nil, seed: UInt64, samples: Int,
                mode: SessionMode = .ancestral, bpm: Double? = nil, downbeat: Double? = nil, barGuidance: Double? = nil) {
        self.bpm = bpm
        self.downbeat = downbeat
        self.barGuidance = barGuidance
        self.artist = artist
        self.genre = genre
        self.lyrics = lyrics
        self.totalSeconds = totalSeconds
        self.sampleSeconds = sampleSeconds
        self.temperatures = temperatures
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.samples = samples
        self.mode = mode
    }
}

/// One window at one level: the candidates drawn for it and the one kept (nil while undecided).
/// Candidates are ids the sampler gives its attempts; discarded ones are those not kept.
public struct WindowRecord: Codable, Equatable, Sendable {
    public var level: Int
    public var window: Int
    /// First code of the window at its level, and its length in codes.
    public var start: Int
    public var length: Int
    public var candidates: [Int]
    public var kept: Int?

    public init(level: Int, window: Int, start: Int, length: Int, candidates: [Int], kept: Int?) {
        self.level = level
        self.window = window
        self.start = start
        self.length = length
        self.candidates = candidates
        self.kept = kept
    }

    public var discarded: [Int] { candidates.filter { $0 != kept } }
}
