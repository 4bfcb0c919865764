import Foundation

/// What a model folder holds: `config.json` ({"kind", "hps"}) and `weights.safetensors`.
public enum ModelKind: String, Sendable {
    case vqvae, prior
}

public struct ModelConfig: @unchecked Sendable {
    public let kind: ModelKind
    public let hps: Hyperparameters
    /// The format the transformer matrices are stored in (`weight_format`, written by `quantize`; f32 when absent).
    public let weightFormat: WeightFormat

    public init(kind: ModelKind, hps: Hyperparameters, weightFormat: WeightFormat = .f32) {
        self.kind = kind
        self.hps = hps
        self.weightFormat = weightFormat
    }

    public static func load(folder: String) throws -> ModelConfig {
        let path = (folder as NSString).appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: folder) else { throw JukeboxError(folder, "no such model folder") }
        guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "missing or unreadable") }
        return try parse(data, source: path)
    }

    public static func parse(_ data: Data, source: String) throws -> ModelConfig {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
            throw JukeboxError(source, "not a JSON object")
        }
        guard let kindName = dict["kind"] as? String else { throw JukeboxError(source, "field kind is missing") }
        guard let kind = ModelKind(rawValue: kindName) else {
            throw JukeboxError(source, "field kind is \(kindName), expected vqvae or prior")
        }
        guard let hps = dict["hps"] as? [String: Any] else { throw JukeboxError(source, "field hps is missing or not an object") }
        var format = WeightFormat.f32
        if let value = dict["weight_format"] {
            guard let name = value as? String, let f = WeightFormat(rawValue: name) else {
                throw JukeboxError(source, "field weight_format is \(value), expected one of \(WeightFormat.names)")
            }
            format = f
        }
        return ModelConfig(kind: kind, hps: Hyperparameters(hps, source: source), weightFormat: format)
    }

    public func jsonData() throws -> Data {
        var object: [String: Any] = ["kind": kind.rawValue, "hps": hps.values]
        if weightFormat != .f32 { object["weight_format"] = weightFormat.rawValue }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    public func write(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(jsonData(), to: (folder as NSString).appendingPathComponent("config.json"))
    }
}

/// Strict weight loading: every tensor the model asks for must exist with the expected shape,
/// and every tensor in the file must be asked for. Errors name the key and both shapes.
public final class WeightStore: @unchecked Sendable {
    public let file: SafetensorsFile
    private var taken: Set<String> = []

    public init(file: SafetensorsFile) { self.file = file }

    public convenience init(path: String) throws { self.init(file: try SafetensorsFile(path: path)) }

    public convenience init(folder: String) throws {
        try self.init(path: (folder as NSString).appendingPathComponent("weights.safetensors"))
    }

    public func has(_ key: String) -> Bool { file.entries[key] != nil }

    /// Records that the model used `key` (for tensors read other than through take).
    func markTaken(_ key: String) { taken.insert(key) }

    public func take(_ key: String, _ shape: [Int]) throws -> Tensor {
        guard let e = file.entries[key] else {
            throw JukeboxError(file.path, "missing tensor \(key) (expected shape \(shape))")
        }
        guard e.shape == shape else {
            throw JukeboxError(file.path, "tensor \(key) has shape \(e.shape) but the model expects \(shape)")
        }
        taken.insert(key)
        return try file.tensor(key)
    }

    /// Call once the model has taken all it needs: any tensor left over is an error.
    public func finish() throws {
        let extra = file.names.filter { !taken.contains($0) }
        if let first = extra.first {
            throw JukeboxError(file.path, "unexpected tensor \(first) (shape \(file.entries[first]!.shape))"
                               + (extra.count > 1 ? " and \(extra.count - 1) more" : ""))
        }
    }

    public func scope(_ prefix: String) -> WeightScope { WeightScope(store: self, prefix: prefix) }
}

/// A view of a WeightStore under a key prefix, so a layer loads "c_attn.w" without knowing where it sits.
public struct WeightScope {
    public let store: WeightStore
    public let prefix: String

    public func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
    public func take(_ name: String, _ shape: [Int]) throws -> Tensor { try store.take(key(name), shape) }
    public func has(_ name: String) -> Bool { store.has(key(name)) }
    public func scope(_ name: String) -> WeightScope { WeightScope(store: store, prefix: key(name)) }
}
