import Foundation

/// `fetch.json` in a fetched set: what was downloaded from where (URL, size, SHA-256, date) and the
/// digest of every file the set holds, so `model verify` and a second fetch can tell a damaged file.
public struct FetchRecord: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        public var url: String
        public var bytes: Int64
        public var sha256: String
    }

    public struct File: Codable, Sendable, Equatable {
        /// Relative to the set folder.
        public var path: String
        public var bytes: Int64
        public var sha256: String
    }

    public var model: String
    /// The weight format the priors were written in (a WeightFormat's name).
    public var format: String
    public var fetched: String
    public var sources: [Source]
    public var files: [File]

    public static let fileName = "fetch.json"

    public static func load(set folder: String) throws -> FetchRecord {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "missing: not a fetched model set") }
        do { return try JSONDecoder().decode(FetchRecord.self, from: data) } catch {
            throw JukeboxError(path, "not a valid fetch record (\(error))")
        }
    }

    public func write(set folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self), to: (folder as NSString).appendingPathComponent(Self.fileName))
    }

    /// The digests of every regular file under `folder` except fetch.json, by relative path.
    static func digests(of folder: String, cancel: CancelFlag?, progress: ((String, Int64, Int64) -> Void)?) throws -> [File] {
        let fm = FileManager.default
        var out: [File] = []
        guard let walker = fm.enumerator(atPath: folder) else { throw JukeboxError(folder, "cannot list") }
        var paths: [String] = []
        while let item = walker.nextObject() as? String {
            let full = (folder as NSString).appendingPathComponent(item)
            if item != fileName, Download.fileSize(full) != nil { paths.append(item) }
        }
        for item in paths.sorted() {
            if cancel?.isCancelled == true { throw JukeboxError(folder, "interrupted while checking the files") }
            let full = (folder as NSString).appendingPathComponent(item)
            let size = Download.fileSize(full) ?? 0
            let digest = try SHA256.hex(ofFile: full) { progress?(item, $0, size) }
            out.append(File(path: item, bytes: size, sha256: digest))
        }
        return out
    }

    /// What differs between the record and the folder now: one line per missing, resized or changed file.
    public static func verify(set folder: String, cancel: CancelFlag? = nil,
                              progress: ((String, Int64, Int64) -> Void)? = nil) throws -> (record: FetchRecord, problems: [String]) {
        let record = try load(set: folder)
        var problems: [String] = []
        for file in record.files {
            if cancel?.isCancelled == true { throw JukeboxError(folder, "interrupted while checking the files") }
            let full = (folder as NSString).appendingPathComponent(file.path)
            guard let size = Download.fileSize(full) else { problems.append("\(full): missing"); continue }
            guard size == file.bytes else { problems.append("\(full): \(size) bytes, fetched with \(file.bytes)"); continue }
            let digest = try SHA256.hex(ofFile: full) { progress?(file.path, $0, size) }
            if digest != file.sha256 { problems.append("\(full): SHA-256 differs from the one recorded at fetch (damaged)") }
        }
        return (record, problems)
    }
}
