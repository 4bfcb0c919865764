import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Window plans worked by hand from the reference's get_starts / sample_single_window / get_z_conds rules.
final class SamplingWindowPlanTests: XCTestCase {
    func testStartsHopAndPullTheLastWindowBack() {
        XCTAssertEqual(WindowPlan.starts(totalLength: 2048, nCtx: 1024, hopLength: 512), [0, 512, 1024])
        // range(0, 1500 − 1024 + 512, 512) = 0, 512; 512 + 1024 ≥ 1500 → 1500 − 1024.
        XCTAssertEqual(WindowPlan.starts(totalLength: 1500, nCtx: 1024, hopLength: 512), [0, 476])
        XCTAssertEqual(WindowPlan.starts(totalLength: 1024, nCtx: 1024, hopLength: 512), [0])
        XCTAssertEqual(WindowPlan.starts(totalLength: 700, nCtx: 1024, hopLength: 512), [0])
        XCTAssertEqual(WindowPlan.starts(totalLength: 1100, nCtx: 1024, hopLength: 512), [0, 76])
        // The top level's hop_fraction 0.125 of 8192.
        let hop = try! WindowPlan.hopLength(hopFraction: 0.125, nCtx: 8192)
        XCTAssertEqual(hop, 1024)
        XCTAssertEqual(WindowPlan.starts(totalLength: 10000, nCtx: 8192, hopLength: hop), [0, 1024, 1808])
        XCTAssertEqual(WindowPlan.defaultHopFraction, [0.5, 0.5, 0.125])
    }

    func testExistingTokensAreContextAndNeverResampled() throws {
        let plan = try WindowPlan(level: 0, nCtx: 1024, hopFraction: 0.5, totalTokens: 2048, existingTokens: 600,
                                  rawToTokens: 8, condDownsample: 4)
        XCTAssertEqual(plan.hopLength, 512)
        XCTAssertEqual(plan.windows.map(\.start), [0, 512, 1024])
        XCTAssertEqual(plan.windows.map(\.existing), [600, 512, 512])
        XCTAssertEqual(plan.windows.map(\.toSample), [424, 512, 512])
        XCTAssertEqual(plan.tokensToSample, 2048 - 600)
        XCTAssertEqual(plan.windows.map(\.conditioning), [0..<256, 128..<384, 256..<512])
        XCTAssertEqual(plan.windows.map(\.labelOffset), [0, 4096, 8192])

        // Everything already there: nothing to sample.
        let full = try WindowPlan(level: 2, nCtx: 1024, hopFraction: 0.125, totalTokens: 1500, existingTokens: 1500,
                                  rawToTokens: 128, condDownsample: nil)
        XCTAssertEqual(full.tokensToSample, 0)
        XCTAssertNil(full.windows[0].conditioning)
    }

    func testShortLevelIsOnePartialWindow() throws {
        let plan = try WindowPlan(level: 2, nCtx: 1024, hopFraction: 0.125, totalTokens: 300, existingTokens: 100,
                                  rawToTokens: 128, condDownsample: nil)
        XCTAssertEqual(plan.windows.count, 1)
        XCTAssertEqual(plan.windows[0].length, 300)
        XCTAssertEqual(plan.windows[0].existing, 100)
        XCTAssertEqual(plan.windows[0].toSample, 200)
    }

    func testBadPlansAreOneLineErrors() {
        XCTAssertThrowsError(try WindowPlan.hopLength(hopFraction: 0, nCtx: 16))
        XCTAssertThrowsError(try WindowPlan.hopLength(hopFraction: 1.5, nCtx: 16))
        // An upsampler cannot condition a window shorter than n_ctx (get_z_conds asserts a full span).
        XCTAssertThrowsError(try WindowPlan(level: 0, nCtx: 16, hopFraction: 0.5, totalTokens: 8, existingTokens: 0,
                                            rawToTokens: 2, condDownsample: 2))
        // A pulled-back start off the level above's grid.
        XCTAssertThrowsError(try WindowPlan(level: 0, nCtx: 16, hopFraction: 0.5, totalTokens: 27, existingTokens: 0,
                                            rawToTokens: 2, condDownsample: 2)) { error in
            XCTAssertTrue("\(error)".contains("cond_downsample"), "\(error)")
        }
        XCTAssertThrowsError(try WindowPlan(level: 1, nCtx: 16, hopFraction: 0.5, totalTokens: 0, existingTokens: 0,
                                            rawToTokens: 2, condDownsample: nil))
    }
}
