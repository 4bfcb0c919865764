import Foundation

/// The model set shipped in the repository (`Sources/JukeboxCore/DefaultModel`, trained by
/// `jukebox model train-default`), used by `jukebox sample` and the studio when no model is named.
///
/// Found, in order: `$JUKEBOX_MODEL` (for an installed binary, or to point every command at another set);
/// else the folder above the running executable that holds it (…/.build/release/jukebox → the checkout).
public enum BundledModel {
    /// The set's folder, relative to the package root.
    public static let relativePath = "Sources/JukeboxCore/DefaultModel"
    public static let environmentVariable = "JUKEBOX_MODEL"

    /// The bundled set's folder, or a one-line error that says where it was looked for.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                              executable: String = PackageFolder.executablePath) throws -> String {
        if let named = environment[environmentVariable], !named.isEmpty {
            guard isModelSet(named) else { throw JukeboxError("\(environmentVariable)=\(named)", "no model set there (no vqvae folder)") }
            return named
        }
        if let folder = PackageFolder.find(relativePath, from: executable), isModelSet(folder) { return folder }
        throw JukeboxError("the bundled model", "not found at \(relativePath) above \(executable); name a model set or set \(environmentVariable)")
    }

    /// `named` when given, else the bundled set.
    public static func resolve(_ named: String?) throws -> String {
        if let named { return named }
        return try locate()
    }

    private static func isModelSet(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("vqvae"))
    }
}

/// Folders shipped beside the sources (themes/, presets/, the bundled model): found by walking up from the
/// running executable, so a build inside the checkout finds them wherever it is run from.
public enum PackageFolder {
    /// The first `dir/name` that is a folder, for dir the executable's folder and each folder above it.
    public static func find(_ name: String, from executable: String) -> String? {
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

    /// The running executable's real path (symlinks resolved).
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
