import Foundation

/// Where the studio's shipped files (themes/, presets/) live: the package folder above the executable
/// (…/.build/debug/jukebox-studio → …/themes), found by walking up from it.
public enum StudioFiles {
    public static func packageFolder(named name: String, from executable: String) -> String? {
        var dir = (executable as NSString).deletingLastPathComponent
        while !dir.isEmpty && dir != "/" {
            let candidate = (dir as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// The running executable's real path (symlinks resolved), for `packageFolder`.
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The `.toml` names in a folder, sorted, without the extension.
    public static func tomlNames(in folder: String?) -> [String] {
        guard let folder, let list = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return list.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// `--theme ARG`: a path (has a slash or ends in .toml), else a name from `themesFolder`; nil: the
    /// folder's "dark", else the built-in attributes-only theme.
    public static func theme(_ argument: String?, themesFolder: String?) throws -> Theme {
        guard let argument else {
            if let folder = themesFolder, FileManager.default.fileExists(atPath: folder + "/dark.toml") {
                return try Theme.load(folder + "/dark.toml")
            }
            return Theme.fallback
        }
        if argument.contains("/") || argument.hasSuffix(".toml") { return try Theme.load(argument) }
        let names = tomlNames(in: themesFolder)
        guard let folder = themesFolder, names.contains(argument) else {
            let known = names.isEmpty ? "no themes folder found" : "known: " + names.joined(separator: ", ")
            throw StudioFileError("--theme", argument, "unknown theme (\(known))")
        }
        return try Theme.load((folder as NSString).appendingPathComponent(argument + ".toml"))
    }
}
