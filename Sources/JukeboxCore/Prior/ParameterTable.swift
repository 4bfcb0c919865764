import Foundation

/// One checkpoint tensor: its reference key, its shape, and how the reference initialises it
/// (used for random models in tests and benchmarks).
public struct ParameterSpec: Sendable, Equatable {
    public enum Initial: Sendable, Equatable {
        case normal(std: Double)
        case zeros
        case ones
        /// The same tensor as another key (x_out shares x_emb's weight); counted once.
        case sameAs(String)
    }

    public let key: String
    public let shape: [Int]
    public let initial: Initial

    public init(_ key: String, _ shape: [Int], _ initial: Initial) {
        self.key = key
        self.shape = shape
        self.initial = initial
    }

    public var count: Int { shape.reduce(1, *) }
}

/// A list of parameter specs under a key prefix, built by the layers that own them.
struct ParameterList {
    private(set) var specs: [ParameterSpec] = []
    let prefix: String

    init(prefix: String = "") { self.prefix = prefix }

    func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    mutating func add(_ name: String, _ shape: [Int], _ initial: ParameterSpec.Initial) {
        specs.append(ParameterSpec(key(name), shape, initial))
    }

    /// Reference Conv1D (w [n_in, n_out] ~ N(0, 0.02·init_scale), b zeros).
    mutating func conv1D(_ name: String, _ nIn: Int, _ nOut: Int, initScale: Double) {
        add(name + ".w", [nIn, nOut], .normal(std: 0.02 * initScale))
        add(name + ".b", [nOut], .zeros)
    }

    mutating func layerNorm(_ name: String, _ width: Int) {
        add(name + ".weight", [width], .ones)
        add(name + ".bias", [width], .zeros)
    }

    mutating func append(_ other: ParameterList) { specs += other.specs }

    func sub(_ name: String) -> ParameterList { ParameterList(prefix: key(name)) }
}

/// Tensors by reference key, from a checkpoint (strict, shape-checked) or from random init.
public struct TensorLookup {
    let lookup: (ParameterSpec) throws -> Tensor
    /// A Conv1D weight (spec [nIn, nOut]) in a sampling format, when the source keeps it packed; nil for float32.
    let packed: (ParameterSpec) throws -> PackedMatrix?

    init(lookup: @escaping (ParameterSpec) throws -> Tensor,
         packed: @escaping (ParameterSpec) throws -> PackedMatrix? = { _ in nil }) {
        self.lookup = lookup
        self.packed = packed
    }

    /// Strict loading: each spec must exist in the store with its shape (WeightStore.take); a transformer
    /// matrix may instead be stored packed or as 16-bit floats (WeightStore.takePacked).
    public static func store(_ store: WeightStore) -> TensorLookup {
        TensorLookup(lookup: { try store.take($0.key, $0.shape) },
                     packed: { try store.takePacked($0.key, nIn: $0.shape[0], nOut: $0.shape[1]) })
    }

    /// Tensors held in a dictionary (e.g. random weights); a missing key is an error.
    public static func dictionary(_ tensors: [String: Tensor], source: String = "weights") -> TensorLookup {
        TensorLookup(lookup: { spec in
            guard let t = tensors[spec.key] else { throw JukeboxError(source, "missing tensor \(spec.key)") }
            guard t.shape == spec.shape else {
                throw JukeboxError(source, "tensor \(spec.key) has shape \(t.shape) but the model expects \(spec.shape)")
            }
            return t
        })
    }

    func callAsFunction(_ spec: ParameterSpec) throws -> Tensor { try lookup(spec) }
}

/// Looks tensors up by key among a layer's specs, so layer code names each tensor once, in its spec list.
struct ParameterReader {
    let specs: [String: ParameterSpec]
    let source: TensorLookup
    let prefix: String

    init(_ list: ParameterList, _ source: TensorLookup) {
        var byKey: [String: ParameterSpec] = [:]
        for s in list.specs { byKey[s.key] = s }
        specs = byKey
        self.source = source
        prefix = list.prefix
    }

    func callAsFunction(_ name: String) throws -> Tensor {
        let key = prefix.isEmpty ? name : prefix + "." + name
        guard let spec = specs[key] else { throw JukeboxError("parameter table", "no spec for \(key)") }
        return try source(spec)
    }

    /// The Conv1D layer `name` (its `.w` and `.b`), packed when the source keeps its weight packed.
    func linear(_ name: String) throws -> LinearWeight {
        let key = prefix.isEmpty ? name + ".w" : prefix + "." + name + ".w"
        guard let spec = specs[key] else { throw JukeboxError("parameter table", "no spec for \(key)") }
        let b = try self(name + ".b")
        if let packed = try source.packed(spec) { return LinearWeight(packed: packed, b: b) }
        return LinearWeight(w: try source(spec), b: b)
    }
}


extension ParameterSpec {
    /// Random tensors for a spec list following the reference's init, seeded.
    public static func randomTensors(_ specs: [ParameterSpec], seed: UInt64) -> [String: Tensor] {
        var rng = SeededGenerator(seed: seed)
        var out: [String: Tensor] = [:]
        for s in specs {
            switch s.initial {
            case .normal(let std):
                let t = Tensor(zeros: s.shape)
                rng.fill(t.data, t.count, std: std)
                out[s.key] = t
            case .zeros:
                out[s.key] = Tensor(zeros: s.shape)
            case .ones:
                let t = Tensor(zeros: s.shape)
                t.data.update(repeating: 1, count: t.count)
                out[s.key] = t
            case .sameAs(let other):
                out[s.key] = out[other]
            }
        }
        return out
    }
}
