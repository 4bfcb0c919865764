import Foundation

/// A session on disk: a folder with `session.json` (SessionDocument), the codes file it names
/// (`codes-NNNNNN.safetensors`, a new generation per save; `codes.safetensors` in sessions of format 1: z0, z1,
/// z2 as N×T int64, whatever exists so far) and rendered audio `render-level{L}-sample{i}.wav`.
/// Every write is atomic (temporary file, fsync, rename), so a crash leaves the previous file whole, and codes
/// change with the document that names them (`save(_:codes:samples:)`).
/// A damaged file is an error naming it; nothing is ever silently replaced.
public struct SessionFolder: Sendable {
    public let path: String

    public static let documentName = "session.json"
    public static let codesName = "codes.safetensors"

    public var documentPath: String { (path as NSString).appendingPathComponent(Self.documentName) }
    /// The codes file the session's document names now (`codes.safetensors` for a session of format 1, or
    /// before any document exists).
    public var codesPath: String { codesPath(for: try? loadDocument()) }

    public func codesPath(for document: SessionDocument?) -> String {
        (path as NSString).appendingPathComponent(document?.codesFile ?? Self.codesName)
    }

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
        try makeFolder(path)
        try refuseExisting(at: path)
        try folder.save(document)
        return folder
    }

    /// Throws when `path` already holds a session: a new one is never written over it.
    public static func refuseExisting(at path: String) throws {
        let document = SessionFolder(path: path).documentPath
        if FileManager.default.fileExists(atPath: document) {
            throw JukeboxError(document, "a session already exists here; open it instead")
        }
    }

    /// The session folder at `path`, made when missing; a file in its place is refused.
    static func makeFolder(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw JukeboxError(path, "exists and is not a folder") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw JukeboxError(path, "cannot create the session folder (\(error.localizedDescription))")
        }
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
                  [Self.documentName, Self.codesName].contains(String(name[..<marker.lowerBound]))
                    || name.hasPrefix("codes-") || name.hasPrefix(Self.candidatesName),
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

    /// Writes session.json atomically after checking the document. A document that names no codes file keeps
    /// the one the session's document names now (a save of the document alone never detaches its codes).
    public func save(_ document: SessionDocument) throws {
        var document = document
        if document.codesFile == nil, FileManager.default.fileExists(atPath: documentPath) {
            document.codesFile = (try? loadDocument())?.codesFile
        }
        try document.validate(source: documentPath)
        try AtomicFile.write(Self.encodeDocument(document), to: documentPath)
    }

    /// Codes and the document that describes them, as one change: the codes go to a new generation's file,
    /// then the document naming it is renamed into place (the moment the pair changes), then older
    /// generations go. A kill at any point leaves the previous pair or the new one, whole.
    public func save(_ document: SessionDocument, codes: [Int: LevelCodes], samples: Int) throws {
        let name = String(format: "codes-%06d.safetensors", nextCodesGeneration())
        try writeCodes(codes, samples: samples, to: (path as NSString).appendingPathComponent(name))
        var document = document
        document.codesFile = name
        try save(document)
        for old in codesGenerations() where old != name {
            try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(old))
        }
    }

    /// Codes files in the folder: the legacy name and every generation's.
    func codesGenerations() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter {
            $0 == Self.codesName || ($0.hasPrefix("codes-") && $0.hasSuffix(".safetensors") && !$0.contains(".tmp-"))
        }
    }

    func nextCodesGeneration() -> Int {
        let numbers = codesGenerations().compactMap { Int($0.dropFirst("codes-".count).dropLast(".safetensors".count)) }
        return (numbers.max() ?? 0) + 1
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

    /// Writes the codes that exist so far (levels absent from `codes` are not written) into the codes file the
    /// document names now; `save(_:codes:samples:)` changes codes and document together.
    public func saveCodes(_ codes: [Int: LevelCodes], samples: Int) throws {
        try writeCodes(codes, samples: samples, to: codesPath)
    }

    private func writeCodes(_ codes: [Int: LevelCodes], samples: Int, to file: String) throws {
        for (level, c) in codes where c.n != samples {
            throw JukeboxError(file, "z\(level) has \(c.n) rows for \(samples) samples")
        }
        let matrices = codes.keys.sorted().map { (name: "z\($0)", codes: codes[$0]!) }
        try CodesFile.write(matrices, to: file, metadata: ["session_format": String(SessionDocument.currentFormatVersion)])
    }

    /// The codes of `document`'s session, checked against its history: every kept window must lie inside the
    /// codes on disk, so a missing, short or replaced codes file is reported, never taken as less work done.
    public func loadCodes(for document: SessionDocument, levels: Int) throws -> [Int: LevelCodes] {
        let codesPath = codesPath(for: document)
        let codes = try loadCodes(from: codesPath, samples: document.prompt.samples, levels: levels)
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
        try loadCodes(from: codesPath, samples: samples, levels: levels)
    }

    func loadCodes(from codesPath: String, samples: Int, levels: Int) throws -> [Int: LevelCodes] {
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
