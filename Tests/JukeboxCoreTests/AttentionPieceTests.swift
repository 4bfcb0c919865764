import CKernels
import XCTest
@testable import JukeboxCore

/// One piece of a query's attention (`jk_attend_piece_*`) against its definition in float64, over key
/// counts and head widths that do and do not fill the kernel's 16-wide steps, its four keys at a time and
/// its 128-wide blocks of outputs.
final class AttentionPieceTests: XCTestCase {
    func testPiecesAreTheirDefinitionForEveryShape() {
        var rng = SeededGenerator(seed: 5)
        for dh in [1, 7, 16, 33, 128, 150, 256, 300] {
            for nk in [0, 1, 3, 4, 5, 17, Int(JK_PIECE_KEYS)] {
                let stride = dh + 3   // rows apart, as a cache row holds every head
                var q = [Float](repeating: 0, count: dh), k = [Float](repeating: 0, count: max(1, nk * stride))
                var v = k
                for i in 0..<dh { q[i] = Float(rng.nextNormal()) }
                for i in 0..<k.count { k[i] = Float(rng.nextNormal()); v[i] = Float(rng.nextNormal()) }
                // binary16 rows hold the same values the float32 ones are rounded to.
                var kh = k.map { jk_f32_to_f16($0) }, vh = v.map { jk_f32_to_f16($0) }
                for i in 0..<k.count { k[i] = jk_f16_to_f32(kh[i]); v[i] = jk_f16_to_f32(vh[i]) }
                let scale: Float = 0.3
                var scores = (0..<nk).map { j in (0..<dh).reduce(0.0) { $0 + Double(q[$1]) * Double(k[j * stride + $1]) } * Double(scale) }
                let m = scores.max() ?? -.infinity
                scores = scores.map { exp($0 - m) }
                let sum = scores.reduce(0, +)
                let o = (0..<dh).map { i in (0..<nk).reduce(0.0) { $0 + scores[$1] * Double(v[$1 * stride + i]) } }
                for half in [false, true] {
                    var got = [Float](repeating: .nan, count: dh), gm: Float = 0, gs: Float = 0
                    if half {
                        jk_attend_piece_half(q, &kh, &vh, Int32(stride), Int32(nk), Int32(dh), scale, &got, &gm, &gs)
                    } else {
                        jk_attend_piece_f32(q, k, v, Int32(stride), Int32(nk), Int32(dh), scale, &got, &gm, &gs)
                    }
                    let what = "dh \(dh), \(nk) keys, \(half ? "binary16" : "float32")"
                    if nk > 0 { XCTAssertEqual(Double(gm), m, accuracy: 1e-4 * max(1, abs(m)), what) }
                    XCTAssertEqual(Double(gs), sum, accuracy: 1e-4 * max(1, sum), what)
                    let scaleOf = max(1, o.map(abs).max() ?? 1)
                    let worst = zip(got, o).map { abs(Double($0) - $1) }.max() ?? 0
                    XCTAssertLessThan(worst, 1e-4 * scaleOf, "\(what): outputs")
                }
            }
        }
    }
}
