import Foundation

/// What a user asks for, as given: every field may be absent. `PromptResolver` fills an absent field from
/// the session being reopened or continued, then from the model set's `sampling.json`, then from the
/// reference's defaults, in that order, and nowhere else.
public struct PromptRequest: Sendable, Equatable {
    public var genre: String?
    public var artist: String?
    public var lyrics: String?
    /// Seconds to have sampled when done, and the length of the whole song the labels describe.
    public var seconds: Double?
    public var totalSeconds: Double?
    /// Temperatures by level (0 = bottom), only those given; the one spelling of per-level settings.
    public var temperatures: [Int: Double]
    public var topK: Int?
    public var topP: Double?
    /// Tempo of the bar clock or bar guide, beats a minute, and where a bar starts, seconds into the song.
    public var bpm: Double?
    public var downbeat: Double?
    public var barGuidance: Double?
    /// How strongly the guide's genre tilt pulls the top level toward the genre's codes.
    public var genreGuidance: Double?
    /// How strongly a continuation keeps the places in the bar of its prime's codes (`PrimeGuide`).
    public var primeGuidance: Double?
    public var seed: UInt64?
    public var samples: Int?
    public var mode: SessionMode

    public init(genre: String? = nil, artist: String? = nil, lyrics: String? = nil, seconds: Double? = nil,
                totalSeconds: Double? = nil, temperatures: [Int: Double] = [:], topK: Int? = nil, topP: Double? = nil,
                bpm: Double? = nil, downbeat: Double? = nil, barGuidance: Double? = nil, seed: UInt64? = nil,
                samples: Int? = nil, mode: SessionMode = .ancestral, genreGuidance: Double? = nil,
                primeGuidance: Double? = nil) {
        (self.genreGuidance, self.primeGuidance) = (genreGuidance, primeGuidance)
        (self.genre, self.artist, self.lyrics, self.seconds, self.totalSeconds) = (genre, artist, lyrics, seconds, totalSeconds)
        (self.temperatures, self.topK, self.topP, self.bpm, self.downbeat) = (temperatures, topK, topP, bpm, downbeat)
        (self.barGuidance, self.seed, self.samples, self.mode) = (barGuidance, seed, samples, mode)
    }

    /// The temperature of every level up to `top` set to `upsamplers` below the top and `top` at it (the
    /// reference's temp_rest and temp_top); nil leaves a level as it is.
    public mutating func setTemperatures(top: Double?, upsamplers: Double?, topLevel: Int) {
        if let top { temperatures[topLevel] = top }
        if let upsamplers { for level in 0..<topLevel { temperatures[level] = upsamplers } }
    }
}

/// The fields of a request, for errors that name what the user typed: the command line's options or the
/// studio's field labels.
public enum PromptField: String, Sendable {
    case genre, artist, lyrics, seconds, totalSeconds = "total-seconds", temperature, topK = "top-k", topP = "top-p"
    case bpm, downbeat, barGuidance = "bar-guidance", genreGuidance = "genre-guidance", primeGuidance = "prime-guidance", seed, samples, primeSeconds = "prime-seconds"

    public enum Naming: Sendable {
        /// `--total-seconds`
        case commandLine
        /// `total seconds`
        case words
    }

    public func name(_ naming: Naming) -> String {
        switch naming {
        case .commandLine: return "--" + rawValue
        case .words: return rawValue.replacingOccurrences(of: "-", with: " ")
        }
    }
}
