import Foundation

/// Brings an older session.json up to the current format, one version at a time. Each step takes
/// the JSON object of version v and returns version v + 1. When the format changes, bump
/// currentFormatVersion and add the step from the old version here (never edit an existing step).
public enum SessionMigration {
    public typealias Step = @Sendable ([String: Any]) throws -> [String: Any]

    /// steps[v] turns version v into v + 1.
    public static let steps: [Int: Step] = [
        // 2 names its codes file (`codesFile`); a session of format 1 has none and keeps codes.safetensors.
        1: { $0 },
    ]

    /// The oldest version this build can open.
    public static let oldestReadable = 1

    /// `object` (a parsed session.json of `version`) in the current format, or a one-line reason why not.
    public static func migrate(_ object: [String: Any], from version: Int, source: String,
                               steps: [Int: Step] = steps, current: Int = SessionDocument.currentFormatVersion) throws -> [String: Any] {
        if version > current {
            throw JukeboxError(source, "format version \(version) is newer than this build reads (\(current)); open it with a newer jukebox")
        }
        if version < 1 {
            throw JukeboxError(source, "format version \(version) is not a version any jukebox wrote")
        }
        var object = object
        var v = version
        while v < current {
            guard let step = steps[v] else {
                throw JukeboxError(source, "format version \(v) is older than this build can migrate (oldest: \(oldestReadable))")
            }
            do { object = try step(object) } catch let e as JukeboxError {
                throw e.about(source)
            }
            v += 1
            object["formatVersion"] = v
        }
        return object
    }
}
