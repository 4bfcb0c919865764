import Foundation
import JukeboxCore

extension PromptFields {
    /// The composer's fields as a request to the engine's resolver (the one place prompts are made).
    public var request: PromptRequest {
        var temperatures: [Int: Double] = [:]
        for (level, t) in self.temperatures.enumerated() { temperatures[level] = t }
        return PromptRequest(genre: genre, artist: artist, lyrics: lyrics, seconds: seconds, totalSeconds: totalSeconds,
                             temperatures: temperatures, topK: topK, topP: topP, bpm: bpm, downbeat: downbeat,
                             barGuidance: barGuidance, seed: seed, samples: 1, genreGuidance: genreGuidance)
    }

    /// The fields a session was made with (its prompt; the candidate count the studio stores beside it).
    public init(_ document: SessionDocument, levels: Int) {
        let p = document.prompt
        let temperatures = (0..<levels).map { p.temperatures.indices.contains($0) ? p.temperatures[$0] : 1 }
        let k = document.settings[SessionKeys.candidates].flatMap(Int.init) ?? 3
        self.init(genre: p.genre, artist: p.artist, lyrics: p.lyrics, seconds: p.sampleSeconds, totalSeconds: p.totalSeconds,
                  temperatures: temperatures, seed: p.seed, candidates: min(max(1, k), 9), bpm: p.bpm,
                  barGuidance: p.barGuidance ?? (p.bpm == nil ? nil : 0), topK: p.topK, topP: p.topP, downbeat: p.downbeat)
        genreGuidance = p.genreGuidance
    }
}
