import Foundation
import JukeboxTOML
import JukeboxCore

/// The studio's files: user presets, themes by name (the shipped themes/ and presets/ are found with
/// PackageFolder, walking up from the executable).
public enum StudioFiles {
    /// Where presets saved from the studio go: $XDG_CONFIG_HOME/jukebox/presets, else ~/.config/jukebox/presets.
    public static func userPresetsFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".config")
        return (config as NSString).appendingPathComponent("jukebox/presets")
    }

    /// Saves `preset` atomically as FOLDER/NAME.toml (creating the folder); returns the file.
    public static func save(_ preset: Preset, in folder: String) throws -> String {
        guard Preset.isValidName(preset.name) else { throw StudioFileError(preset.name, "name", "letters, digits, - and _ only") }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw StudioFileError(folder, "", "cannot create the presets folder (\(error.localizedDescription))")
        }
        let file = (folder as NSString).appendingPathComponent(preset.name + ".toml")
        try AtomicFile.write(Data(preset.toml.utf8), to: file)
        return file
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

/// A theme or preset file that cannot be used: one line naming the file, the field and what is wrong.
public typealias StudioFileError = TOMLFileError
