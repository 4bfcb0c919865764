import Foundation

/// The reference's published model sets: which checkpoint files make each one, where they live, and the
/// preset each is converted with. The one place that knows the published layout; `model fetch` asks it.
public struct PublishedModel: Sendable {
    /// One checkpoint of the set and the member folder it becomes.
    public struct Member: Sendable {
        /// `vqvae`, `prior_level_0`, `prior_level_1` or `prior_level_2`.
        public let folder: String
        /// Path under the checkpoint location, as the reference lays it out (`jukebox/models/5b/vqvae.pth.tar`).
        public let path: String
        /// The reference's hyperparameter set for it (HyperparameterPresets).
        public let preset: String
    }

    public let name: String
    public let summary: String
    public let members: [Member]

    public static let names = all.map(\.name)

    public static func named(_ name: String) -> PublishedModel? { all.first { $0.name == name } }

    /// Where the reference publishes its checkpoints, and the repository that holds its label id lists.
    public static let defaultCheckpointsURL = "https://openaipublic.azureedge.net/"
    public static let defaultLabelsURL = "https://raw.githubusercontent.com/openai/jukebox/master/"
    /// Environment variables that replace the two locations (a mirror, a local folder, a test server).
    public static let checkpointsURLVariable = "JUKEBOX_BASE_URL"
    public static let labelsURLVariable = "JUKEBOX_LABELS_URL"

    /// The label id lists, under the labels location; every published prior reads v2 or v3 ones.
    public static let labelPaths = ["v2", "v3"].flatMap { version in
        ["artist", "genre"].map { "jukebox/data/ids/\(version)_\($0)_ids.txt" }
    }

    private static let shared: [Member] = [
        Member(folder: "vqvae", path: "jukebox/models/5b/vqvae.pth.tar", preset: "vqvae"),
        Member(folder: "prior_level_1", path: "jukebox/models/5b/prior_level_1.pth.tar", preset: "upsampler_level_1"),
        Member(folder: "prior_level_0", path: "jukebox/models/5b/prior_level_0.pth.tar", preset: "upsampler_level_0"),
    ]

    private static func top(_ folder: String, _ preset: String) -> [Member] {
        [Member(folder: "prior_level_2", path: "jukebox/models/\(folder)/prior_level_2.pth.tar", preset: preset)] + shared
    }

    public static let all: [PublishedModel] = [
        PublishedModel(name: "5b", summary: "5B top prior on genre and artist, no lyrics",
                       members: top("5b", "prior_5b")),
        PublishedModel(name: "5b_lyrics", summary: "5B top prior on genre, artist and lyrics",
                       members: top("5b_lyrics", "prior_5b_lyrics")),
        PublishedModel(name: "1b_lyrics", summary: "1B top prior on genre, artist and lyrics (v3 labels)",
                       members: top("1b_lyrics", "prior_1b_lyrics")),
    ]

    /// A location as given on the command line or in the environment: a URL, or a local folder.
    public static func location(_ text: String) throws -> URL {
        if text.hasPrefix("/") { return URL(fileURLWithPath: text, isDirectory: true) }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https", "file"].contains(scheme) else {
            throw JukeboxError(text, "not an http, https or file URL, nor an absolute folder")
        }
        return url
    }

    /// `path` under a location, whether or not the location ends in a slash.
    public static func url(_ path: String, under base: URL) -> URL {
        let text = base.absoluteString
        return URL(string: (text.hasSuffix("/") ? text : text + "/") + path) ?? base.appendingPathComponent(path)
    }
}

extension PublishedModel {
    /// A member's weights as the preset's architecture has them: transformer matrices ([n_in, n_out]),
    /// which a weight format packs, and every other parameter.
    public struct MemberWeights: Sendable {
        public let folder: String
        public let matrices: [(nIn: Int, nOut: Int)]
        public let otherParameters: Int

        public var parameters: Int { matrices.reduce(otherParameters) { $0 + $1.nIn * $1.nOut } }

        /// Bytes on disk (and mapped in memory) in `format`: matrices packed, the rest as fetched
        /// (priors' other tensors 16-bit unless f32 was asked for; the VQ-VAE in float32).
        public func bytes(_ format: WeightFormat) -> Int {
            let packed = matrices.reduce(0) { $0 + format.forMatrix(nIn: $1.nIn, nOut: $1.nOut).matrixBytes(nOut: $1.nOut, nIn: $1.nIn) }
            let otherBytes = folder == "vqvae" || format == .f32 ? 4 : 2
            return packed + otherParameters * otherBytes
        }
    }

    /// The members' weights, counted from the presets (shapes only: nothing is filled).
    public func weights() throws -> [MemberWeights] {
        try members.map { try Self.weights(of: $0) }
    }

    /// Counted once per preset: the three sets share their VQ-VAE and upsamplers.
    private static let counted = WeightCounts()

    private final class WeightCounts: @unchecked Sendable {
        let lock = NSLock()
        var byPreset: [String: MemberWeights] = [:]
    }

    private static func weights(of member: Member) throws -> MemberWeights {
        counted.lock.lock()
        defer { counted.lock.unlock() }
        if let known = counted.byPreset[member.preset] { return known }
        let weights = try count(member)
        counted.byPreset[member.preset] = weights
        return weights
    }

    private static func count(_ member: Member) throws -> MemberWeights {
        let kind: ModelKind = member.folder == "vqvae" ? .vqvae : .prior
        let hps = try RandomModelSet.parse(kind, HyperparameterPresets.hps(member.preset), source: "preset \(member.preset)").1.hps
        if member.folder == "vqvae" {
            let recorder = ParameterRecorder(fill: false)
            _ = try VQVAE(hps: VQVAEHyperparameters(hps), parameters: recorder)
            return MemberWeights(folder: member.folder, matrices: [], otherParameters: recorder.entries.reduce(0) { $0 + $1.tensor.count })
        }
        var matrices: [(nIn: Int, nOut: Int)] = []
        var other = 0
        for spec in try Prior.parameters(hps: hps) {
            if case .sameAs = spec.initial { continue }
            if ResAttnBlockWeights.isMatrix(spec) { matrices.append((spec.shape[0], spec.shape[1])) } else { other += spec.count }
        }
        if member.folder != "prior_level_2" {
            let recorder = ParameterRecorder(fill: false, prefix: "conditioner_blocks.0")
            _ = try UpsamplerConditioner(parameters: recorder, settings: UpsamplerConditioner.Settings(hps))
            other += recorder.entries.reduce(0) { $0 + $1.tensor.count }
        }
        return MemberWeights(folder: member.folder, matrices: matrices, otherParameters: other)
    }
}
