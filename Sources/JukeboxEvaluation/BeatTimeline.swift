import JukeboxCore
import JukeboxCorpus
import JukeboxTraining
/// The beat of one stretch of a recording, as `AudioFeatures.beat` hears it.
public struct BeatStretch: Sendable, Equatable, Encodable {
    /// Seconds from the start of the recording.
    public let start: Double, end: Double
    /// The tempo the onset envelope repeats at most strongly, in beats per minute.
    public let bpm: Double
    /// That repetition's autocorrelation: near 1 for a steady beat, near 0 for onsets at random.
    public let strength: Float
    /// Whether `bpm` is the expected tempo, or half or double it.
    public let atTempo: Bool

    enum CodingKeys: String, CodingKey { case start, end, bpm, strength, atTempo = "at_tempo" }
}

/// How a recording's beat holds over time: whether a continuation keeps the beat of what it continues
/// is a question about stretches after the prime, not about the clip as a whole.
public enum BeatTimeline {
    /// The shortest stretch measured: a beat at 60 bpm has to repeat inside it.
    public static let shortestStretch = 2.0

    /// The beat of `file` between each pair of consecutive `boundaries` (seconds, rising), each stretch
    /// cut short where the audio ends; stretches left shorter than `shortestStretch` are dropped.
    /// `bpm`: the tempo the stretches are expected to keep.
    public static func stretches(of file: String, boundaries: [Double], bpm: Double) throws -> [BeatStretch] {
        let audio = try GenreEvaluation.monoClip(file)
        let rate = Double(audio.sampleRate), length = Double(audio.samples.count) / rate
        var stretches: [BeatStretch] = []
        for (start, limit) in zip(boundaries, boundaries.dropFirst()) {
            let end = min(limit, length)
            guard end - start >= shortestStretch else { continue }
            let samples = Array(audio.samples[Int(start * rate)..<Int(end * rate)])
            let beat = AudioFeatures.beat(samples, sampleRate: audio.sampleRate)
            stretches.append(BeatStretch(start: start, end: end, bpm: beat.bpm, strength: beat.strength,
                                         atTempo: AudioFeatures.tempo(beat.bpm, matches: bpm)))
        }
        return stretches
    }
}
