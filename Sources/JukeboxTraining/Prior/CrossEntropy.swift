import Foundation
import JukeboxCore

/// Cross-entropy in bits, as the reference's F.cross_entropy(...) / log(2), with its gradient.
enum CrossEntropy {
    /// −log2 softmax(row)[target] in double precision; writes weight·(softmax − onehot)/ln 2 into dRow
    /// (the gradient of weight·bits).
    static func bits(_ row: UnsafePointer<Float>, count v: Int, target: Int, weight: Double,
                     dRow: UnsafeMutablePointer<Float>) -> Double {
        var m = -Double.infinity
        for j in 0..<v { m = max(m, Double(row[j])) }
        var s = 0.0
        for j in 0..<v { s += exp(Double(row[j]) - m) }
        let lse = m + log(s)
        let coef = weight / M_LN2
        for j in 0..<v { dRow[j] = Float(coef * exp(Double(row[j]) - lse)) }
        dRow[target] -= Float(coef)
        return (lse - Double(row[target])) / M_LN2
    }
}
