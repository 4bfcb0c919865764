import Foundation

/// Where a prime's own codes fall in its bars, at one level: log p(code | place, prime) − log p(code | prime),
/// counted from the codes a continuation starts from, with the prime's bar clock.
///
/// The bar guide knows where an artist's codes fall from the songs the set was trained on; a user's own
/// recording has no such rows (a fine-tuned set's are weak when one artist label covers a whole album), and
/// the priors, given the prime as context, do not carry its beat on. The prime itself holds its groove:
/// which codes come on the beat and which between. Sampling adds `primeGuidance` times this row to each
/// level's logits (our addition, `--prime-guidance`), so the continuation's codes keep the prime's places in
/// the bar. The upsamplers need it as much as the top level: given top-level codes that keep the beat, they
/// lost most of it (10 real songs: beat strength 0.12 through all levels with the top level guided alone,
/// 0.25 with every level guided; the primes 0.32).
public struct PrimeGuide: Sendable, Equatable {
    /// Places per bar: sixteenth notes of a 4/4 bar. The prime is short, so each place must see enough
    /// codes to say something: a 12 s prime at 120 bpm puts about 260 of its 4,100 codes in each.
    public static let places = 16
    /// Pseudo-counts pulling each place toward the prime's overall distribution (as the bar guide's).
    public static let pseudoCounts = 100.0

    public let codes: Int
    /// [places, codes], natural log.
    let logRatio: [Float]

    /// Counted from `primeCodes`, code t lying at audio sample `offset + t·hop`; nil when the prime does not
    /// fill one bar (it says nothing about the bar yet) or holds a code outside 0..<codes.
    public init?(primeCodes: ArraySlice<Int>, codes: Int, clock: BarClock, hop: Int, offset: Int) {
        guard codes > 0, hop > 0, clock.barLength > 0, primeCodes.count * hop >= clock.barLength,
              primeCodes.allSatisfy({ $0 >= 0 && $0 < codes }) else { return nil }
        let places = Self.places
        var counts = [Double](repeating: 0, count: places * codes)
        for (t, code) in primeCodes.enumerated() { counts[clock.bin(atSample: offset + t * hop, bins: places) * codes + code] += 1 }
        let ratio = BarGuide.placeTilt(counts: counts[...], places: places, codes: codes, prior: Self.pseudoCounts)
        (self.codes, self.logRatio) = (codes, ratio)
    }

    /// The tilt for a code at audio sample `position` of the song.
    public func row(atSample position: Int, clock: BarClock) -> ArraySlice<Float> {
        let start = clock.bin(atSample: position, bins: Self.places) * codes
        return logRatio[start..<(start + codes)]
    }
}
