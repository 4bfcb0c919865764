import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Decoding finished spans of codes from the events of a run still under way.
final class PartialRenderTests: XCTestCase {
    let models = SamplingGeneratorTests.shared

    func testRendersFinishedSpansWhileSamplingGoesOn() throws {
        let vqvae = models.vqvae, n = 2
        let p = GenerationPrompt(artistID: 3, genreIDs: [1], lyricTokens: [], totalLength: 44100, sampleLength: 96,
                                 settings: [SamplingSettings(temperature: 1)], seed: 9, samples: n)
        var buffer = SampledCodes(levels: vqvae.levels, samples: n)
        var rendered: [(level: Int, range: Range<Int>, shape: [Int], topFinished: Bool)] = []
        var finishedLevels = Set<Int>()
        var failures: [String] = []
        let result = try Generator(models: models).generate(p, mode: .ancestral(lowestLevel: 0)) { event in
            buffer.record(event)
            switch event {
            case .levelFinished(let level): finishedLevels.insert(level)
            case .windowFinished(let level, _, let start, let length):
                let range = start..<(start + length)
                do {
                    let audio = try PartialRender.decode(vqvae: vqvae, codes: buffer.codes(level: level), level: level, range: range)
                    rendered.append((level, range, audio.shape, finishedLevels.contains(level)))
                } catch { failures.append("\(error)") }
            default: break
            }
        }
        XCTAssertEqual(failures, [])
        XCTAssertEqual(buffer.codes(level: 0), result.codes[0], "the buffer gathered every sampled code")
        XCTAssertEqual(buffer.codes(level: 1), result.codes[1])
        XCTAssertEqual(rendered.map(\.level), [1, 1, 0, 0, 0, 0, 0])
        for r in rendered {
            XCTAssertEqual(r.shape, [n, r.range.count * vqvae.hopLengths[r.level], 1], "level \(r.level) \(r.range)")
            XCTAssertFalse(r.topFinished, "rendered while its level was still being sampled")
        }
        // Renders the same stretch of time at either level, and the whole line as a plain decode.
        let top = try PartialRender.decode(vqvae: vqvae, codes: result.codes[1], level: 1, range: 4..<12)
        let bottom = try PartialRender.decode(vqvae: vqvae, codes: result.codes[0], level: 0, range: 8..<24)
        XCTAssertEqual(top.shape, bottom.shape)
        XCTAssertEqual(PartialRender.audioSpan(vqvae: vqvae, level: 1, range: 4..<12),
                       PartialRender.audioSpan(vqvae: vqvae, level: 0, range: 8..<24))
        let whole = try vqvae.decode(result.codes[0], level: 0)
        let all = try PartialRender.decode(vqvae: vqvae, codes: result.codes[0], level: 0, range: 0..<48)
        assertClose(all, whole, tol: 0, "whole-line partial render")
    }

    func testRejectsSpansOutsideTheSampledCodes() throws {
        let codes = try LevelCodes(n: 1, t: 4, values: [1, 2, 3, 4])
        XCTAssertThrowsError(try PartialRender.decode(vqvae: models.vqvae, codes: codes, level: 1, range: 2..<5))
        XCTAssertThrowsError(try PartialRender.decode(vqvae: models.vqvae, codes: codes, level: 1, range: 2..<2))
        XCTAssertThrowsError(try PartialRender.decode(vqvae: models.vqvae, codes: codes, level: 2, range: 0..<2))
        XCTAssertEqual(try PartialRender.decode(vqvae: models.vqvae, codes: codes, level: 1, range: 1..<3).shape, [1, 8, 1])
    }

    func testSampledCodesKeepOnlyTheGaplessPrefix() throws {
        var buffer = SampledCodes(levels: 2, samples: 2)
        try buffer.seed(level: 1, codes: LevelCodes(n: 1, t: 2, values: [5, 6]))
        buffer.record(.tokensSampled(level: 1, samples: 0..<2, positions: 2..<3, values: [7, 8]))
        buffer.record(.tokensSampled(level: 1, samples: 0..<2, positions: 4..<5, values: [1, 1]))
        XCTAssertEqual(buffer.finished(level: 1), 3)
        XCTAssertEqual(buffer.codes(level: 1), try LevelCodes(n: 2, t: 3, values: [5, 6, 7, 5, 6, 8]))
        XCTAssertEqual(buffer.codes(level: 0).t, 0)
    }
}
