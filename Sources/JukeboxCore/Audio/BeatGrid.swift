import Foundation

/// A recording's steady beat, its tempo measured finer than the onset envelope's frames.
///
/// `AudioFeatures.beat` picks the whole number of frames (23 ms each) the onsets repeat at most strongly,
/// so it can be 3% off: 161.5 bpm for a song sequenced at 160. A bar clock that runs 1% fast is a beat
/// out after 100 beats, and a bar guide then pulls onsets between the song's beats. Here the period is
/// refined by every multiple of it that fits the envelope at once: a period off by a fraction of a frame is
/// off by many frames at the twentieth beat.
public struct BeatGrid: Sendable, Equatable {
    /// Beats a minute.
    public let bpm: Double
    /// Seconds from the start to the first beat (below one beat).
    public let firstBeat: Double
    /// The onset envelope's autocorrelation at the beat (between the frames either side of it): near 1
    /// for a steady beat, near 0 for none.
    public let strength: Float

    /// The shortest audio a grid is heard in: its envelope's correlation reaches half its length, so a beat
    /// at the slowest tempo probed (60 bpm) has to repeat inside half of it.
    public static let shortestSeconds = 2.0

    /// The beat of mono `samples` at `sampleRate`, searched between 60 and 200 bpm, or within 6% of
    /// `near` (a tempo known roughly, as a labels file or an artist's songs give it). Nil when the audio is
    /// shorter than `shortestSeconds` or holds no onsets.
    public static func hear(_ samples: [Float], sampleRate: Int, near: Double? = nil) -> BeatGrid? {
        guard Double(samples.count) >= shortestSeconds * Double(sampleRate) else { return nil }
        let flux = AudioFeatures.onsetFlux(samples, sampleRate: sampleRate)
        let fps = AudioFeatures.framesPerSecond
        // The onset envelope's correlation at every lag up to half its length (0 throughout for silence).
        let correlation = (0...(flux.count / 2)).map { AudioFeatures.autocorrelation(flux, lag: $0) }
        guard correlation.count > 2 else { return nil }
        var range = (fastest: 60 / 200 * fps, slowest: 60 / 60 * fps)
        if let near, near.isFinite, near > 0 { range = (60 / (near * 1.06) * fps, 60 / (near / 1.06) * fps) }
        let lags = Int(range.fastest.rounded(.up))...max(Int(range.fastest.rounded(.up)), Int(range.slowest.rounded(.down)))
        guard let coarse = lags.filter({ $0 < correlation.count }).max(by: { correlation[$0] < correlation[$1] }),
              correlation[coarse] > 0 else { return nil }
        // Every period within a frame of the coarse one, 1/500 of a frame apart, scored by the mean
        // correlation at all its multiples that fit.
        var best = (period: Double(coarse), score: -Double.infinity)
        let step = 0.002
        for i in 0...Int(2 / step) {
            let period = Double(coarse) - 1 + Double(i) * step
            guard period >= 2, period >= range.fastest - 1, period <= range.slowest + 1 else { continue }
            let multiples = Int(Double(correlation.count - 2) / period)
            guard multiples >= 1 else { continue }
            var sum = 0.0
            for k in 1...multiples {
                let lag = Double(k) * period, lower = Int(lag), w = lag - Double(lower)
                sum += Double(correlation[lower]) * (1 - w) + Double(correlation[lower + 1]) * w
            }
            let score = sum / Double(multiples)
            if score > best.score { best = (period, score) }
        }
        let bpm = 60 * fps / best.period
        let lower = Int(best.period), w = Float(best.period - Double(lower))
        let strength = correlation[lower] * (1 - w) + correlation[min(lower + 1, correlation.count - 1)] * w
        return BeatGrid(bpm: bpm, firstBeat: AudioFeatures.firstBeat(flux: flux, bpm: bpm), strength: strength)
    }

    /// The tempo folded by octaves into `range` (a beat heard at half or twice the song's pulse is the
    /// same beat); the first beat stays one of the grid's beats.
    public func folded(into range: ClosedRange<Double>) -> BeatGrid {
        var bpm = self.bpm
        while bpm < range.lowerBound { bpm *= 2 }
        while bpm > range.upperBound { bpm /= 2 }
        return BeatGrid(bpm: bpm, firstBeat: firstBeat.truncatingRemainder(dividingBy: 60 / bpm), strength: strength)
    }
}
