import CKernels
import Dispatch
import XCTest
@testable import JukeboxCore

/// What a sampling step's products do to their outputs on the kernels' threads (the MLP's activation, the
/// residual additions, the next weights asked for), and the pool those threads make.
final class ProductEpilogueTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64, std: Double = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let t = Tensor(zeros: shape)
        rng.fill(t.data, t.count, std: std)
        return t
    }

    /// The vector activation against y·σ(1.702·y) in float64, from deep in either tail (where exp under- or
    /// overflows) through zero, at lengths that do and do not fill its 16-wide steps.
    func testQuickGeluIsTheActivationToAFewUnitsInTheLastPlace() {
        var values: [Float] = [0, -0, 1e-30, -1e-30, 1e-6, -1e-6, 60, -60, 90, -90, 200, -200]
        for i in -4000...4000 { values.append(Float(i) / 100) }
        for n in [values.count, 1, 15, 17] {
            var y = Array(values.prefix(n))
            y.withUnsafeMutableBufferPointer { jk_quick_gelu($0.baseAddress, Int32(n)) }
            for (v, got) in zip(values.prefix(n), y) {
                // Against the exact activation of the float32 argument −1.702·v both implementations form
                // (its rounding alone moves e^(1.702·40) by 4e-6).
                let want = Double(v) / (1 + exp(Double(Float(-1.702) * v)))
                XCTAssertEqual(Double(got), want, accuracy: 4e-7 * max(abs(want), 1e-30) + 1e-37, "quick_gelu(\(v))")
            }
        }
    }

    /// Every packed format, on one thread (small) and split over the pool (large, outputs that fill no whole
    /// chunk), at batches 1 and 3: the activation done by the product equals the product then the activation
    /// (to the vector exp's last bits), the residual addition is exactly the product added afterwards, and
    /// naming the next weight changes nothing but when it is read.
    func testEpiloguesGiveWhatTheSeparateStepsGive() {
        for (nIn, nOut) in [(40, 24), (300, 1000), (1920 / 4, 130)] {
            let w = random([nIn, nOut], seed: UInt64(nIn + nOut), std: 0.05)
            let b = random([nOut], seed: 9, std: 0.1)
            for format in WeightFormat.allCases where format != .f32 {
                let packed = PackedMatrix.pack(w, format: format)
                for matrix in [packed, packed.tiledForSampling()] {
                    let layer = LinearWeight(packed: matrix, b: b)
                    let next = LinearWeight(packed: PackedMatrix.pack(random([nOut, nIn], seed: 4, std: 0.05), format: format), b: nil)
                    for rows in [1, 3] {
                        let x = random([rows, nIn], seed: UInt64(rows))
                        let plain = Tensor(zeros: [rows, nOut])
                        layer.apply(x.data, rows: rows, plain.data)

                        let activated = Tensor(zeros: [rows, nOut])
                        layer.apply(x.data, rows: rows, activated.data, then: .quickGelu, next: next)
                        for i in 0..<plain.count {
                            let v = Double(plain[i]), want = v / (1 + exp(Double(Float(-1.702) * plain[i])))
                            XCTAssertEqual(Double(activated[i]), want, accuracy: 1e-6 * max(abs(want), 1e-3),
                                           "\(format) \(nIn)×\(nOut) rows \(rows) output \(i)")
                        }

                        let residual = random([rows, nOut], seed: 77)
                        let before = residual.toArray()
                        let out = Tensor(zeros: [rows, nOut])
                        layer.apply(x.data, rows: rows, out.data, then: .add(into: residual.data), next: next)
                        XCTAssertEqual(out.toArray(), plain.toArray(), "\(format) \(nIn)×\(nOut) rows \(rows): the outputs themselves")
                        XCTAssertEqual(residual.toArray(), zip(before, plain.toArray()).map { $0 + $1 },
                                       "\(format) \(nIn)×\(nOut) rows \(rows): the residual plus the outputs")
                    }
                }
            }
        }
    }

    /// Float32 weights in the checkpoint's layout: one to four rows through the rows kernel (split by inputs over
    /// the pool, every weight read once for the batch; OpenBLAS's sgemv and sgemm without AVX-512), more through
    /// sgemm. Each gives the float64
    /// product, for shapes that fill no whole block of 16 inputs or 64 outputs, with the epilogues as above.
    func testFloatWeightsGiveTheProductAndTheEpilogueAtEveryBatch() {
        for (nIn, nOut) in [(64, 48), (37, 150), (300, 200), (1920 / 4, 70)] {
            let w = random([nIn, nOut], seed: UInt64(nIn * 3 + nOut), std: 0.1), b = random([nOut], seed: 2)
            let layer = LinearWeight(w: w, b: b)
            for rows in [1, 2, 3, 5, 16, 17] {
                let x = random([rows, nIn], seed: UInt64(rows))
                let plain = Tensor(zeros: [rows, nOut])
                layer.apply(x.data, rows: rows, plain.data)
                for r in 0..<rows {
                    for j in 0..<nOut {
                        var sum = Double(b[j])
                        for i in 0..<nIn { sum += Double(x[r * nIn + i]) * Double(w[i * nOut + j]) }
                        XCTAssertEqual(Double(plain[r * nOut + j]), sum, accuracy: 1e-5 * max(1, abs(sum)),
                                       "\(nIn)×\(nOut) rows \(rows) output \(r),\(j)")
                    }
                }
                let activated = Tensor(zeros: [rows, nOut])
                layer.apply(x.data, rows: rows, activated.data, then: .quickGelu)
                for i in 0..<plain.count {
                    let want = Double(plain[i]) / (1 + exp(Double(Float(-1.702) * plain[i])))
                    XCTAssertEqual(Double(activated[i]), want, accuracy: 1e-6 * max(abs(want), 1e-3), "\(nIn)×\(nOut) rows \(rows)")
                }
                let residual = random([rows, nOut], seed: 4), before = residual.toArray(), out = Tensor(zeros: [rows, nOut])
                layer.apply(x.data, rows: rows, out.data, then: .add(into: residual.data))
                XCTAssertEqual(out.toArray(), plain.toArray(), "\(nIn)×\(nOut) rows \(rows): the outputs themselves")
                XCTAssertEqual(residual.toArray(), zip(before, plain.toArray()).map { $0 + $1 }, "\(nIn)×\(nOut) rows \(rows)")
            }
        }
    }

    /// A product large enough for the pool splits its outputs between the threads (each claims its own run
    /// of sixteen outputs at a time, then takes the back half of what another has left): every output is
    /// written, with the very sums one thread alone computes (the product run inside a loop's job), however
    /// the threads happened to split it; outputs that fill no whole sixteen and no whole four included.
    func testAProductSplitOverThePoolIsTheProductOfOneThread() {
        for (nIn, nOut) in [(1024, 16 * 37 + 5), (512, 2048 + 2), (96, 1000)] {
            let w = random([nIn, nOut], seed: UInt64(nIn + nOut), std: 0.05)
            for format in [WeightFormat.f16, .bf16, .q8, .q4] {
                let packed = PackedMatrix.pack(w, format: format)
                for matrix in [packed, packed.tiledForSampling()] {
                    XCTAssertGreaterThanOrEqual(nIn * nOut, Int(JK_SERIAL_WEIGHTS), "large enough to split")
                    let layer = LinearWeight(packed: matrix, b: nil)
                    for rows in [1, 3] {
                        let x = random([rows, nIn], seed: 7)
                        let alone = Tensor(zeros: [rows, nOut])
                        stepParallelFor(2) { r in if r.contains(0) { layer.apply(x.data, rows: rows, alone.data) } }
                        for trial in 0..<10 {
                            let y = Tensor(zeros: [rows, nOut])
                            y.data.update(repeating: .nan, count: y.count)
                            layer.apply(x.data, rows: rows, y.data)
                            let differing = zip(y.toArray(), alone.toArray()).filter { !($0 == $1) }.count
                            XCTAssertEqual(differing, 0, "\(format) \(matrix.tiled ? "tiled " : "")\(nIn)×\(nOut) rows \(rows), trial \(trial): outputs unlike one thread's")
                        }
                    }
                }
            }
        }
    }

    /// stepParallelFor runs on the kernels' pool when it is free; a loop or a product started from inside one
    /// of its jobs runs on that thread (it once would have waited for the pool forever), and callers on many
    /// threads at once (the pool busy: they fall back to Dispatch) each get every index exactly once.
    func testLoopsAndProductsNestAndRunFromManyThreads() {
        let w = random([256, 256], seed: 5, std: 0.05)
        let layer = LinearWeight(packed: PackedMatrix.pack(w, format: .q8), b: nil)
        let x = random([1, 256], seed: 6)
        let want = Tensor(zeros: [1, 256])
        layer.apply(x.data, rows: 1, want.data)
        // A float32 row is split by inputs over the pool; inside a job it runs whole on that thread.
        let dense = LinearWeight(w: w, b: nil)
        let wantDense = Tensor(zeros: [1, 256])
        dense.apply(x.data, rows: 1, wantDense.data)
        var denseProducts = [[Float]](repeating: [], count: 8)

        let outer = 8, inner = 1000
        var counts = [Int](repeating: 0, count: outer * inner)
        var products = [[Float]](repeating: [], count: outer)
        let lock = NSLock()
        counts.withUnsafeMutableBufferPointer { c in
            stepParallelFor(outer) { range in
                for o in range {
                    stepParallelFor(inner) { r in for i in r { c[o * inner + i] += 1 } }
                    let y = Tensor(zeros: [1, 256])
                    layer.apply(x.data, rows: 1, y.data)
                    let yd = Tensor(zeros: [1, 256])
                    dense.apply(x.data, rows: 1, yd.data)
                    lock.lock(); products[o] = y.toArray(); denseProducts[o] = yd.toArray(); lock.unlock()
                }
            }
        }
        XCTAssertEqual(counts, [Int](repeating: 1, count: outer * inner), "nested: every index once")
        for p in products { XCTAssertEqual(p, want.toArray(), "a product inside a loop's job") }
        for p in denseProducts {
            XCTAssertEqual(p.count, 256)
            for (a, b) in zip(p, wantDense.toArray()) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "a float32 row inside a loop's job") }
        }

        let callers = 6
        var totals = [Int](repeating: 0, count: callers)
        totals.withUnsafeMutableBufferPointer { t in
            DispatchQueue.concurrentPerform(iterations: callers) { k in
                var seen = [Int](repeating: 0, count: 5000)
                seen.withUnsafeMutableBufferPointer { s in
                    for _ in 0..<20 { stepParallelFor(5000) { r in for i in r { s[i] += 1 } } }
                }
                t[k] = seen.allSatisfy { $0 == 20 } ? 1 : 0
            }
        }
        XCTAssertEqual(totals, [Int](repeating: 1, count: callers), "callers at once: every index of each, every time")
    }
}
