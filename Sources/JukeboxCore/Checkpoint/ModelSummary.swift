import Foundation

/// What `jukebox info` reports about a model folder, read from its config and the safetensors header
/// (weights are not loaded).
public struct ModelSummary {
    public let folder: String
    public let kind: ModelKind
    public let details: [(String, String)]
    public let parameters: Int
    public let bytes: Int
    public let dtypes: [String: Int]

    public static let setMembers = ["vqvae", "prior_level_2", "prior_level_1", "prior_level_0"]

    /// One summary for a model folder, or one per member for a model set.
    public static func describe(_ folder: String) throws -> [ModelSummary] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw JukeboxError(folder, "no such model folder")
        }
        if fm.fileExists(atPath: folder + "/config.json") { return [try summary(folder)] }
        let members = setMembers.filter { fm.fileExists(atPath: folder + "/" + $0) }
        guard !members.isEmpty else {
            throw JukeboxError(folder, "neither a model folder (no config.json) nor a model set (no \(setMembers.joined(separator: ", ")))")
        }
        return try members.map { try summary(folder + "/" + $0) }
    }

    public static func summary(_ folder: String) throws -> ModelSummary {
        let config = try ModelConfig.load(folder: folder)
        let weightsPath = folder + "/weights.safetensors"
        let file = try SafetensorsFile(path: weightsPath)
        var parameters = 0
        var dtypes: [String: Int] = [:]
        for e in file.entries.values {
            // Packed matrices count their weights (two to a q4 byte), not their bytes or scales.
            if e.name.hasSuffix(".scales") { continue }
            let count = e.name.hasSuffix("." + WeightFormat.q4.rawValue) && e.dtype == .u8 ? 2 * e.count : e.count
            parameters += count
            dtypes[e.dtype.rawValue, default: 0] += count
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: weightsPath)[.size] as? Int) ?? 0
        let hps = config.hps
        var details: [(String, String)] = []
        if config.weightFormat != .f32 {
            let small = config.weightFormat == .q4 ? "; matrices under \(WeightFormat.smallMatrixWeights) weights q8" : ""
            details.append(("weight format", "\(config.weightFormat.rawValue) (transformer matrices, \(config.weightFormat.bitsPerWeight) bits a weight\(small))"))
        }
        func add(_ label: String, _ keys: [String]) {
            let parts = keys.compactMap { k -> String? in
                guard let v = hps.values[k], !(v is NSNull) else { return nil }
                return "\(v)".replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: "    ", with: "")
            }
            if !parts.isEmpty { details.append((label, parts.joined(separator: " / "))) }
        }
        switch config.kind {
        case .vqvae:
            add("levels", ["levels"])
            add("downs_t / strides_t", ["downs_t", "strides_t"])
            add("codebook (l_bins, emb_width)", ["l_bins", "emb_width"])
            add("width / depth", ["width", "depth"])
            add("sample rate", ["sr"])
        case .prior:
            add("level", ["level"])
            add("n_ctx", ["n_ctx"])
            add("width / depth / heads", ["prior_width", "prior_depth", "heads"])
            add("attn_order / blocks", ["attn_order", "blocks"])
            let lyrics = (hps.values["single_enc_dec"] as? Bool == true) ? "single encoder-decoder"
                : (hps.values["use_tokens"] as? Bool == true) ? "separate lyrics encoder" : "none"
            details.append(("lyrics", lyrics))
            add("y_bins (genres, artists)", ["y_bins"])
            add("bar clock (places per bar)", ["bar_clock_bins"])
        }
        for name in [LabelVocabulary.artistsFileName, LabelVocabulary.genresFileName] {
            if let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) {
                details.append((name, "\(text.split(separator: "\n").count) entries"))
            }
        }
        return ModelSummary(folder: folder, kind: config.kind, details: details, parameters: parameters,
                            bytes: bytes, dtypes: dtypes)
    }

    public var text: String {
        var lines = ["\(folder): \(kind.rawValue)"]
        lines.append("  parameters: \(parameters) (\(dtypes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")
        lines.append("  bytes: \(bytes) (\(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB)")
        for (k, v) in details { lines.append("  \(k): \(v)") }
        return lines.joined(separator: "\n")
    }

    public var dictionary: [String: Any] {
        var d: [String: Any] = ["folder": folder, "kind": kind.rawValue, "parameters": parameters, "bytes": bytes,
                                "dtypes": dtypes]
        for (k, v) in details { d[k] = v }
        return d
    }
}
