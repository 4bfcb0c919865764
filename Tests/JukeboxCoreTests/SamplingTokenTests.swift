import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// filter_logits (top-k, top-p), temperature and the categorical draw.
final class SamplingTokenTests: XCTestCase {
    func kept(_ logits: [Float], _ body: (UnsafeMutablePointer<Float>, Int) -> Void) -> [Int] {
        var x = logits
        x.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        return x.indices.filter { x[$0] > -.infinity }
    }

    func testTopKKeepsTheKLargestAndTheirTies() {
        XCTAssertEqual(kept([1, 5, 3, 2, 4]) { LogitFilter.topK($0, count: $1, k: 2) }, [1, 4])
        XCTAssertEqual(kept([1, 5, 3, 3, 4]) { LogitFilter.topK($0, count: $1, k: 3) }, [1, 2, 3, 4])
        XCTAssertEqual(kept([1, 5, 3]) { LogitFilter.topK($0, count: $1, k: 0) }, [0, 1, 2])
        XCTAssertEqual(kept([1, 5, 3]) { LogitFilter.topK($0, count: $1, k: 7) }, [0, 1, 2])
    }

    func testTopPKeepsTheFirstTokenPastTheThreshold() {
        // Probabilities 0.15, 0.5, 0.05, 0.3: sorted 0.5, 0.3, 0.15, 0.05; cumulative 0.5, 0.8, 0.95, 1.
        let logits = [0.15, 0.5, 0.05, 0.3].map { Float(log($0)) }
        var sampler = TokenSampler()
        XCTAssertEqual(kept(logits) { sampler.topP($0, count: $1, p: 0.6) }, [1, 3])
        XCTAssertEqual(kept(logits) { sampler.topP($0, count: $1, p: 0.45) }, [1])
        XCTAssertEqual(kept(logits) { sampler.topP($0, count: $1, p: 0.9) }, [0, 1, 3])
        XCTAssertEqual(kept(logits) { sampler.topP($0, count: $1, p: 0.99) }, [0, 1, 2, 3])
    }

    func frequencies(_ logits: [Float], _ settings: SamplingSettings, draws: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: logits.count)
        var sampler = TokenSampler()
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<draws {
            var x = logits
            let i = x.withUnsafeMutableBufferPointer { sampler.draw($0.baseAddress!, count: $0.count, settings: settings, rng: &rng) }
            counts[i] += 1
        }
        return counts.map { $0 / Double(draws) }
    }

    func softmax(_ x: [Double]) -> [Double] {
        let m = x.max()!, e = x.map { exp($0 - m) }, s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func testDrawsFollowTheTemperedFilteredDistribution() {
        let logits: [Float] = [0.2, 1.5, -0.7, 0.9]
        for t in [1.0, 2.0, 0.5] {
            let f = frequencies(logits, SamplingSettings(temperature: t), draws: 40000)
            let p = softmax(logits.map { Double($0) / t })
            for i in 0..<4 { XCTAssertEqual(f[i], p[i], accuracy: 0.01, "temperature \(t), token \(i)") }
        }
        let k = frequencies(logits, SamplingSettings(topK: 2), draws: 20000)
        let pk = softmax([1.5, 0.9])
        XCTAssertEqual(k[0] + k[2], 0)
        XCTAssertEqual(k[1], pk[0], accuracy: 0.012)
        XCTAssertEqual(frequencies(logits, SamplingSettings(temperature: 0), draws: 10), [0, 1, 0, 0])
    }

    func testSettingsAreValidated() {
        XCTAssertThrowsError(try SamplingSettings(temperature: -1).validate())
        XCTAssertThrowsError(try SamplingSettings(topK: 5, topP: 0.9).validate())
        XCTAssertThrowsError(try SamplingSettings(topP: 1.5).validate())
        XCTAssertNoThrow(try SamplingSettings(temperature: 0.98, topK: 0, topP: 0.95).validate())
    }

    func testStreamsDependOnSeedLevelSampleAndPositionOnly() {
        var a = SampleStreams.generator(seed: 5, level: 1, sample: 2, position: 9)
        var b = SampleStreams.generator(seed: 5, level: 1, sample: 2, position: 9)
        let first = a.next()
        XCTAssertEqual(first, b.next())
        var others = [SampleStreams.generator(seed: 6, level: 1, sample: 2, position: 9),
                      SampleStreams.generator(seed: 5, level: 0, sample: 2, position: 9),
                      SampleStreams.generator(seed: 5, level: 1, sample: 3, position: 9),
                      SampleStreams.generator(seed: 5, level: 1, sample: 2, position: 10)]
        for i in others.indices { XCTAssertNotEqual(others[i].next(), first) }
    }
}
