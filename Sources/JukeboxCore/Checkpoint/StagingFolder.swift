import Foundation

/// A hidden working folder beside an output folder: on the same filesystem, so a finished result moves
/// into place with one rename() and a failed one leaves nothing where the output goes.
package enum StagingFolder {
    /// Creates the output's parent if needed and a fresh `.NAME.PURPOSE-…` folder in it; returns the
    /// working folder and the output path standardised.
    package static func make(beside output: String, purpose: String) throws -> (folder: String, output: String) {
        let fm = FileManager.default
        let standardized = (output as NSString).standardizingPath
        var parent = (standardized as NSString).deletingLastPathComponent
        if parent.isEmpty { parent = "." }
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw JukeboxError(parent, "cannot create folder (\(error.localizedDescription))")
        }
        let base = (standardized as NSString).lastPathComponent
        let folder = (parent as NSString).appendingPathComponent(".\(base).\(purpose)-\(getpid())-\(UUID().uuidString.prefix(8))")
        guard (try? fm.createDirectory(atPath: folder, withIntermediateDirectories: false)) != nil else {
            throw JukeboxError(folder, "cannot create a working folder next to the output")
        }
        return (folder, standardized)
    }
}

extension StagingFolder {
    /// Writes a folder whole or not at all: `fill` writes into a fresh staging folder beside `output`,
    /// which then takes `output`'s place. A folder already there is moved aside first and removed only
    /// once the new one is in, so a crash at any moment leaves the old folder or the new one, never a
    /// mix; if `fill` fails, `output` is untouched and the staging folder is removed.
    package static func replace(_ output: String, purpose: String, _ fill: (_ work: String) throws -> Void) throws {
        let (work, target) = try make(beside: output, purpose: purpose)
        let fm = FileManager.default
        do {
            try fill(work)
            var old: String? = nil
            if fm.fileExists(atPath: target) {
                old = work + ".previous"
                try fm.moveItem(atPath: target, toPath: old!)
            }
            try fm.moveItem(atPath: work, toPath: target)
            if let old { try? fm.removeItem(atPath: old) }
        } catch {
            try? fm.removeItem(atPath: work)
            throw error
        }
    }
}
