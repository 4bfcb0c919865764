import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// The codebooks' EMA training rules (the reference's BottleneckBlock): initialisation from the data,
/// the running-mean update, revival of dead entries below the threshold, restore_k, the commitment loss
/// and the straight-through latents.
final class VQVAEBottleneckTrainingTests: XCTestCase {
    static func block(_ k: [[Float]], mu: Float, threshold: Float = 1) -> EMABottleneckBlock {
        let t = Tensor(shape: [k.count, k[0].count], values: k.flatMap { $0 })
        let b = EMABottleneckBlock(codebook: t, mu: mu, threshold: threshold, seed: 9)
        b.restore(numTokens: nil, threshold: threshold)     // k_sum = k, k_elem = 1
        return b
    }

    static func rows(_ r: [[Float]]) -> Tensor { Tensor(shape: [r.count, r[0].count], values: r.flatMap { $0 }) }

    static func row(_ t: Tensor, _ i: Int) -> [Float] { Array(UnsafeBufferPointer(start: t.data + i * t.shape[1], count: t.shape[1])) }

    func testInitialisationPicksDistinctLatentsOrTilesThemWithSmallNoise() {
        var rng = SeededGenerator(seed: 1)
        let many = GradCheck.randomTensor([20, 3], &rng)
        let b = EMABottleneckBlock(codebook: Tensor(zeros: [8, 3]), mu: 0.99, seed: 2)
        b.initialise(many)
        var picked = Set<Int>()
        for e in 0..<8 {
            let match = (0..<20).first { Self.row(many, $0) == Self.row(b.k, e) }
            XCTAssertNotNil(match, "entry \(e) is a latent of the batch")
            if let match { picked.insert(match) }
        }
        XCTAssertEqual(picked.count, 8, "entries are distinct latents (a permutation)")
        XCTAssertEqual(b.kElem, Array(repeating: 1, count: 8))
        XCTAssertEqual(Self.row(b.kSum, 3), Self.row(b.k, 3))

        // Fewer latents than entries: each latent repeated ⌈bins/d⌉ times plus noise of std 0.01/√width.
        let few = GradCheck.randomTensor([3, 4], &rng)
        let c = EMABottleneckBlock(codebook: Tensor(zeros: [8, 4]), mu: 0.99, seed: 3)
        c.initialise(few)
        var worst: Float = 0, smallest: Float = .infinity
        for e in 0..<8 {
            let distances = (0..<3).map { i in zip(Self.row(few, i), Self.row(c.k, e)).map { abs($0 - $1) }.max()! }
            worst = max(worst, distances.min()!)
            smallest = min(smallest, distances.min()!)
        }
        print("tiled initialisation: entries lie within \(worst) of a latent (noise std \(0.01 / 2))")
        XCTAssertLessThan(worst, 6 * 0.01 / 2)
        XCTAssertGreaterThan(smallest, 0, "noise was added")
    }

    /// mu 0.5, k = (0,0), (10,10), (−10,−10); latents (1,1), (−1,1) → entry 0, (9,11) → entry 1, none → entry 2.
    func testEMAUpdateAndRevivalByHand() {
        let b = Self.block([[0, 0], [10, 10], [-10, -10]], mu: 0.5)
        let x = Self.rows([[1, 1], [-1, 1], [9, 11]])
        let (codes, fit) = b.quantise(x)
        XCTAssertEqual(codes, [0, 0, 1])
        XCTAssertEqual(fit, (2.0 + 2 + 2) / 3, accuracy: 1e-5)
        let m = b.update(x, codes: codes)
        // k_elem = 0.5·1 + 0.5·count: 1.5, 1, 0.5; k_sum = 0.5·k_sum + 0.5·Σx
        XCTAssertEqual(b.kElem, [1.5, 1, 0.5])
        XCTAssertEqual(Self.row(b.kSum, 0), [0, 1])
        XCTAssertEqual(Self.row(b.kSum, 1), [9.5, 10.5])
        XCTAssertEqual(Self.row(b.k, 0)[0], 0)
        XCTAssertEqual(Self.row(b.k, 0)[1], 1 / 1.5, accuracy: 1e-7)
        XCTAssertEqual(Self.row(b.k, 1), [9.5, 10.5])
        // Entry 2's count 0.5 is below the threshold 1: it is revived as one of the batch's latents.
        XCTAssertTrue((0..<3).contains { Self.row(x, $0) == Self.row(b.k, 2) }, "revived entry \(Self.row(b.k, 2))")
        XCTAssertEqual(m.usage, 2)
        XCTAssertEqual(m.usedCurrent, 2)
        XCTAssertEqual(m.entropy, -(2.0 / 3 * log(2.0 / 3) + 1.0 / 3 * log(1.0 / 3)), accuracy: 1e-6)
    }

    /// An entry is dead only below the threshold: with threshold 0.4 the unused entry (count 0.5) keeps
    /// its running mean k_sum / k_elem; with threshold 1 it is replaced.
    func testRevivalFollowsTheThreshold() {
        let x = Self.rows([[1, 1], [-1, 1], [9, 11]])
        let lenient = Self.block([[0, 0], [10, 10], [-10, -10]], mu: 0.5, threshold: 0.4)
        let m = lenient.update(x, codes: lenient.quantise(x).codes)
        XCTAssertEqual(Self.row(lenient.k, 2), [-10, -10], "k_sum/k_elem = (−5, −5)/0.5")
        XCTAssertEqual(m.usage, 3)
        // Starved for several steps, an entry's count decays as μ^steps and it dies once below the threshold.
        let decaying = Self.block([[0, 0], [10, 10], [-10, -10]], mu: 0.8, threshold: 0.5)
        var revivedAt: Int? = nil
        for step in 1...6 where revivedAt == nil {
            _ = decaying.update(x, codes: decaying.quantise(x).codes)
            if (0..<3).contains(where: { Self.row(x, $0) == Self.row(decaying.k, 2) }) { revivedAt = step }
        }
        // 0.8^3 = 0.512 ≥ 0.5, 0.8^4 = 0.41 < 0.5
        XCTAssertEqual(revivedAt, 4)
    }

    func testRestoreCountsEachEntryAsExpectedUsage() {
        let b = Self.block([[1, 2], [3, 4]], mu: 0.9)
        b.restore(numTokens: 10, threshold: 2)
        XCTAssertEqual(b.kElem, [5, 5])
        XCTAssertEqual(Self.row(b.kSum, 1), [15, 20])
        XCTAssertEqual(b.threshold, 2)
    }

    /// The forward quantises with the old codebook, returns those entries as the decoder's input, and the
    /// commitment loss ‖x − x_d‖²/numel with gradient 2(x − x_d)/numel.
    func testForwardCommitLossAndStraightThroughLatents() {
        let b = Self.block([[0, 0], [10, 10], [-10, -10]], mu: 0.5)
        // x [N=1, C=2, T=3] holding the latents (1,1), (−1,1), (9,11) as columns
        let x = Tensor(shape: [1, 2, 3], values: [1, -1, 9, 1, 1, 11])
        let q = b.forward(x, updateCodebook: true)
        XCTAssertEqual(q.codes, [0, 0, 1])
        XCTAssertEqual(q.quantised.toArray(), [0, 0, 10, 0, 0, 10], "old entries, channel-major")
        XCTAssertEqual(q.commitLoss, (1.0 + 1 + 1 + 1 + 1 + 1) / 6, accuracy: 1e-7)
        XCTAssertEqual(q.dCommit.toArray(), [1, -1, -1, 1, 1, 1].map { Float($0) * 2 / 6 })
        XCTAssertEqual(Self.row(b.k, 1), [9.5, 10.5], "the codebook moved after quantising")
        // Without the update (evaluation) nothing changes.
        let before = b.k.toArray()
        _ = b.forward(x, updateCodebook: false)
        XCTAssertEqual(b.k.toArray(), before)
    }
}
