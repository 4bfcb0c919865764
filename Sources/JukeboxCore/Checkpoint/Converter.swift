import Foundation

/// Turns a published (or user-trained) Jukebox torch checkpoint into a model folder:
/// `config.json` ({"kind", "hps"}), `weights.safetensors` (the state_dict under its reference
/// names, `module.` stripped) and, for priors with labels, `artist_ids.txt` / `genre_ids.txt` (LabelVocabulary's file names)
/// (the reference's id lists, copied verbatim: v2, or v3 when `labels_v3`).
///
/// Weights are written as F32 (fp16/bf16 tensors widened exactly; the engine maps F32 without a
/// copy), or kept as stored with `keepHalf` (half the disk; the engine widens F16 when loading).
///
/// hps: with a `preset`, the reference's named set is written (what the reference itself samples
/// with, whatever the checkpoint carries; a differing architecture value becomes a warning).
/// Without one, the checkpoint's own hps are used, completed with the reference defaults.
/// A conversion that fails leaves the output folder as it was.
public enum CheckpointConverter {
    public struct Summary: Sendable {
        public let output: String
        public let kind: ModelKind
        public let format: TorchFormat
        public let tensorCount: Int
        public let parameterCount: Int
        /// Tensors per torch dtype in the checkpoint, e.g. ["float16": 86, "float32": 184].
        public let sourceDTypes: [String: Int]
        /// "checkpoint" or "preset <name>".
        public let hpsSource: String
        public let step: Int?
        /// "v2" or "v3" when label lists were copied.
        public let labels: String?
        public let warnings: [String]
    }

    /// With `architectureFromCheckpoint`, a preset's architecture values (widths, depths, layouts) give way
    /// to the checkpoint's own where it carries them: the tensors were made by that architecture, so a
    /// checkpoint that differs from the published shape (a fine-tune, a mirror's test files) still loads.
    public static func convert(input: String, output: String, preset: String?, labelsDirectory: String?,
                               keepHalf: Bool = false, architectureFromCheckpoint: Bool = false) throws -> Summary {
        if let preset, HyperparameterPresets.kind(of: preset) == nil {
            throw JukeboxError("preset", "unknown preset \(preset) (known: \(HyperparameterPresets.names.joined(separator: ", ")))")
        }
        let checkpoint = try TorchCheckpoint(path: input)
        var warnings: [String] = []

        // The state dict: checkpoint["model"], or the whole object when it is a bare state dict.
        let modelValue: PickleValue
        if let m = checkpoint.root["model"] {
            modelValue = m
        } else if let entries = checkpoint.root.dictEntries, !entries.isEmpty,
                  entries.allSatisfy({ if case .tensor = $0.value { return true } else { return false } }) {
            modelValue = checkpoint.root
        } else {
            throw JukeboxError(input, "no model state dict (expected a dict with a \"model\" entry)")
        }
        guard let stateEntries = modelValue.dictEntries else { throw JukeboxError(input, "model is a \(modelValue.kindName), not a state dict") }
        var tensors: [(name: String, ref: TorchTensorRef)] = []
        var seen = Set<String>()
        for entry in stateEntries {
            guard var name = entry.key.stringValue else { throw JukeboxError(input, "a state dict key is a \(entry.key.kindName), not a string") }
            guard case .tensor(let ref) = entry.value else { throw JukeboxError(input, "model.\(name) is a \(entry.value.kindName), not a tensor") }
            if name.hasPrefix("module.") { name.removeFirst("module.".count) }
            guard seen.insert(name).inserted else { throw JukeboxError(input, "tensor \(name) appears twice (with and without module.?)") }
            tensors.append((name, ref))
        }
        guard !tensors.isEmpty else { throw JukeboxError(input, "the state dict is empty") }

        let kind = try detectKind(tensors.map(\.name), source: input)
        if let preset, let presetKind = HyperparameterPresets.kind(of: preset), presetKind != kind {
            throw JukeboxError(input, "holds a \(kind.rawValue) but preset \(preset) describes a \(presetKind.rawValue)")
        }

        // Hyperparameters.
        let stored = usableHps(checkpoint.root["hps"])
        var hps: HyperparameterPresets.Entries
        var hpsSource: String
        if let preset {
            let presetHps = try HyperparameterPresets.hps(preset)
            hps = presetHps
            hpsSource = "preset \(preset)"
            if case .success(let own) = stored {
                let differing = differences(preset: presetHps, checkpoint: own, kind: kind)
                if architectureFromCheckpoint, !differing.isEmpty {
                    let keys = Set(architecture(kind))
                    hps = HyperparameterPresets.merge(presetHps, [own.filter { keys.contains($0.key) }])
                    hpsSource = "preset \(preset), architecture from the checkpoint"
                    warnings += differing.map { $0 + " (the checkpoint's kept)" }
                } else {
                    warnings += differing
                }
            }
        } else {
            switch stored {
            case .success(let own):
                hps = HyperparameterPresets.merge(HyperparameterPresets.defaults, [own])
                hpsSource = "checkpoint"
                let present = Set(own.map(\.key))
                let filled = HyperparameterPresets.defaults.map(\.key).filter { !present.contains($0) }
                if !filled.isEmpty {
                    warnings.append("\(filled.count) hps absent from the checkpoint take the reference defaults: "
                                    + filled.prefix(6).joined(separator: ", ") + (filled.count > 6 ? ", ..." : ""))
                }
            case .failure(let why):
                throw JukeboxError(input, "\(why); name a preset (\(HyperparameterPresets.names.joined(separator: ", ")))")
            }
        }
        let config = try HyperparameterJSON.config(kind: kind, hps: hps)

        // Label id lists for priors that condition on artist and genre.
        var labelFiles: [(from: String, to: String)] = []
        var labelVersion: String?
        if kind == .prior, value(hps, "labels") == .bool(true) {
            let version = value(hps, "labels_v3") == .bool(true) ? "v3" : "v2"
            if let dir = labelsDirectory {
                for (list, name) in [("artist", LabelVocabulary.artistsFileName), ("genre", LabelVocabulary.genresFileName)] {
                    let path = (dir as NSString).appendingPathComponent("\(version)_\(list)_ids.txt")
                    guard FileManager.default.isReadableFile(atPath: path) else {
                        throw JukeboxError(path, "label list missing (needed for a prior with \(version) labels)")
                    }
                    labelFiles.append((path, name))
                }
                labelVersion = version
            } else {
                warnings.append("no label directory given: \(LabelVocabulary.artistsFileName) and \(LabelVocabulary.genresFileName) (\(version)) were not copied")
            }
        }

        var dtypeCounts: [String: Int] = [:]
        for t in tensors { dtypeCounts[t.ref.dtype.rawValue, default: 0] += 1 }
        let items = tensors.map {
            SafetensorsStreamWriter.Item(name: $0.name, dtype: TorchCheckpoint.outputType(for: $0.ref.dtype, keepHalf: keepHalf),
                                         shape: $0.ref.size)
        }
        var metadata = ["format": "pt", "converted_from": (input as NSString).lastPathComponent]
        if let step = checkpoint.root["step"]?.intValue { metadata["step"] = String(step) }

        try ModelFolderTransaction.run(output: output) { folder in
            try SafetensorsStreamWriter.write(to: folder + "/weights.safetensors", items: items, metadata: metadata) { i, emit in
                try checkpoint.stream(tensors[i].ref, as: items[i].dtype, emit)
                checkpoint.evict(tensors[i].ref)
            }
            for (from, to) in labelFiles {
                guard let data = FileManager.default.contents(atPath: from) else { throw JukeboxError(from, "unreadable") }
                try AtomicFile.write(data, to: folder + "/" + to)
            }
            try AtomicFile.write(config, to: folder + "/config.json")
        }

        return Summary(output: output, kind: kind, format: checkpoint.format, tensorCount: tensors.count,
                       parameterCount: tensors.reduce(0) { $0 + $1.ref.count }, sourceDTypes: dtypeCounts,
                       hpsSource: hpsSource, step: checkpoint.root["step"]?.intValue, labels: labelVersion,
                       warnings: warnings)
    }

    /// VQ-VAE state dicts hold encoders/decoders/bottleneck; priors hold the transformer and conditioners.
    static func detectKind(_ names: [String], source: String) throws -> ModelKind {
        let vqvae = names.contains { $0.hasPrefix("encoders.") || $0.hasPrefix("decoders.") || $0.hasPrefix("bottleneck.") }
        let prior = names.contains {
            $0.hasPrefix("prior.") || $0.hasPrefix("y_emb.") || $0.hasPrefix("prime_prior.") || $0.hasPrefix("conditioner_blocks.")
        }
        switch (vqvae, prior) {
        case (true, false): return .vqvae
        case (false, true): return .prior
        case (true, true): throw JukeboxError(source, "holds both VQ-VAE and prior tensors; convert them separately")
        case (false, false): throw JukeboxError(source, "holds neither Jukebox VQ-VAE nor prior tensors (first key \(names[0]))")
        }
    }

    /// The checkpoint's hps as ordered entries, if they are a dict of plain JSON-representable values.
    static func usableHps(_ v: PickleValue?) -> Result<HyperparameterPresets.Entries, JukeboxError> {
        guard let v else { return .failure(JukeboxError("the checkpoint carries no hps")) }
        guard let entries = v.dictEntries else { return .failure(JukeboxError("the checkpoint's hps are a \(v.kindName), not a dict")) }
        var out: HyperparameterPresets.Entries = []
        for e in entries {
            guard let key = e.key.stringValue else { return .failure(JukeboxError("the checkpoint's hps have a non-string key")) }
            var scratch = ""
            do { try HyperparameterJSON.write(e.value, into: &scratch, indent: 0) } catch {
                return .failure(JukeboxError("the checkpoint's hps value \(key) is a \(e.value.kindName)"))
            }
            out.append((key, e.value))
        }
        return .success(out)
    }

    static func value(_ hps: HyperparameterPresets.Entries, _ key: String) -> PickleValue? {
        hps.last(where: { $0.key == key })?.value
    }

    /// Architecture values where the checkpoint's own hps disagree with the preset.
    static func differences(preset: HyperparameterPresets.Entries, checkpoint: HyperparameterPresets.Entries,
                            kind: ModelKind) -> [String] {
        let keys = architecture(kind)
        var out: [String] = []
        for key in keys {
            guard let mine = value(checkpoint, key), let theirs = value(preset, key) else { continue }
            if normalized(mine) != normalized(theirs) {
                var a = "", b = ""
                try? HyperparameterJSON.write(mine, into: &a, indent: 0)
                try? HyperparameterJSON.write(theirs, into: &b, indent: 0)
                out.append("hps \(key): checkpoint has \(a.filter { !$0.isWhitespace }), preset has \(b.filter { !$0.isWhitespace })")
            }
        }
        return out
    }

    /// Tuples as lists and integral floats as ints, so (3, 2, 2) equals [3, 2, 2] and 1.0 equals 1.
    static func normalized(_ v: PickleValue) -> PickleValue {
        switch v {
        case .tuple(let items), .list(let items): return .list(items.map(normalized))
        case .float(let d) where d == d.rounded() && abs(d) < 9e18: return .int(Int(d))
        case .bool(let b): return .int(b ? 1 : 0)
        default: return v
        }
    }

    /// Keys that shape a model's tensors: a prior also carries its VQ-VAE's (codebook size, hops).
    static func architecture(_ kind: ModelKind) -> [String] {
        kind == .vqvae ? vqvaeArchitecture : priorArchitecture + vqvaeArchitecture.filter { !priorArchitecture.contains($0) }
    }

    static let vqvaeArchitecture = [
        "levels", "downs_t", "strides_t", "emb_width", "l_bins", "width", "depth", "m_conv", "dilation_growth_rate",
        "dilation_cycle", "hvqvae_multipliers", "vqvae_reverse_decoder_dilation",
    ]

    static let priorArchitecture = [
        "level", "n_ctx", "prior_width", "prior_depth", "heads", "attn_order", "blocks", "spread", "c_res", "c_attn",
        "c_mlp", "m_attn", "m_mlp", "zero_out", "res_scale", "pos_init", "y_bins", "t_bins", "max_bow_genre_size",
        "n_tokens", "n_vocab", "use_tokens", "single_enc_dec", "merged_decoder", "labels", "labels_v3", "cond_width",
        "cond_depth", "cond_m_conv", "cond_zero_out", "cond_res_scale", "cond_dilation_growth_rate",
        "cond_dilation_cycle", "cond_c_res", "prime_width", "prime_depth", "prime_heads", "prime_attn_order",
        "prime_blocks", "prime_spread", "prime_m_attn", "prime_m_mlp", "prime_c_res", "prime_c_attn", "prime_c_mlp",
        "prime_zero_out", "prime_res_scale", "prime_pos_init", "prime_rel_attn", "prime_posemb_timescale",
    ]
}

/// Builds a model folder in a hidden sibling folder and moves it into place only when complete,
/// so a failed conversion leaves the output as it was.
enum ModelFolderTransaction {
    static let files = ["weights.safetensors", LabelVocabulary.artistsFileName, LabelVocabulary.genresFileName, "config.json"]

    static func run(output: String, _ build: (String) throws -> Void) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: output, isDirectory: &isDirectory)
        if exists, !isDirectory.boolValue { throw JukeboxError(output, "exists and is not a folder") }
        let (temp, _) = try StagingFolder.make(beside: output, purpose: "converting")
        defer { try? fm.removeItem(atPath: temp) }
        try build(temp)

        if !exists {
            guard rename(temp, output) == 0 else {
                throw JukeboxError(output, "cannot move the converted model into place (\(String(cString: strerror(errno))))")
            }
            return
        }
        // An existing folder: replace our files one by one, config.json last (it marks the folder
        // complete), the old one removed first so a mix of old and new files is never taken as a model.
        try? fm.removeItem(atPath: (output as NSString).appendingPathComponent("config.json"))
        for name in files {
            let from = temp + "/" + name, to = (output as NSString).appendingPathComponent(name)
            if fm.fileExists(atPath: from) {
                guard rename(from, to) == 0 else {
                    throw JukeboxError(to, "cannot move the converted file into place (\(String(cString: strerror(errno))))")
                }
            } else if name == LabelVocabulary.artistsFileName || name == LabelVocabulary.genresFileName {
                try? fm.removeItem(atPath: to)  // stale lists from an earlier conversion
            }
        }
    }
}
