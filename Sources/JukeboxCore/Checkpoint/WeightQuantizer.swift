import Foundation

/// Rewrites priors with their transformer matrices in a sampling format (`jukebox quantize`): every other
/// tensor, the VQ-VAE and the set's other files are copied as they are. The output appears whole or not
/// at all, and the source is only read.
public enum WeightQuantizer {
    public struct Summary: Sendable {
        public let folder: String
        public let matrices: Int
        public let bytesBefore: Int
        public let bytesAfter: Int

        /// The same figures under the folder's final path (it is written in a staging folder).
        func named(_ path: String) -> Summary {
            Summary(folder: path, matrices: matrices, bytesBefore: bytesBefore, bytesAfter: bytesAfter)
        }
    }

    /// Quantizes a model set (or a single prior folder) into `output`, which must not exist yet.
    public static func quantize(_ source: String, to format: WeightFormat, output: String,
                                progress: ((String) -> Void)? = nil) throws -> [Summary] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: source, isDirectory: &isDir), isDir.boolValue else {
            throw JukeboxError(source, "no such model set or model folder")
        }
        guard !fm.fileExists(atPath: output) else {
            throw JukeboxError(output, "already exists; quantize writes a new folder and never replaces one")
        }
        let single = fm.fileExists(atPath: (source as NSString).appendingPathComponent("config.json"))
        if !single { _ = try ModelSet.inspect(source) }
        var summaries: [Summary] = []
        try StagingFolder.replace(output, purpose: "quantize") { work in
            if single {
                summaries.append(try quantizeModel(source, format: format, into: work, progress: progress).named(output))
                return
            }
            for name in try fm.contentsOfDirectory(atPath: source).sorted() where !name.hasPrefix(".") {
                let from = (source as NSString).appendingPathComponent(name), to = (work as NSString).appendingPathComponent(name)
                let aligner = name == AlignmentPrior.folderName
                // An alignment prior shipped packed already (it only times the lyrics) is kept as it is.
                let packedAligner = try aligner && ModelConfig.load(folder: from).weightFormat != .f32
                if (ModelSet.priorLevel(folderName: name) != nil || aligner) && !packedAligner {
                    try fm.createDirectory(atPath: to, withIntermediateDirectories: false)
                    summaries.append(try quantizeModel(from, format: format, into: to, progress: progress)
                        .named((output as NSString).appendingPathComponent(name)))
                } else {
                    try fm.copyItem(atPath: from, toPath: to)
                }
            }
        }
        return summaries
    }

    /// One prior folder into the empty folder `output`: config.json gains `weight_format`, the weights are
    /// rewritten, the label lists and any other file copied.
    static func quantizeModel(_ folder: String, format: WeightFormat, into output: String,
                              progress: ((String) -> Void)?) throws -> Summary {
        let fm = FileManager.default
        let config = try ModelConfig.load(folder: folder)
        let configPath = (folder as NSString).appendingPathComponent("config.json")
        guard config.kind == .prior else { throw JukeboxError(configPath, "kind is \(config.kind.rawValue); only priors are quantized") }
        guard config.weightFormat == .f32 else {
            throw JukeboxError(configPath, "already \(config.weightFormat.rawValue); quantize from the float32 set")
        }
        let priorConfig = try PriorConfig(hps: config.hps)
        let matrixKeys = Set(try Prior.parameters(config: priorConfig).filter(ResAttnBlockWeights.isMatrix).map(\.key))
        let weightsPath = (folder as NSString).appendingPathComponent("weights.safetensors")
        let file = try SafetensorsFile(path: weightsPath)

        var items: [SafetensorsStreamWriter.Item] = []
        enum Source { case copy(String), values(String, WeightFormat), scales(String) }
        var sources: [Source] = []
        var matrices = 0
        for name in file.names {
            let e = try file.entry(name)
            guard matrixKeys.contains(name), [.f32, .f16, .bf16].contains(e.dtype) else {
                items.append(.init(name: name, dtype: e.dtype, shape: e.shape)); sources.append(.copy(name))
                continue
            }
            let nIn = e.shape[0], nOut = e.shape[1], f = format.forMatrix(nIn: nIn, nOut: nOut)
            matrices += 1
            if f == .f32 {
                items.append(.init(name: name, dtype: e.dtype, shape: e.shape)); sources.append(.copy(name))
                continue
            }
            items.append(.init(name: PackedWeightKeys.values(name, f), dtype: f.storageDType, shape: f.storageShape(nOut: nOut, nIn: nIn)))
            sources.append(.values(name, f))
            if f.isQuantized {
                items.append(.init(name: PackedWeightKeys.scales(name), dtype: .f16, shape: f.scaleShape(nOut: nOut, nIn: nIn)))
                sources.append(.scales(name))
            }
        }
        var metadata = file.metadata
        metadata["weight_format"] = format.rawValue
        var packed: PackedMatrix? = nil
        let out = (output as NSString).appendingPathComponent("weights.safetensors")
        try SafetensorsStreamWriter.write(to: out, items: items, metadata: metadata) { i, emit in
            switch sources[i] {
            case .copy(let name):
                try emit(file.rawBytes(name))
            case .values(let name, let f):
                progress?("\((folder as NSString).lastPathComponent): \(name) → \(f.rawValue)")
                let w = try file.tensor(name)
                if let bad = (0..<w.count).first(where: { !w.data[$0].isFinite }) {
                    throw JukeboxError(weightsPath, "tensor \(name) holds a value that is not finite (entry \(bad))")
                }
                let p = PackedMatrix.pack(w, format: f)
                packed = p
                try emit(p.valueBuffer)
            case .scales:
                guard let p = packed else { throw JukeboxError(out, "scales written before their values") }
                try emit(p.scaleBuffer)
                packed = nil
            }
        }
        // config.json keeps its text (the reference's key order and float spelling); the field goes first.
        guard var text = try? String(contentsOfFile: configPath, encoding: .utf8), let brace = text.firstIndex(of: "{") else {
            throw JukeboxError(configPath, "unreadable")
        }
        text.insert(contentsOf: "\n \"weight_format\": \"\(format.rawValue)\",", at: text.index(after: brace))
        try AtomicFile.write(Data(text.utf8), to: (output as NSString).appendingPathComponent("config.json"))
        _ = try ModelConfig.load(folder: output)
        for name in try fm.contentsOfDirectory(atPath: folder).sorted()
        where !["config.json", "weights.safetensors"].contains(name) && !name.hasPrefix(".") {
            try fm.copyItem(atPath: (folder as NSString).appendingPathComponent(name), toPath: (output as NSString).appendingPathComponent(name))
        }
        let after = (try? fm.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        let before = (try? fm.attributesOfItem(atPath: weightsPath)[.size] as? Int) ?? 0
        return Summary(folder: output, matrices: matrices, bytesBefore: before, bytesAfter: after)
    }
}
