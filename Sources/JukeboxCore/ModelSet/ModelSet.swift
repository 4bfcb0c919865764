import Foundation

/// A model set: a folder with `vqvae`, `prior_level_2`, `prior_level_1` and `prior_level_0`, each a
/// model folder. The priors present must run from the top level down without a gap (the top prior
/// alone is a set that makes top-level previews). Loading checks that the members agree with one
/// another before any weights are read, and names the member folder and the problem on one line.
public struct ModelSet: Sendable {
    public let folder: String
    public let vqvae: VQVAE
    /// The priors present, by level.
    public let priors: [Int: PriorModel]
    /// Artist and genre lists of each labelled prior, by level.
    public let vocabularies: [Int: LabelVocabulary]
    /// The set's own sampling temperatures (sampling.json), nil for the reference's.
    public var sampling: SamplingDefaults? = nil
    /// Where each artist's codes fall in the bar (bar_guide.safetensors), for `--bar-guidance`; nil without one.
    public var barGuide: BarGuide? = nil
    /// A copy of the top prior taught to follow the sung words (`alignment_prior`), read only for the lyrics'
    /// timing; nil without one.
    public var alignmentPrior: PriorModel? = nil

    /// What to sample with where the user names nothing: the set's own, else the reference's.
    public var samplingDefaults: SamplingDefaults { sampling ?? .reference }
    /// The temperatures to sample with when the user names none, finest level first.
    public var defaultTemperatures: [Double] { samplingDefaults.temperatures(topLevel: topLevel) }

    /// Member folder names, top prior first after the VQ-VAE (the order they are written in).
    public static let memberNames = ["vqvae", "prior_level_2", "prior_level_1", "prior_level_0"]

    public static func priorFolderName(level: Int) -> String { "prior_level_\(level)" }
    /// The level a `prior_level_K` folder name stands for; nil for any other name.
    public static func priorLevel(folderName name: String) -> Int? {
        name.hasPrefix("prior_level_") ? Int(name.dropFirst("prior_level_".count)) : nil
    }

    public var levels: Int { vqvae.levels }
    public var topLevel: Int { vqvae.levels - 1 }
    /// Levels with a prior, top first (e.g. [2] or [2, 1, 0]).
    public var availableLevels: [Int] { priors.keys.sorted(by: >) }
    /// True when every level has its prior, so sampling can go down to raw audio at full rate.
    public var isComplete: Bool { priors.count == levels }

    public func prior(level: Int) throws -> PriorModel {
        guard let p = priors[level] else {
            throw JukeboxError(folder, "this model set has no prior for level \(level) (it has \(availableLevels.map(String.init).joined(separator: ", ")))")
        }
        return p
    }

    /// The configs of a set, read and cross-checked without loading weights.
    public struct Layout: Sendable {
        public let folder: String
        public let vqvae: ModelConfig
        public let priors: [Int: ModelConfig]
        public var alignmentPrior: ModelConfig? = nil
        public var availableLevels: [Int] { priors.keys.sorted(by: >) }
    }

    public static func inspect(_ folder: String) throws -> Layout {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw JukeboxError(folder, "no such model set folder")
        }
        func path(_ member: String) -> String { (folder as NSString).appendingPathComponent(member) }
        guard fm.fileExists(atPath: path("vqvae")) else {
            throw JukeboxError(folder, "not a model set: no vqvae folder (a set holds \(memberNames.joined(separator: ", ")))")
        }
        let vqConfig = try ModelConfig.load(folder: path("vqvae"))
        let vqSource = path("vqvae") + "/config.json"
        guard vqConfig.kind == .vqvae else { throw JukeboxError(vqSource, "kind is \(vqConfig.kind.rawValue), expected vqvae") }
        let vq = try VQVAEHyperparameters(vqConfig.hps)
        let levels = vq.levels

        // Any prior_level_K folder, known or not, so a stray one is reported rather than ignored.
        let entries = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
        var present: [Int] = []
        for name in entries where name.hasPrefix("prior_level_") {
            guard let k = priorLevel(folderName: name), k >= 0, k < levels else {
                throw JukeboxError(path(name), "not a level of this set's VQ-VAE (levels 0 to \(levels - 1))")
            }
            present.append(k)
        }
        present.sort(by: >)
        guard present.first == levels - 1 else {
            throw JukeboxError(folder, "no \(priorFolderName(level: levels - 1)) (the top-level prior every set needs)")
        }
        for (i, k) in present.enumerated() where k != levels - 1 - i {
            throw JukeboxError(path(priorFolderName(level: k)),
                               "has no \(priorFolderName(level: levels - 1 - i)) above it; an upsampler needs every level above")
        }

        var priors: [Int: ModelConfig] = [:]
        for k in present {
            let member = path(priorFolderName(level: k))
            let source = member + "/config.json"
            let config = try ModelConfig.load(folder: member)
            guard config.kind == .prior else { throw JukeboxError(source, "kind is \(config.kind.rawValue), expected prior") }
            try check(config.hps, source: source, folderLevel: k, vq: vq)
            if try config.hps.bool("labels") { _ = try vocabulary(member, config.hps, source: source) }
            priors[k] = config
        }
        var layout = Layout(folder: folder, vqvae: vqConfig, priors: priors)
        if let top = priors[levels - 1] { layout.alignmentPrior = try AlignmentPrior.inspect(setFolder: folder, top: top) }
        return layout
    }

    /// A prior's hps against its folder name and the VQ-VAE: level, levels, codebook size, hops, rate.
    static func check(_ h: Hyperparameters, source: String, folderLevel k: Int, vq: VQVAEHyperparameters) throws {
        let level = try h.int("level")
        guard level == k else {
            throw JukeboxError(source, "says it is the level \(level) prior but sits in \(priorFolderName(level: k))")
        }
        let levels = try h.int("levels")
        guard levels == vq.levels else {
            throw JukeboxError(source, "has levels \(levels) but the set's VQ-VAE has \(vq.levels)")
        }
        let bins = try h.int("l_bins")
        guard bins == vq.lBins else {
            throw JukeboxError(source, "has l_bins \(bins) but the set's VQ-VAE codebook has \(vq.lBins) entries")
        }
        if h.has("downs_t") && h.has("strides_t") {
            let downs = try h.ints("downs_t"), strides = try h.ints("strides_t")
            guard downs.count == levels, strides.count == levels else {
                throw JukeboxError(source, "downs_t and strides_t need \(levels) entries each")
            }
            var hop = 1
            var hops: [Int] = []
            for l in 0..<levels {
                for _ in 0..<max(downs[l], 0) { hop *= strides[l] }
                hops.append(hop)
            }
            guard hops == vq.hopLengths else {
                throw JukeboxError(source, "hop lengths \(hops) differ from the set's VQ-VAE (\(vq.hopLengths))")
            }
        }
        if h.has("sr") {
            let sr = try h.int("sr")
            guard sr == vq.sampleRate else {
                throw JukeboxError(source, "sample rate \(sr) differs from the set's VQ-VAE (\(vq.sampleRate))")
            }
        }
    }

    /// The label lists of a labelled prior, checked against its y_bins (genres, artists).
    public static func vocabulary(_ member: String, _ h: Hyperparameters, source: String) throws -> LabelVocabulary {
        let v3 = h.has("labels_v3") ? try h.bool("labels_v3") : false
        let vocabulary = try LabelVocabulary(modelFolder: member, v3: v3)
        let bins = try h.intOrInts("y_bins")
        guard bins.count == 2 else { throw JukeboxError(source, "y_bins should be (genres, artists), found \(bins)") }
        for (list, limit, name) in [(vocabulary.genres, bins[0], "genre"), (vocabulary.artists, bins[1], "artist")] {
            if let top = list.ids.values.max(), top >= limit {
                throw JukeboxError(list.source, "\(name) id \(top) does not fit y_bins (\(limit) \(name) bins in \(source))")
            }
        }
        return vocabulary
    }

    /// Loads every member (strict weights), after inspect's consistency checks.
    public static func load(_ folder: String) throws -> ModelSet {
        let layout = try inspect(folder)
        func path(_ member: String) -> String { (folder as NSString).appendingPathComponent(member) }
        let vqvae = try VQVAE(folder: path("vqvae"))
        var priors: [Int: PriorModel] = [:]
        var vocabularies: [Int: LabelVocabulary] = [:]
        for (k, config) in layout.priors {
            let member = path(priorFolderName(level: k))
            priors[k] = try PriorModel.load(folder: member)
            if try config.hps.bool("labels") {
                vocabularies[k] = try vocabulary(member, config.hps, source: member + "/config.json")
            }
        }
        var set = ModelSet(folder: folder, vqvae: vqvae, priors: priors, vocabularies: vocabularies)
        set.sampling = try SamplingDefaults.load(setFolder: folder)
        set.barGuide = try BarGuide.load(setFolder: folder)
        if layout.alignmentPrior != nil { set.alignmentPrior = try AlignmentPrior.load(setFolder: folder) }
        if let guide = set.barGuide, let top = set.priors[set.topLevel]?.prior.config,
           guide.codes != top.lBins || (top.labels && guide.artists != top.yBins[1]) {
            throw JukeboxError((folder as NSString).appendingPathComponent(BarGuide.fileName),
                               "covers \(guide.artists) artists and \(guide.codes) codes, but the top prior has \(top.labels ? top.yBins[1] : 0) and \(top.lBins)")
        }
        return set
    }
}
