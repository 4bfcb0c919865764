import XCTest
@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining

/// Central finite differences of a scalar loss along one random unit direction per tensor, against the
/// gradient's projection on it, relative to the gradient's norm: a wrong gradient misses by about
/// ‖g‖/√n along a random direction (n ≤ a few thousand here), far above the tolerance.
enum GradCheck {
    static func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, std: Double = 1) -> Tensor {
        let t = Tensor(zeros: shape)
        rng.fill(t.data, t.count, std: std)
        return t
    }

    /// Σ r·y in double (the projection loss whose gradient with respect to y is r).
    static func project(_ y: Tensor, _ r: Tensor) -> Double {
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
        return s
    }

    @discardableResult
    static func check(_ tensors: [(key: String, tensor: Tensor)], gradient: (String) -> Tensor?, seed: UInt64,
                      h: Float = 1e-3, tolerance: Double = 2e-3, floor: Double = 3e-2, label: String,
                      loss: () throws -> Double, file: StaticString = #filePath, line: UInt = #line) rethrows -> Double {
        var rng = SeededGenerator(seed: seed)
        var worst = 0.0, worstKey = ""
        for (key, t) in tensors {
            let u = randomTensor(t.shape, &rng)
            var norm: Float = 0
            for i in 0..<u.count { norm += u.data[i] * u.data[i] }
            for i in 0..<u.count { u.data[i] /= norm.squareRoot() }
            let saved = t.copy()
            // A ReLU kink crossed inside ±h bends a difference quotient, and float32 rounding blurs a small
            // step's quotient more than a large one's; of five steps (h/4 … 4h) the best is kept (a wrong
            // gradient misses with all of them).
            var quotients: [Double] = []
            for step in [h / 4, h / 2, h, 2 * h, 4 * h] {
                for i in 0..<t.count { t.data[i] = saved.data[i] + step * u.data[i] }
                let plus = try loss()
                for i in 0..<t.count { t.data[i] = saved.data[i] - step * u.data[i] }
                let minus = try loss()
                quotients.append((plus - minus) / (2 * Double(step)))
            }
            t.data.update(from: saved.data, count: t.count)
            var projected = 0.0, gNorm = 0.0
            if let g = gradient(key) {
                // The floor absorbs the float32 forward's rounding in the difference quotient.
                XCTAssertEqual(g.shape, t.shape, "\(label) \(key): gradient shape", file: file, line: line)
                for i in 0..<g.count { projected += Double(g.data[i]) * Double(u.data[i]); gNorm += Double(g.data[i] * g.data[i]) }
            }
            // A loss may return NaN for a step that crossed a kink it can see (a ReLU input changed sign).
            let valid = quotients.filter { $0.isFinite }
            guard !valid.isEmpty else {
                XCTFail("\(label) \(key): every step crossed a kink", file: file, line: line)
                continue
            }
            let (err, fd) = valid.map { (abs($0 - projected) / (gNorm.squareRoot() + floor), $0) }.min { $0.0 < $1.0 }!
            if err > worst { (worst, worstKey) = (err, key) }
            XCTAssertLessThanOrEqual(err, tolerance, "\(label) \(key): finite difference \(fd), gradient·u \(projected), ‖g‖ \(gNorm.squareRoot())",
                                     file: file, line: line)
        }
        print("grad check \(label): \(tensors.count) tensors, worst error \(worst) (\(worstKey))")
        return worst
    }
}
