import Foundation

/// A complete model set with seeded random weights: the published layout (a 3-level VQ-VAE with hops
/// 8/32/128 at 44.1 kHz, a 1b_lyrics-style top prior with v3 labels and lyrics, two upsamplers with v2
/// labels and the conditioner over the level above), scaled down so tests and the studio can run the
/// whole pipeline without the published checkpoints. Every config.json holds the reference's full hps
/// (its named preset with the sizes overridden), so the set loads exactly as a converted one does.
public enum RandomModelSet {
    public enum Preset: String, CaseIterable, Sendable {
        /// Fast enough for tests: loads in milliseconds, samples a second of audio in a few seconds.
        case tiny
        /// Somewhat bigger, for trying the studio.
        case small
    }

    struct Sizes {
        var lBins, embWidth, vqWidth, vqDepth: Int
        var topCtx, topTokens, topWidth, topDepth, topBlocks: Int
        var upCtx, upWidth, upDepth, upBlocks, condWidth, condDepth: Int
    }

    static func sizes(_ preset: Preset) -> Sizes {
        switch preset {
        case .tiny:
            // attn_order 12 puts its prime (lyrics) layer at depth index 15, so 16 layers is the least.
            return Sizes(lBins: 64, embWidth: 16, vqWidth: 16, vqDepth: 2,
                         topCtx: 128, topTokens: 32, topWidth: 64, topDepth: 16, topBlocks: 5,
                         upCtx: 128, upWidth: 64, upDepth: 3, upBlocks: 16, condWidth: 32, condDepth: 2)
        case .small:
            return Sizes(lBins: 256, embWidth: 32, vqWidth: 32, vqDepth: 3,
                         topCtx: 512, topTokens: 64, topWidth: 256, topDepth: 32, topBlocks: 9,
                         upCtx: 512, upWidth: 128, upDepth: 6, upBlocks: 32, condWidth: 64, condDepth: 4)
        }
    }

    // MARK: Invented label lists

    /// Made-up genres (single words, so the v2 bag-of-words and the v3 whole-name lookups agree).
    public static let genres = ["rock", "jazz", "ambient", "folk", "electronic", "blues", "soul", "pop"]

    /// Made-up artists (no real names).
    public static let artists = [
        "Nova Lark", "The Velvet Foxes", "Mira Quell", "Copper Lanterns", "Ivo Strand", "Saltwater Choir",
        "Juniper Vale", "The Hollow Pines", "Oren Blue", "Static Orchard", "Lena Marrow", "Glass Harbor",
        "Teo Rinaldi", "The Paper Moons", "Ada Finch", "Cinder Road", "Wren Halloway", "Northern Tide",
        "Kai Delmar", "The Quiet Engines", "Rosa Calder", "Echo Parade", "Milo Ashby", "Silver Meridian",
    ]

    /// The reference's `name;id` format with id 0 for "unknown": v3 names lowercased, v2 names
    /// normalised (LabelVocabulary.normV2), as each version's lookups expect.
    public static func labelLists(v3: Bool) -> (artists: String, genres: String) {
        func list(_ names: [String]) -> String {
            var lines = ["unknown;0"]
            for (i, name) in names.enumerated() {
                lines.append("\(v3 ? PythonText.lower(name) : LabelVocabulary.normV2(name));\(i + 1)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        return (list(artists), list(genres))
    }

    // MARK: Hyperparameters

    private static func ints(_ v: [Int]) -> PickleValue { .tuple(v.map { .int($0) }) }

    /// The VQ-VAE's hps: the published geometry (downs_t 3/2/2, strides 2, so hops 8/32/128 at
    /// 44.1 kHz) with smaller codebooks and convolutions.
    public static func vqvaeHps(_ preset: Preset) throws -> HyperparameterPresets.Entries {
        let s = sizes(preset)
        return HyperparameterPresets.merge(try HyperparameterPresets.hps("vqvae"), [[
            ("name", .string("random-\(preset.rawValue)")), ("restore_vqvae", .string("")),
            ("l_bins", .int(s.lBins)), ("emb_width", .int(s.embWidth)), ("width", .int(s.vqWidth)),
            ("depth", .int(s.vqDepth)),
        ]])
    }

    /// The prior at `level` (2: the top, 1 and 0: upsamplers).
    public static func priorHps(_ preset: Preset, level: Int) throws -> HyperparameterPresets.Entries {
        let s = sizes(preset)
        let vq: HyperparameterPresets.Entries = [
            ("name", .string("random-\(preset.rawValue)")), ("restore_vqvae", .string("")), ("restore_prior", .string("")),
            ("l_bins", .int(s.lBins)), ("emb_width", .int(s.embWidth)), ("width", .int(s.vqWidth)),
            ("depth", .int(s.vqDepth)),
        ]
        let artistBins = artists.count + 1, genreBins = genres.count + 1
        switch level {
        case 2:
            return HyperparameterPresets.merge(try HyperparameterPresets.hps("prior_1b_lyrics"), [vq, [
                ("n_ctx", .int(s.topCtx)), ("n_tokens", .int(s.topTokens)), ("prior_width", .int(s.topWidth)),
                ("prior_depth", .int(s.topDepth)), ("heads", .int(2)), ("blocks", .int(s.topBlocks)),
                ("y_bins", ints([genreBins, artistBins])),
                // The lyrics-to-audio alignment layer is the last prime layer (as 63 is of the 1b's 72).
                ("alignment_layer", .int(s.topDepth - 1)), ("alignment_head", .int(0)),
                ("fp16_params", .bool(false)),
            ]])
        case 0, 1:
            return HyperparameterPresets.merge(try HyperparameterPresets.hps("upsampler_level_\(level)"), [vq, [
                ("n_ctx", .int(s.upCtx)), ("prior_width", .int(s.upWidth)), ("prior_depth", .int(s.upDepth)),
                ("heads", .int(1)), ("blocks", .int(s.upBlocks)), ("cond_width", .int(s.condWidth)),
                ("cond_depth", .int(s.condDepth)), ("y_bins", ints([genreBins, artistBins])),
                // The upsamplers' label conditioner has no timing signal, but the engine reads both.
                ("min_duration", .float(17.84)), ("max_duration", .float(600.0)),
            ]])
        default:
            throw JukeboxError("level", "a model set has levels 0, 1 and 2, not \(level)")
        }
    }

    // MARK: Writing

    /// Seeds of the members, apart so no two share a stream.
    static func memberSeed(_ seed: UInt64, _ member: Int) -> UInt64 {
        var g = SeededGenerator(seed: seed &+ UInt64(member) &* 0x9E37_79B9_7F4A_7C15)
        return g.next()
    }

    /// A config as loaders read it: through the same JSON the folder holds.
    package static func parse(_ kind: ModelKind, _ hps: HyperparameterPresets.Entries, source: String) throws -> (Data, ModelConfig) {
        let bytes: [UInt8]
        do { bytes = try HyperparameterJSON.config(kind: kind, hps: hps) } catch {
            throw JukeboxError(source, "cannot write hps (\(error))")
        }
        let data = Data(bytes)
        return (data, try ModelConfig.parse(data, source: source))
    }

    /// Writes one model folder (config.json, weights.safetensors, label lists for labelled priors).
    static func writeMember(_ member: String, folder: String, preset: Preset, seed: UInt64) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if member == "vqvae" {
            let (data, config) = try parse(.vqvae, try vqvaeHps(preset), source: folder + "/config.json")
            try VQVAE.randomWeights(config.hps, seed: seed).write(to: folder + "/weights.safetensors")
            try AtomicFile.write(data, to: folder + "/config.json")
            return
        }
        guard let level = ModelSet.priorLevel(folderName: member) else { throw JukeboxError(member, "not a set member") }
        let (data, config) = try parse(.prior, try priorHps(preset, level: level), source: folder + "/config.json")
        var writer = SafetensorsWriter()
        let specs = try Prior.parameters(hps: config.hps)
        let tensors = ParameterSpec.randomTensors(specs, seed: seed)
        for spec in specs {
            guard let t = tensors[spec.key] else { throw JukeboxError(spec.key, "no random tensor made") }
            writer.add(spec.key, t)
        }
        if level < 2 {
            let recorder = ParameterRecorder(seed: seed ^ 0x5EED_C0DE, prefix: "conditioner_blocks.0")
            _ = try UpsamplerConditioner(parameters: recorder, settings: UpsamplerConditioner.Settings(config.hps))
            for e in recorder.entries { writer.add(e.key, e.tensor) }
        }
        writer.metadata = ["format": "pt", "random_preset": preset.rawValue, "seed": String(seed)]
        try writer.write(to: folder + "/weights.safetensors")
        let v3 = config.hps.has("labels_v3") ? try config.hps.bool("labels_v3") : false
        let lists = labelLists(v3: v3)
        try AtomicFile.write(Data(lists.artists.utf8), to: folder + "/" + LabelVocabulary.artistsFileName)
        try AtomicFile.write(Data(lists.genres.utf8), to: folder + "/" + LabelVocabulary.genresFileName)
        try AtomicFile.write(data, to: folder + "/config.json")
    }

    /// Writes the whole set into `output`, which must not exist or be an empty folder. The set is
    /// assembled in a hidden sibling folder and renamed into place, so a failure leaves nothing behind.
    public static func write(preset: Preset, seed: UInt64, to output: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: output, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw JukeboxError(output, "exists and is not a folder") }
            let contents = (try? fm.contentsOfDirectory(atPath: output)) ?? []
            guard contents.isEmpty else {
                throw JukeboxError(output, "already exists and is not empty; choose a new folder for the model set")
            }
        }
        let (temp, standardized) = try StagingFolder.make(beside: output, purpose: "writing")
        defer { try? fm.removeItem(atPath: temp) }
        for (i, member) in ModelSet.memberNames.enumerated() {
            try writeMember(member, folder: temp + "/" + member, preset: preset, seed: memberSeed(seed, i))
        }
        // rename() replaces an empty folder atomically; a non-empty one was refused above.
        guard rename(temp, standardized) == 0 else {
            throw JukeboxError(output, "cannot move the model set into place (\(String(cString: strerror(errno))))")
        }
    }
}
