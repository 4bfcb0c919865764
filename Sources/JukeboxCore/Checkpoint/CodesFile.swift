import Foundation

/// Codes on disk: a safetensors file of int64 matrices (N×T): z0, z1, z2 from `jukebox encode`,
/// z / z_cond0 / y for `jukebox score`.
public enum CodesFile {
    public static func write(_ matrices: [(name: String, codes: LevelCodes)], to path: String,
                             metadata: [String: String] = [:]) throws {
        var w = SafetensorsWriter()
        for (name, codes) in matrices { w.add(name, shape: [codes.n, codes.t], int64s: codes.values) }
        w.metadata = metadata
        try w.write(to: path)
    }

    /// Reads the integer matrix `name`; a 1-D entry counts as one row.
    public static func read(_ file: SafetensorsFile, _ name: String) throws -> LevelCodes {
        guard let e = file.entries[name] else {
            let names = file.names.joined(separator: ", ")
            throw JukeboxError(file.path, "no tensor \(name) (it holds: \(names.isEmpty ? "nothing" : names))")
        }
        guard e.dtype == .i64 || e.dtype == .i32 else {
            throw JukeboxError(file.path, "\(name) holds \(e.dtype.rawValue); codes must be integers (I64)")
        }
        let values = try file.int64s(name)
        switch e.shape.count {
        case 1: return try LevelCodes(n: 1, t: e.shape[0], values: values)
        case 2: return try LevelCodes(n: e.shape[0], t: e.shape[1], values: values)
        default: throw JukeboxError(file.path, "\(name) has shape \(e.shape); expected N×T")
        }
    }

    public static func read(_ path: String, _ name: String) throws -> LevelCodes {
        try read(SafetensorsFile(path: path), name)
    }
}
