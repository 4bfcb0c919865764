import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxTraining

/// Softmax regression over standardised audio features: small enough to train in a second on the
/// corpus, and a fair judge of whether a genre can be heard in a clip.
public struct GenreClassifier: Sendable {
    public let genres: [String]
    let mean: [Float], scale: [Float]
    /// One row per genre: a weight per feature, then the bias.
    let weights: [[Float]]

    /// Full-batch gradient descent on cross-entropy with an L2 penalty; deterministic.
    public static func train(features: [[Float]], labels: [Int], genres: [String],
                             l2: Float = 1e-3, steps: Int = 600, rate: Float = 0.5) -> GenreClassifier {
        invariant(!features.isEmpty && features.count == labels.count)
        let d = features[0].count, n = features.count, k = genres.count
        var mean = [Float](repeating: 0, count: d), scale = [Float](repeating: 0, count: d)
        for x in features { for j in 0..<d { mean[j] += x[j] / Float(n) } }
        for x in features { for j in 0..<d { scale[j] += (x[j] - mean[j]) * (x[j] - mean[j]) / Float(n) } }
        scale = scale.map { $0 > 1e-12 ? 1 / $0.squareRoot() : 0 }
        let z = features.map { x in (0..<d).map { (x[$0] - mean[$0]) * scale[$0] } + [1] }
        var w = [[Float]](repeating: [Float](repeating: 0, count: d + 1), count: k)
        for _ in 0..<steps {
            var grad = [[Float]](repeating: [Float](repeating: 0, count: d + 1), count: k)
            for (x, y) in zip(z, labels) {
                let p = softmax(w.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } })
                for c in 0..<k {
                    let g = (p[c] - (c == y ? 1 : 0)) / Float(n)
                    for j in 0...d { grad[c][j] += g * x[j] }
                }
            }
            for c in 0..<k { for j in 0...d { w[c][j] -= rate * (grad[c][j] + (j < d ? l2 * w[c][j] : 0)) } }
        }
        return GenreClassifier(genres: genres, mean: mean, scale: scale, weights: w)
    }

    /// Log-probability of each genre for one feature vector.
    public func logProbabilities(_ features: [Float]) -> [Float] {
        let x = (0..<mean.count).map { (features[$0] - mean[$0]) * scale[$0] } + [1]
        return Self.softmax(weights.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }).map { log(max($0, 1e-30)) }
    }

    /// The genre of a clip given the features of its segments (their log-probabilities summed).
    public func classify(segments: [[Float]]) -> Int {
        var total = [Float](repeating: 0, count: genres.count)
        for s in segments { for (c, lp) in logProbabilities(s).enumerated() { total[c] += lp } }
        return total.indices.max { total[$0] < total[$1] } ?? 0
    }

    static func softmax(_ logits: [Float]) -> [Float] {
        let m = logits.max() ?? 0
        let e = logits.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

/// Counts of (true genre, predicted genre); rows are the truth.
public struct ConfusionMatrix: Sendable, Encodable {
    public let labels: [String]
    public private(set) var counts: [[Int]]

    public init(labels: [String]) {
        self.labels = labels
        counts = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
    }

    public mutating func add(truth: Int, predicted: Int) { counts[truth][predicted] += 1 }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Clips named as their own genre (the diagonal).
    public var correct: Int { labels.indices.reduce(0) { $0 + counts[$1][$1] } }
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
    /// The accuracy's 95 % interval (Wilson's score interval): what the count alone can tell.
    public var interval95: (lower: Double, upper: Double) { GenreReport.wilson(correct: correct, of: total) }

    /// A plain-text table, truth down the side, predictions across.
    public func table() -> String {
        let width = max(labels.map(\.count).max() ?? 0, 5)
        func cell(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var lines = [cell("") + " | " + labels.map(cell).joined(separator: " ")]
        for (i, label) in labels.enumerated() {
            lines.append(cell(label) + " | " + counts[i].map { cell($0 == 0 ? "." : "\($0)") }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}
