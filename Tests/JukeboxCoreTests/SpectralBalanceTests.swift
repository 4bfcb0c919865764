import Foundation
import JukeboxCore
import JukeboxEvaluation
import XCTest

/// The long-term spectral balance `eval continuation` compares a continuation's sound with its prime's by.
final class SpectralBalanceTests: XCTestCase {
    func noise(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
    }

    func testLoudnessAndBalanceSeparate() {
        let rate = 44100
        let tone = (0..<rate).map { Float(sin(2 * Double.pi * 1000 * Double($0) / Double(rate))) }
        let sine = SpectralBalance(tone[...], sampleRate: rate)
        XCTAssertEqual(sine.loudness, -3.01, accuracy: 0.05, "a full-scale sine is 3 dB below full scale")
        // Its energy is in the 1 kHz band.
        let loudest = sine.bands.indices.max { sine.bands[$0] < sine.bands[$1] }!
        XCTAssertEqual(SpectralBalance.centres[loudest], 1000, accuracy: 1)
        // Quieter, the same balance: loudness moves, the distance does not.
        let quiet = SpectralBalance(tone.map { $0 * 0.1 }[...], sampleRate: rate)
        XCTAssertEqual(quiet.loudness, sine.loudness - 20, accuracy: 0.05)
        XCTAssertEqual(quiet.distance(to: sine), 0, accuracy: 0.01, "float rounding only")
        // Two stretches of white noise are near each other and far from the tone; the distance is symmetric.
        let a = SpectralBalance(noise(rate, seed: 1)[...], sampleRate: rate), b = SpectralBalance(noise(rate, seed: 2)[...], sampleRate: rate)
        XCTAssertLessThan(a.distance(to: b), 1)
        XCTAssertGreaterThan(a.distance(to: sine), 10)
        XCTAssertEqual(a.distance(to: sine), sine.distance(to: a), accuracy: 1e-9)
        // At 22.05 kHz the bands above 11 kHz are left out, and the shared bands still compare.
        let low = SpectralBalance(noise(rate / 2, seed: 3)[...], sampleRate: rate / 2)
        XCTAssertLessThan(low.bands.count, a.bands.count)
        XCTAssertLessThan(low.distance(to: a), 1.5)
    }
}
