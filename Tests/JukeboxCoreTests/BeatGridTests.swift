@testable import JukeboxCore
import XCTest

/// A recording's tempo measured finer than the onset envelope's frames, and where its beats fall.
final class BeatGridTests: XCTestCase {
    let rate = 44100

    /// A click on every beat of `bpm` from `start` seconds, over quiet noise (as a mix has between onsets), at 44.1 kHz.
    static func clicks(bpm: Double, start: Double, seconds: Double, seed: UInt64 = 1) -> [Float] {
        let rate = 44100
        var rng = SeededGenerator(seed: seed)
        var x = (0..<Int(seconds * Double(rate))).map { _ in 0.02 * Float(rng.nextNormal()) }
        for beat in stride(from: start * Double(rate), to: Double(x.count - 300), by: 60 / bpm * Double(rate)) {
            for i in 0..<300 { x[Int(beat) + i] += i % 2 == 0 ? 0.6 : -0.6 }
        }
        return x
    }

    /// Tempos between two frame-sized lags (the coarse estimate is 1–3% off at these) are heard within
    /// 0.1%: a clock that far off drifts less than a tenth of a beat over 100 beats.
    func testTempoBetweenFramesIsHeardWithinATenthOfAPercent() throws {
        for (bpm, start) in [(160.0, 0.12), (117.37, 0.31), (83.5, 0.6)] {
            let x = Self.clicks(bpm: bpm, start: start, seconds: 40)
            let coarse = AudioFeatures.tempo(x, sampleRate: rate)
            let grid = try XCTUnwrap(BeatGrid.hear(x, sampleRate: rate))
            XCTAssertEqual(grid.bpm / bpm, 1, accuracy: 0.001, "\(bpm) bpm heard as \(grid.bpm) (coarse \(coarse))")
            XCTAssertEqual(grid.firstBeat, start, accuracy: 0.035, "first beat of \(bpm) bpm")
            XCTAssertGreaterThan(grid.strength, 0.3)
        }
        // The coarse estimate really is that far off for 160 bpm: 16 frames are 161.5 bpm.
        XCTAssertGreaterThan(abs(AudioFeatures.tempo(Self.clicks(bpm: 160, start: 0, seconds: 40), sampleRate: rate) / 160 - 1), 0.005)
    }

    /// A tempo known roughly (a label, an artist's songs) picks which of the beat's octaves is meant.
    func testANearTempoChoosesTheOctave() throws {
        let x = Self.clicks(bpm: 160, start: 0.1, seconds: 30)
        let slow = try XCTUnwrap(BeatGrid.hear(x, sampleRate: rate, near: 82))
        XCTAssertEqual(slow.bpm, 80, accuracy: 0.1)
        let fast = try XCTUnwrap(BeatGrid.hear(x, sampleRate: rate, near: 158))
        XCTAssertEqual(fast.bpm, 160, accuracy: 0.16)
    }

    /// Folding by octaves keeps the tempo's digits and a first beat that is one of the grid's.
    func testFoldingKeepsTheGrid() {
        let grid = BeatGrid(bpm: 60.1, firstBeat: 0.9, strength: 0.5)
        let fast = grid.folded(into: 70...180)
        XCTAssertEqual(fast.bpm, 120.2, accuracy: 1e-9)
        XCTAssertEqual(fast.firstBeat, 0.9 - 60 / 120.2, accuracy: 1e-9)
        XCTAssertEqual(BeatGrid(bpm: 200, firstBeat: 0.1, strength: 0.5).folded(into: 70...180).bpm, 100)
    }

    /// Too short for a beat to repeat in, or silent: no grid, not a made-up one.
    func testNoGridWithoutBeats() {
        XCTAssertNil(BeatGrid.hear(Self.clicks(bpm: 120, start: 0, seconds: 1.9), sampleRate: rate))
        XCTAssertNil(BeatGrid.hear([Float](repeating: 0, count: 10 * rate), sampleRate: rate))
        var rng = SeededGenerator(seed: 5)
        let noise = (0..<(10 * rate)).map { _ in 0.3 * Float(rng.nextNormal()) }
        XCTAssertLessThan(BeatGrid.hear(noise, sampleRate: rate)?.strength ?? 0, 0.2, "noise has no steady beat")
    }
}

/// The clock a continuation keeps: the prime's own beat, to a fraction of a percent.
final class PrimeBeatTests: XCTestCase {
    func testAPrimeIsContinuedAtTheTempoHeardInIt() {
        let rate = 44100
        let prime = BeatGridTests.clicks(bpm: 160, start: 0.1, seconds: 12)
        // An artist of another tempo: the prime's own, not the artist's nor the frame-sized estimate's 161.5.
        let own = PromptResolver.primeBeat(prime, sampleRate: rate, bpm: nil, artistTempo: 120)
        XCTAssertEqual(own.bpm / 160, 1, accuracy: 0.002, "\(own.bpm)")
        XCTAssertEqual(own.downbeat, 0.1, accuracy: 0.035)
        // The artist's octave: heard at 160, the artist plays at 80.
        XCTAssertEqual(PromptResolver.primeBeat(prime, sampleRate: rate, bpm: nil, artistTempo: 81).bpm, 80, accuracy: 0.16)
        // Within 0.3% of the artist's tempo it is the artist's (a corpus artist keeps one tempo exactly).
        XCTAssertEqual(PromptResolver.primeBeat(prime, sampleRate: rate, bpm: nil, artistTempo: 80.1).bpm, 80.1)
        // A tempo named is kept as named.
        XCTAssertEqual(PromptResolver.primeBeat(prime, sampleRate: rate, bpm: 159, artistTempo: 120).bpm, 159)
    }
}
