@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining
import XCTest

final class ResamplerTests: XCTestCase {
    /// The windowed sinc evaluated tap by tap at each output's exact position: what the tables must equal.
    func direct(_ x: [Float], from source: Int, to target: Int) -> [Float] {
        let ratio = Double(target) / Double(source), cutoff = min(1, ratio)
        let halfWidth = Double(Resampler.zeroCrossings) / cutoff
        return (0..<Int((Double(x.count) * ratio).rounded())).map { j in
            let center = Double(j) * Double(source) / Double(target)
            var acc = 0.0
            for i in x.indices where abs(Double(i) - center) <= halfWidth {
                acc += Double(x[i]) * Resampler.tap(Double(i) - center, halfWidth: halfWidth, cutoff: cutoff)
            }
            return Float(acc)
        }
    }

    func testPhaseTablesEqualTheDirectKernel() {
        var rng = SeededGenerator(seed: 4)
        let x = (0..<3000).map { _ in rng.nextNormal() }
        // Halving, doubling, 48k→44.1k (147 phases), and a ratio too fine for tables (direct path).
        for (s, t) in [(44100, 22050), (22050, 44100), (48000, 44100), (44100, 44101), (8000, 44100)] {
            let fast = Resampler.resample(x, from: s, to: t), slow = direct(x, from: s, to: t)
            XCTAssertEqual(fast.count, slow.count)
            let err = zip(fast, slow).map { abs($0 - $1) }.max() ?? 0
            print("resample \(s)→\(t): max abs difference from the direct kernel \(err)")
            XCTAssertLessThan(err, 1e-5, "\(s)→\(t)")
        }
    }

    func testASineKeepsItsPitchAndLevel() {
        let source = 44100, target = 16000, hz = 440.0
        let x = (0..<source).map { Float(0.5 * sin(2 * Double.pi * hz * Double($0) / Double(source))) }
        let y = Resampler.resample(x, from: source, to: target)
        XCTAssertEqual(y.count, target)
        // Away from the edges the output is the same sine sampled at the new rate.
        let err = (1000..<target - 1000).map { abs(Double(y[$0]) - 0.5 * sin(2 * Double.pi * hz * Double($0) / Double(target))) }.max()!
        XCTAssertLessThan(err, 1e-3)
    }
}
