import Foundation
import JukeboxCore

/// The composer's fields as the engine's prompt: names to ids, lyrics to tokens, seconds to samples.
/// The same rules as `jukebox sample`, so a session made by either reads the same in both.
public struct StudioPrompt {
    public let prompt: GenerationPrompt
    /// The labeller and song labels that say which lyrics a top-level window sees (nil: no labels).
    public let labels: (labeller: Labeller, song: SongLabels)?
    /// The tempo the top prior's bar clock keeps (nil: it has none).
    public let tempo: Double?

    public init(fields: PromptFields, models: ModelSet) throws {
        let sr = models.vqvae.sampleRate, top = models.topLevel
        let topHop = models.vqvae.hopLengths[top]
        guard fields.seconds > 0, fields.seconds.isFinite else { throw JukeboxError("seconds", "must be positive") }
        let sampleLength = Int(fields.seconds * Double(sr)) / topHop * topHop
        guard sampleLength > 0 else { throw JukeboxError("seconds", "\(fields.seconds) s is shorter than one top-level code") }
        guard fields.totalSeconds >= fields.seconds else { throw JukeboxError("total seconds", "shorter than seconds") }
        let settings = (0...top).map { level in
            SamplingSettings(temperature: fields.temperatures.indices.contains(level) ? fields.temperatures[level] : 1,
                             topK: 0, topP: 0)
        }
        for s in settings { try s.validate() }
        let totalLength = Int(fields.totalSeconds * Double(sr))
        guard let vocabulary = models.vocabularies[top] else {
            prompt = GenerationPrompt(artistID: 0, genreIDs: [], lyricTokens: [], totalLength: totalLength,
                                      sampleLength: sampleLength, settings: settings, seed: fields.seed, samples: 1)
            labels = nil
            tempo = nil
            return
        }
        let topPrior = try models.prior(level: top)
        let layout = try LabelLayout(hps: topPrior.hps)
        let labeller = Labeller(vocabulary: vocabulary, layout: layout, sampleLength: topPrior.nCtx * topHop)
        tempo = layout.barClock || models.barGuide != nil
            ? models.samplingDefaults.tempo(typed: fields.artist, vocabulary: vocabulary, bpm: fields.bpm)
            : nil
        let clock = try tempo.map { try BarClock(bpm: $0, sampleRate: Double(sr)) }
        let resolved = try labeller.resolve(artist: fields.artist, genre: fields.genre, lyrics: fields.lyrics,
                                            totalLength: totalLength, barClock: clock)
        var clocked = GenerationPrompt(artistID: resolved.song.artistID, genreIDs: resolved.song.genreIDs,
                                       lyricTokens: resolved.song.fullTokens, totalLength: resolved.song.totalLength,
                                       sampleLength: sampleLength, settings: settings, seed: fields.seed, samples: 1)
        // The song's labels carry the clock only for a clocked prior; the guide needs it either way.
        clocked.barClock = clock
        if models.barGuide != nil { clocked.barGuidance = fields.barGuidance ?? models.samplingDefaults.barGuidance }
        prompt = clocked
        labels = (labeller, resolved.song)
    }

    /// The lyrics the top-level window starting at `start` conditions on, as the model sees them.
    public func lyrics(atTopPosition start: Int, topHop: Int) -> String? {
        guard let (labeller, song) = labels, let y = try? labeller.y(song, start: start, rawToTokens: topHop).y else { return nil }
        return try? labeller.describe(y).lyrics
    }
}

extension PromptFields {
    /// The fields a session was made with (its prompt; the candidate count the studio stores beside it).
    public init(_ document: SessionDocument, levels: Int) {
        let p = document.prompt
        let temperatures = (0..<levels).map { p.temperatures.indices.contains($0) ? p.temperatures[$0] : 1 }
        let k = document.settings[SessionKeys.candidates].flatMap(Int.init) ?? 3
        self.init(genre: p.genre, artist: p.artist, lyrics: p.lyrics, seconds: p.sampleSeconds, totalSeconds: p.totalSeconds,
                  temperatures: temperatures, seed: p.seed, candidates: min(max(1, k), 9), bpm: p.bpm,
                  barGuidance: p.barGuidance ?? (p.bpm == nil ? nil : 0))
    }
}
