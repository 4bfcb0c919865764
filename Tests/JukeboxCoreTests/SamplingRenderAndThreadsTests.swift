import Foundation
import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

final class SamplingRenderAndThreadsTests: XCTestCase {
    func tinySet() throws -> (ModelSet, GenerationPrompt) {
        try tinyModelSet(self, setSeed: 8, artist: RandomModelSet.artists[2], genre: "jazz", lyrics: "blue notes",
                         totalSeconds: 20, sampleLength: 128 * 48, seed: 21, samples: 2, chunkSize: 8)
    }

    /// Every finished window is heard while sampling goes on: audio chunks per level that cover the
    /// request and equal decoding the final codes of the same span.
    func testAudioChunksArriveWhileSamplingAndMatchTheFinalCodes() throws {
        var (set, prompt) = try tinySet()
        prompt.renderWhileSampling = true
        var chunks: [(level: Int, samples: Range<Int>, audio: [[Float]])] = []
        var finishedLevels: [Int] = []
        var chunksBeforeLastLevelFinished = 0
        let result = try Generator(models: set).generate(prompt, mode: .ancestral(lowestLevel: 0)) { e in
            switch e {
            case let .audioDecoded(level, samples, audio):
                chunks.append((level, samples, audio))
                if !finishedLevels.contains(0) { chunksBeforeLastLevelFinished += 1 }
            case let .levelFinished(level): finishedLevels.append(level)
            default: break
            }
        }
        XCTAssertEqual(chunksBeforeLastLevelFinished, chunks.count, "chunks arrive during sampling, not after")
        for level in 0..<3 {
            let mine = chunks.filter { $0.level == level }
            XCTAssertFalse(mine.isEmpty, "level \(level) was rendered as it went")
            XCTAssertEqual(mine.map(\.samples.lowerBound).min(), 0)
            XCTAssertEqual(mine.map(\.samples.upperBound).max(), prompt.sampleLength)
            for c in mine {
                XCTAssertEqual(c.audio.count, 2)
                XCTAssertTrue(c.audio.allSatisfy { $0.count == c.samples.count })
            }
            let last = try XCTUnwrap(mine.last)
            let hop = set.vqvae.hopLengths[level]
            let reference = try PartialRender.decode(vqvae: set.vqvae, codes: result.codes[level], level: level,
                                                     range: (last.samples.lowerBound / hop)..<(last.samples.upperBound / hop))
            let t = reference.shape[1]
            XCTAssertEqual(Array(UnsafeBufferPointer(start: reference.data + t, count: t)), last.audio[1])
        }
    }

    /// The same codes with one BLAS thread as with two.
    func testSameCodesWhateverTheThreadCount() throws {
        let (set, prompt) = try tinySet()
        defer { BLAS.setThreads(ProcessInfoCache.cores) }
        BLAS.setThreads(1)
        let one = try Generator(models: set).generate(prompt, mode: .ancestral(lowestLevel: 0))
        BLAS.setThreads(2)
        let two = try Generator(models: set).generate(prompt, mode: .ancestral(lowestLevel: 0))
        XCTAssertEqual(one.codes, two.codes)
    }
}
