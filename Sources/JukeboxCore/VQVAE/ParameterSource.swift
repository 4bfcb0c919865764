import Foundation

/// How a freshly made (random) parameter is filled. Loading from a checkpoint ignores it.
public enum ParameterInit: Sendable {
    /// Uniform in ±1/√fanIn, torch's default for convolutions and their biases.
    case uniform(fanIn: Int)
    case normal(std: Float)
    case ones
    case zeros
}

/// Where layers get their parameters from. Each layer type names its own sub-keys (the reference's
/// module names) in exactly one place, its initialiser; loading a checkpoint, listing every key and
/// shape, and making random weights all run that same code, so the three can never disagree.
public protocol ParameterSource {
    func parameter(_ name: String, _ shape: [Int], _ initial: ParameterInit) throws -> Tensor
    func scope(_ name: String) -> Self
}

/// Loading from a checkpoint: strict, shape-checked through the WeightStore.
extension WeightScope: ParameterSource {
    public func parameter(_ name: String, _ shape: [Int], _ initial: ParameterInit) throws -> Tensor {
        try take(name, shape)
    }
}

/// Records every parameter a model asks for, in order, and fills it from a seeded generator.
/// Used for parameter tables, random models in tests and benchmarks, and parameter counts.
public struct ParameterRecorder: ParameterSource {
    final class Log {
        var entries: [(key: String, tensor: Tensor)] = []
        var rng: SeededGenerator
        let fill: Bool
        init(seed: UInt64, fill: Bool) {
            rng = SeededGenerator(seed: seed)
            self.fill = fill
        }
    }

    let log: Log
    public let prefix: String

    /// `fill: false` leaves every tensor zero (enough for listing shapes).
    public init(seed: UInt64 = 0, fill: Bool = true, prefix: String = "") {
        log = Log(seed: seed, fill: fill)
        self.prefix = prefix
    }

    private init(log: Log, prefix: String) {
        self.log = log
        self.prefix = prefix
    }

    public func scope(_ name: String) -> ParameterRecorder {
        ParameterRecorder(log: log, prefix: prefix.isEmpty ? name : prefix + "." + name)
    }

    public func parameter(_ name: String, _ shape: [Int], _ initial: ParameterInit) throws -> Tensor {
        if let bad = shape.first(where: { $0 <= 0 }) {
            throw JukeboxError(prefix.isEmpty ? name : prefix + "." + name,
                               "parameter shape \(shape) has a non-positive dimension \(bad)")
        }
        let t = Tensor(zeros: shape)
        if log.fill {
            let n = t.count
            switch initial {
            case .uniform(let fanIn):
                let bound = 1 / Float(max(fanIn, 1)).squareRoot()
                for i in 0..<n { t.data[i] = (log.rng.nextUnitFloat() * 2 - 1) * bound }
            case .normal(let std):
                for i in 0..<n { t.data[i] = log.rng.nextNormal() * std }
            case .ones:
                t.data.update(repeating: 1, count: n)
            case .zeros:
                break
            }
        }
        log.entries.append((prefix.isEmpty ? name : prefix + "." + name, t))
        return t
    }

    /// Every parameter asked for so far, in order.
    public var entries: [(key: String, tensor: Tensor)] { log.entries }
    public var shapes: [(key: String, shape: [Int])] { log.entries.map { ($0.key, $0.tensor.shape) } }
    public var parameterCount: Int { log.entries.reduce(0) { $0 + $1.tensor.count } }

    /// The recorded parameters as a safetensors file under their reference key names.
    public func writer() -> SafetensorsWriter {
        var w = SafetensorsWriter()
        for e in log.entries { w.add(e.key, e.tensor) }
        return w
    }
}
