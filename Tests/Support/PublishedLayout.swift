import Foundation
import JukeboxCore

/// A stand-in for the reference's published files, laid out as its servers lay them out: torch legacy
/// checkpoints under `jukebox/models/<set>/` ({hps, model, opt, step}, priors in fp16 with `module.`
/// names, the VQ-VAE in fp32) and the v2/v3 id lists under `jukebox/data/ids/`. The weights are a tiny
/// random set's (RandomModelSet), so a fetch of it converts in a moment and samples.
public enum PublishedLayout {
    /// Writes the files of published set `model` (its top prior under that set's folder) into `root`;
    /// returns each written file's path relative to `root`.
    @discardableResult
    public static func write(model: String, into root: String, seed: UInt64 = 5) throws -> [String] {
        guard let published = PublishedModel.named(model) else { throw JukeboxError(model, "not a published model") }
        let fm = FileManager.default
        let random = root + "/.random-set"
        try RandomModelSet.write(preset: .tiny, seed: seed, to: random)
        defer { try? fm.removeItem(atPath: random) }
        var written: [String] = []
        for member in published.members {
            let isVQVAE = member.folder == "vqvae"
            let hps = isVQVAE ? try RandomModelSet.vqvaeHps(.tiny)
                : try RandomModelSet.priorHps(.tiny, level: ModelSet.priorLevel(folderName: member.folder)!)
            let weights = try SafetensorsFile(path: random + "/" + member.folder + "/weights.safetensors")
            let bytes = checkpoint(weights, hps: hps, half: !isVQVAE, prefix: isVQVAE ? "" : "module.")
            try save(bytes, root + "/" + member.path)
            written.append(member.path)
        }
        for path in PublishedModel.labelPaths {
            let lists = RandomModelSet.labelLists(v3: path.contains("/v3_"))
            try save(Array((path.contains("_artist_") ? lists.artists : lists.genres).utf8), root + "/" + path)
            written.append(path)
        }
        return written
    }

    static func save(_ bytes: [UInt8], _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// torch.save({hps, model, opt, step}) in the legacy layout, one storage per tensor.
    static func checkpoint(_ weights: SafetensorsFile, hps: HyperparameterPresets.Entries, half: Bool, prefix: String) -> [UInt8] {
        var state: [(String, TorchFileBuilder.Value)] = []
        var storages: [(key: String, elementSize: Int, data: [UInt8])] = []
        for (i, name) in weights.names.enumerated() {
            guard let tensor = try? weights.tensor(name) else { continue }
            let shape = tensor.shape
            var stride = [Int](repeating: 1, count: shape.count)
            for d in stride.indices.reversed().dropFirst() { stride[d] = stride[d + 1] * shape[d + 1] }
            let key = "\(i)"
            let values = tensor.toArray()
            state.append((prefix + name, .tensor(.init(storage: key, dtype: half ? "HalfStorage" : "FloatStorage",
                                                        storageCount: values.count, size: shape, stride: stride))))
            storages.append((key, half ? 2 : 4, half ? TorchFileBuilder.halves(values) : TorchFileBuilder.floats(values)))
        }
        let root: TorchFileBuilder.Value = .dict([
            ("hps", .dict(hps.map { ($0.key, value($0.value)) })), ("model", .orderedDict(state)), ("opt", .none), ("step", .int(123_456)),
        ])
        return TorchFileBuilder.legacy(root, storages: storages)
    }

    static func value(_ v: PickleValue) -> TorchFileBuilder.Value {
        switch v {
        case .bool(let b): return .bool(b)
        case .int(let n): return .int(n)
        case .float(let d): return .float(d)
        case .string(let s): return .str(s)
        case .list(let items): return .list(items.map(value))
        case .tuple(let items): return .tuple(items.map(value))
        case .dict(let entries): return .dict(entries.compactMap { e in e.key.stringValue.map { ($0, value(e.value)) } })
        default: return .none
        }
    }
}
