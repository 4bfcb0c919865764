import Foundation

/// A session on disk: a folder with `session.json` (SessionDocument), `codes.safetensors` (z0, z1, z2 as
/// N×T int64, whatever exists so far) and rendered audio `render-level{L}-sample{i}.wav`.
/// Every write is atomic (temporary file, fsync, rename), so a crash leaves the previous file whole.
/// A damaged file is an error naming it; nothing is ever silently replaced.
public struct SessionFolder: Sendable {
    public let path: String

    public static let documentName = "session.json"
    public static let codesName = "codes.safetensors"

    public var documentPath: String { (path as NSString).appendingPathComponent(Self.documentName) }
    public var codesPath: String { (path as NSString).appendingPathComponent(Self.codesName) }

    public func renderPath(level: Int, sample: Int) -> String {
        (path as NSString).appendingPathComponent("render-level\(level)-sample\(sample).wav")
    }

    public init(path: String) { self.path = path }

    /// The rendered WAVs of the finest level the folder holds, in sample order; nil where none is rendered.
    public func finestRenders() -> (level: Int, files: [String])? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let renders = names.compactMap { name -> (level: Int, sample: Int)? in
            guard name.hasPrefix("render-level"), name.hasSuffix(".wav") else { return nil }
            let parts = name.dropFirst("render-level".count).dropLast(".wav".count).split(separator: "-")
            guard parts.count == 2, parts[1].hasPrefix("sample"), let level = Int(parts[0]),
                  let sample = Int(parts[1].dropFirst("sample".count)) else { return nil }
            return (level, sample)
        }
        guard let finest = renders.map(\.level).min() else { return nil }
        return (finest, renders.filter { $0.level == finest }.map(\.sample).sorted().map { renderPath(level: finest, sample: $0) })
    }

    /// Makes a new session folder (creating it if needed) and writes its first session.json.
    /// Refuses a folder that already holds a session.
    public static func create(at path: String, document: SessionDocument) throws -> SessionFolder {
        let folder = SessionFolder(path: path)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw JukeboxError(path, "exists and is not a folder")
        }
        if fm.fileExists(atPath: folder.documentPath) {
            throw JukeboxError(folder.documentPath, "a session already exists here; open it instead")
        }
        do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw JukeboxError(path, "cannot create the session folder (\(error.localizedDescription))")
        }
        try folder.save(document)
        return folder
    }

    /// Opens an existing session: reads, migrates and checks session.json.
    public static func open(_ path: String) throws -> (folder: SessionFolder, document: SessionDocument) {
        let folder = SessionFolder(path: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw JukeboxError(path, "no such session folder")
        }
        folder.removeStrayTemporaryFiles()
        return (folder, try folder.loadDocument())
    }

    /// Temporary files an atomic write left when its process died (`NAME.tmp-PID` of a PID no longer
    /// running): never the session's state, so they go on open. A live writer's file is left alone.
    func removeStrayTemporaryFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names {
            guard let marker = name.range(of: ".tmp-", options: .backwards),
                  [Self.documentName, Self.codesName].contains(String(name[..<marker.lowerBound])),
                  let pid = Int32(name[marker.upperBound...]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(name))
            }
        }
    }

    // MARK: session.json

    public func loadDocument() throws -> SessionDocument {
        let source = documentPath
        guard let data = FileManager.default.contents(atPath: source) else {
            throw JukeboxError(source, "missing or unreadable")
        }
        return try Self.decodeDocument(data, source: source)
    }

    /// Parses session.json bytes: version first, then migration, then the typed document.
    public static func decodeDocument(_ data: Data, source: String) throws -> SessionDocument {
        guard !data.isEmpty else { throw JukeboxError(source, "is empty (damaged?)") }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw JukeboxError(source, "is not valid JSON (truncated or damaged?)")
        }
        guard let object = parsed as? [String: Any] else { throw JukeboxError(source, "is not a JSON object") }
        guard let versionValue = object["formatVersion"] else { throw JukeboxError(source, "has no formatVersion") }
        // A JSON true/false also reads as an NSNumber; its objCType tells it apart ("c").
        guard let number = versionValue as? NSNumber, String(cString: number.objCType) != "c",
              let version = Int(exactly: number.doubleValue) else {
            throw JukeboxError(source, "formatVersion should be an integer, found \(versionValue)")
        }
        var bytes = data
        if version != SessionDocument.currentFormatVersion {
            let migrated = try SessionMigration.migrate(object, from: version, source: source)
            bytes = try JSONSerialization.data(withJSONObject: migrated)
        }
        let document: SessionDocument
        do { document = try JSONDecoder().decode(SessionDocument.self, from: bytes) } catch let error as DecodingError {
            throw JukeboxError(source, describe(error))
        }
        try document.validate(source: source)
        return document
    }

    public static func encodeDocument(_ document: SessionDocument) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(document)
    }

    /// Writes session.json atomically after checking the document.
    public func save(_ document: SessionDocument) throws {
        try document.validate(source: documentPath)
        try AtomicFile.write(Self.encodeDocument(document), to: documentPath)
    }

    /// A DecodingError as one line naming the field.
    static func describe(_ error: DecodingError) -> String {
        func field(_ path: [CodingKey]) -> String {
            let parts = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            var out = ""
            for p in parts { out += p.hasPrefix("[") || out.isEmpty ? p : "." + p }
            return out.isEmpty ? "the document" : out
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "field \(field(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "field \(field(context.codingPath)) should be \(type)"
        case .valueNotFound(let type, let context):
            return "field \(field(context.codingPath)) is null; expected \(type)"
        case .dataCorrupted(let context):
            return "field \(field(context.codingPath)) is invalid (\(context.debugDescription))"
        @unknown default:
            return "cannot be read"
        }
    }

    // MARK: codes.safetensors

    /// Writes the codes that exist so far (levels absent from `codes` are not written).
    public func saveCodes(_ codes: [Int: LevelCodes], samples: Int) throws {
        for (level, c) in codes where c.n != samples {
            throw JukeboxError(codesPath, "z\(level) has \(c.n) rows for \(samples) samples")
        }
        let matrices = codes.keys.sorted().map { (name: "z\($0)", codes: codes[$0]!) }
        try CodesFile.write(matrices, to: codesPath, metadata: ["session_format": String(SessionDocument.currentFormatVersion)])
    }

    /// The codes of `document`'s session, checked against its history: every kept window must lie inside the
    /// codes on disk, so a missing, short or replaced codes file is reported, never taken as less work done.
    public func loadCodes(for document: SessionDocument, levels: Int) throws -> [Int: LevelCodes] {
        let codes = try loadCodes(samples: document.prompt.samples, levels: levels)
        let exists = FileManager.default.fileExists(atPath: codesPath)
        for record in document.history where record.kept != nil {
            let have = codes[record.level]?.t ?? 0
            let needed = record.start + record.length
            guard needed <= have else {
                let what = exists ? "holds \(have) codes at level \(record.level)" : "is missing"
                throw JukeboxError(codesPath, "\(what), but \(Self.documentName) records level \(record.level) sampled up to code "
                                   + "\(needed); restore the file from a copy, or sample a new session")
            }
        }
        return codes
    }

    /// The codes so far, by level; none when the file does not exist yet. Every matrix must have one
    /// row per sample; `levels` bounds the level names accepted (z0 ... z{levels-1}).
    public func loadCodes(samples: Int, levels: Int = 3) throws -> [Int: LevelCodes] {
        guard FileManager.default.fileExists(atPath: codesPath) else { return [:] }
        let file = try SafetensorsFile(path: codesPath)
        var out: [Int: LevelCodes] = [:]
        for name in file.names {
            guard name.hasPrefix("z"), let level = Int(name.dropFirst()), level >= 0, level < levels else {
                throw JukeboxError(codesPath, "unexpected tensor \(name) (a session holds z0 to z\(levels - 1))")
            }
            let codes = try CodesFile.read(file, name)
            guard file.entries[name]?.shape.count == 2 else {
                throw JukeboxError(codesPath, "\(name) has shape \(file.entries[name]?.shape ?? []); expected samples × codes")
            }
            guard codes.n == samples else {
                throw JukeboxError(codesPath, "\(name) has \(codes.n) rows but the session has \(samples) samples")
            }
            if let bad = codes.values.first(where: { $0 < 0 }) {
                throw JukeboxError(codesPath, "\(name) holds the negative code \(bad)")
            }
            out[level] = codes
        }
        return out
    }
}
