import XCTest
@testable import JukeboxCore
@testable import JukeboxEvaluation

/// The 4–22 kHz flatness that tells harmonics from hiss.
final class HighBandFlatnessTests: XCTestCase {
    let rate = 44100

    /// Harmonics of 220 Hz up to 20 kHz, each a little quieter than the last.
    func harmonics(_ seconds: Double, amplitude: Float = 0.3) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { i in
            var v: Float = 0
            for h in 1...90 { v += sin(2 * .pi * 220 * Float(h) * Float(i) / Float(rate)) / Float(h) }
            return amplitude * v / 3
        }
    }

    func noise(_ seconds: Double, amplitude: Float, seed: UInt64 = 1) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<Int(seconds * Double(rate))).map { _ in amplitude * (Float(g.next() % 20001) / 10000 - 1) }
    }

    func testHarmonicsAreFarFlatterThanNoiseAndNoiseAddedMovesThemUp() throws {
        let tones = try XCTUnwrap(HighBandFlatness.measure(harmonics(1), sampleRate: rate))
        let hiss = try XCTUnwrap(HighBandFlatness.measure(noise(1, amplitude: 0.1), sampleRate: rate))
        XCTAssertLessThan(tones, 0.05)
        // A periodogram of white noise has exponential bins: geometric over arithmetic mean e^−γ ≈ 0.56.
        XCTAssertEqual(hiss, 0.56, accuracy: 0.05)
        XCTAssertEqual(try XCTUnwrap(HighBandFlatness.measure(noise(1, amplitude: 0.5, seed: 3), sampleRate: rate)), hiss, accuracy: 0.03, "whatever the level")
        let mixed = zip(harmonics(1), noise(1, amplitude: 0.003)).map { $0 + $1 }
        let both = try XCTUnwrap(HighBandFlatness.measure(mixed, sampleRate: rate))
        XCTAssertGreaterThan(both, 10 * tones)
        XCTAssertLessThan(both, hiss)
    }

    func testSilentFramesAreLeftOutAndSelectionsCanComeFromAnotherRecording() throws {
        let gap = [Float](repeating: 0, count: rate)
        let song = harmonics(1) + gap
        let frames = HighBandFlatness.frames(song, sampleRate: rate)
        let sounding = HighBandFlatness.sounding(frames)
        XCTAssertEqual(frames.count, (song.count - 2048) / 1024 + 1)
        XCTAssertTrue(sounding.prefix(20).allSatisfy { $0 })
        XCTAssertTrue(sounding.suffix(20).allSatisfy { !$0 }, "digital silence carries no band")
        // Only the frame that straddles the song's end leaks (a cut tone spreads): still nowhere near noise.
        XCTAssertLessThan(try XCTUnwrap(HighBandFlatness.mean(frames)), 0.05)
        // A rebuild that hisses in the song's silence is judged on the song's sounding frames only.
        let rebuilt = harmonics(1) + noise(1, amplitude: 0.1)
        let rebuiltFrames = HighBandFlatness.frames(rebuilt, sampleRate: rate)
        let judged = try XCTUnwrap(HighBandFlatness.mean(rebuiltFrames, selected: sounding))
        let own = try XCTUnwrap(HighBandFlatness.mean(rebuiltFrames))
        XCTAssertLessThan(judged, 0.5 * own, "only the frame straddling the cut hears the hiss")
        XCTAssertNil(HighBandFlatness.measure(gap, sampleRate: rate), "no sounding frame: no figure")
        XCTAssertTrue(HighBandFlatness.frames([Float](repeating: 0.1, count: 100), sampleRate: rate).isEmpty, "shorter than a frame")
    }

    /// At 8 kHz the band above 4 kHz does not exist.
    func testARateWithoutTheBandGivesNoFigure() {
        XCTAssertNil(HighBandFlatness.measure(noise(1, amplitude: 0.1), sampleRate: 8000))
    }
}
