import Foundation
import JukeboxCore

/// One line of the open screen: a session folder and enough of its prompt to recognise it.
public struct RecentSession: Codable, Sendable, Equatable {
    public var path: String
    public var genre: String
    public var artist: String
    /// Seconds of kept top-level music when last saved.
    public var keptSeconds: Double
    /// When the studio last saved it, ISO 8601 (UTC).
    public var savedAt: String
    /// The folder or its session.json is gone (filled in when listing, never stored).
    public var missing = false

    enum CodingKeys: String, CodingKey { case path, genre, artist, keptSeconds, savedAt }

    public init(path: String, genre: String, artist: String, keptSeconds: Double, savedAt: String) {
        self.path = path
        self.genre = genre
        self.artist = artist
        self.keptSeconds = keptSeconds
        self.savedAt = savedAt
    }
}

/// The studio's short list of recently saved sessions: `$XDG_STATE_HOME/jukebox/recent.json`, else
/// `~/.local/state/jukebox/recent.json`. Written atomically; a damaged file is reported and moved aside
/// to `recent.json.damaged` (never silently lost, never a crash), and the list starts again.
public struct RecentSessionsFile: Sendable {
    public let path: String
    public static let limit = 12

    public init(path: String) { self.path = path }

    /// Where the list lives for this user, from the environment.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> RecentSessionsFile {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".local/state")
        return RecentSessionsFile(path: (state as NSString).appendingPathComponent("jukebox/recent.json"))
    }

    /// The list, newest first, with `missing` marked; `problem` is one line when the file was damaged.
    public func load() -> (sessions: [RecentSession], problem: String?) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], nil) }
        do {
            var list = try JSONDecoder().decode([RecentSession].self, from: data)
            for i in list.indices {
                let document = (list[i].path as NSString).appendingPathComponent(SessionFolder.documentName)
                list[i].missing = !FileManager.default.fileExists(atPath: document)
            }
            return (list, nil)
        } catch {
            let aside = path + ".damaged"
            try? FileManager.default.removeItem(atPath: aside)
            let moved = (try? FileManager.default.moveItem(atPath: path, toPath: aside)) != nil
            // The words first: a long path is what the status line cuts.
            return ([], "the recent-sessions list is damaged" + (moved ? "; moved aside to \(aside)" : ": \(path)"))
        }
    }

    /// Puts `entry` first (replacing an older line for the same folder) and keeps the newest `limit`.
    /// Returns the problem with the old file, if it was damaged.
    @discardableResult
    public func record(_ entry: RecentSession) throws -> String? {
        let (old, problem) = load()
        let key = Self.key(entry.path)
        let list = [entry] + old.filter { Self.key($0.path) != key }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let folder = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw JukeboxError(folder, "cannot create the folder for the recent-sessions list")
        }
        try AtomicFile.write(encoder.encode(Array(list.prefix(Self.limit))), to: path)
        return problem
    }

    /// Folders are compared as absolute, standardised paths (./a and a are the same session).
    static func key(_ path: String) -> String { absolute(path) }

    public static func absolute(_ path: String) -> String {
        let p = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (p as NSString).standardizingPath
    }
}
