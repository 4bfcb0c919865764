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
