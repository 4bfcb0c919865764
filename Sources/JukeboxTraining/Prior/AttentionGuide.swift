import Foundation
import JukeboxCore

/// Teaches one head of one lyric-reading layer to look at the character being sung: for each code whose time
/// falls in a sung word, the head's weights are pulled toward that character's key by cross-entropy, `weight`
/// times the mean over the guided codes, added to the prior's loss. Where the corpus knows its word times this
/// turns the head into the alignment the reference's priors grew on their own at a scale ours lack.
public struct AlignmentGuidance: Sendable, Equatable {
    public let layer: Int, head: Int
    public let weight: Double

    public init(layer: Int, head: Int, weight: Double) throws {
        guard weight > 0, weight.isFinite else { throw JukeboxError("--align-weight", "\(weight) must be a positive number") }
        (self.layer, self.head, self.weight) = (layer, head, weight)
    }

    /// Checks the layer sees the lyrics and the head exists.
    public func check(_ prior: Prior) throws {
        guard prior.lyricLayers.contains(layer) else {
            throw JukeboxError("--align-layer", "layer \(layer) does not attend to the lyrics; these do: \(prior.lyricLayers.map(String.init).joined(separator: ", "))")
        }
        let heads = prior.prior.transformer.config.heads
        guard (0..<heads).contains(head) else { throw JukeboxError("--align-head", "is \(head); the prior has heads 0..<\(heads)") }
    }
}

/// One batch's guidance as the attention backward reads it: per query row of the whole sequence, the key it
/// should attend to (−1: none), and the loss gathered while the gradient is made.
final class AttentionGuide: @unchecked Sendable {
    let layer: Int, head: Int
    /// weight / guided rows: each guided row's share.
    let rowWeight: Float
    /// [batch × sequence length] key positions.
    let targets: [Int]
    private let lock = NSLock()
    private(set) var bits = 0.0
    let rows: Int

    init(_ g: AlignmentGuidance, targets: [Int]) {
        (layer, head, self.targets) = (g.layer, g.head, targets)
        rows = targets.filter { $0 >= 0 }.count
        rowWeight = rows == 0 ? 0 : Float(g.weight / Double(rows))
    }

    func add(bits b: Double) { lock.lock(); bits += b; lock.unlock() }

    /// Mean bits (−log2 of the weight on the target) over the guided rows.
    var meanBits: Double { rows == 0 ? 0 : bits / Double(rows) }
}
