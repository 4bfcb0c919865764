import Foundation
import JukeboxCore

/// Gradients of a model's parameters, keyed by the parameter tensor itself (its storage): backward code
/// adds into "the gradient of this weight" and never spells a key; names come from the table that built
/// the model (`named(_:)`). Parameters that share storage (x_out tied to x_emb) share one gradient, as
/// torch accumulates a tied parameter's gradient once.
public final class Gradients: @unchecked Sendable {
    private var byStorage: [ObjectIdentifier: Tensor] = [:]

    public init() {}

    /// The gradient buffer of parameter `p` (zeros the first time it is asked for). Call from one thread.
    func of(_ p: Tensor) -> UnsafeMutablePointer<Float> {
        let id = ObjectIdentifier(p.storage)
        if let g = byStorage[id] { return g.data }
        let g = Tensor(zeros: p.shape)
        byStorage[id] = g
        return g.data
    }

    /// The gradient of `p`, or nil when nothing reached it.
    public func gradient(of p: Tensor) -> Tensor? { byStorage[ObjectIdentifier(p.storage)] }

    /// Gradients under the parameters' names: each name of `parameters` whose tensor received a gradient,
    /// with tied parameters named once (the first name in `parameters`' order, as torch's named_parameters).
    public func named(_ parameters: [(key: String, tensor: Tensor)]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        var seen = Set<ObjectIdentifier>()
        for (key, t) in parameters {
            let id = ObjectIdentifier(t.storage)
            guard !seen.contains(id) else { continue }
            seen.insert(id)
            if let g = byStorage[id] { out[key] = g }
        }
        return out
    }

    /// Sets every gradient to zero (keeps the buffers).
    public func zero() {
        for g in byStorage.values { g.data.update(repeating: 0, count: g.count) }
    }
}
