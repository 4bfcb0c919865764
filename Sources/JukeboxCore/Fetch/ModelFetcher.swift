import Foundation

/// `jukebox model fetch`: downloads a published set's checkpoints and label lists, converts each into its
/// member folder (optionally straight into a compact weight format), records what it fetched, and moves
/// the set into place whole.
///
/// Everything in between lives in `<set>.partial`, which survives a failure or Ctrl-C: a rerun resumes a
/// cut download, takes finished downloads (checked against their recorded SHA-256) and finished members
/// as they are, and so never fetches a finished file twice. A download is deleted once its member is
/// converted, so the disk holds at most one checkpoint beside the set.
public struct ModelFetcher {
    public struct Request: Sendable {
        public var model: PublishedModel
        public var output: String
        public var checkpoints: URL
        public var labels: URL
        /// The priors' weight format. f16 keeps the published fp16 weights exactly, stored output-major so the
        /// set is mapped rather than copied when it loads; f32 widens them; bf16, q8 and q4 compact them.
        public var format: WeightFormat

        public init(model: PublishedModel, output: String, checkpoints: URL, labels: URL, format: WeightFormat = .f16) {
            self.model = model
            self.output = output
            self.checkpoints = checkpoints
            self.labels = labels
            self.format = format
        }
    }

    /// What the fetch is doing, for a progress display.
    public enum Event: Sendable {
        case downloading(url: String, received: Int64, total: Int64?)
        case downloaded(url: String, bytes: Int64)
        case hashing(file: String, done: Int64, total: Int64)
        case step(String)
        case warning(String)
    }

    public enum Outcome: Sendable {
        /// The set was fetched now; its record.
        case fetched(FetchRecord)
        /// The set was there already and every file matches its record.
        case alreadyPresent(FetchRecord)
    }

    public let request: Request
    let events: (Event) -> Void
    let cancel: CancelFlag?
    let fm = FileManager.default

    public init(_ request: Request, cancel: CancelFlag? = nil, events: @escaping (Event) -> Void = { _ in }) {
        self.request = request
        self.cancel = cancel
        self.events = events
    }

    public static func stagingFolder(for output: String) -> String {
        (output as NSString).standardizingPath + ".partial"
    }

    var staging: String { Self.stagingFolder(for: request.output) }
    var downloads: String { staging + "/downloads" }
    var converted: String { staging + "/converted" }
    var assembled: String { staging + "/set" }
    var progressPath: String { staging + "/progress.json" }

    public func run() throws -> Outcome {
        if fm.fileExists(atPath: request.output) { return try existing() }
        try prepareStaging()
        do {
            return try fetchIntoStaging()
        } catch {
            if !holdsWork() { try? fm.removeItem(atPath: staging) }
            throw error
        }
    }

    /// Whether the staging folder holds anything worth resuming from: a byte downloaded or a member converted.
    func holdsWork() -> Bool {
        guard let walker = fm.enumerator(atPath: staging) else { return false }
        while let item = walker.nextObject() as? String {
            guard ["downloads/", "converted/", "set/"].contains(where: item.hasPrefix) else { continue }
            if (Download.fileSize(staging + "/" + item) ?? 0) > 0 { return true }
        }
        return false
    }

    func fetchIntoStaging() throws -> Outcome {
        var progress = try loadProgress()

        events(.step("label lists"))
        for path in PublishedModel.labelPaths {
            _ = try download(PublishedModel.url(path, under: request.labels), to: downloads + "/" + path, progress: &progress)
        }
        let labelsFolder = downloads + "/jukebox/data/ids"
        for member in request.model.members {
            try fetchMember(member, labelsFolder: labelsFolder, progress: &progress)
        }

        try checkCancel()
        events(.step("recording what was fetched"))
        let files = try FetchRecord.digests(of: assembled, cancel: cancel) { events(.hashing(file: $0, done: $1, total: $2)) }
        let record = FetchRecord(model: request.model.name, format: request.format.rawValue,
                                 fetched: ISO8601DateFormatter().string(from: Date()),
                                 sources: progress.sources, files: files)
        do { _ = try ModelSet.inspect(assembled) } catch {
            throw JukeboxError(staging, "the converted members do not make a set (\(error)); remove this folder and fetch again")
        }
        try record.write(set: assembled)
        guard rename(assembled, request.output) == 0 else {
            throw JukeboxError(request.output, "cannot move the fetched set into place (\(String(cString: strerror(errno))))")
        }
        try? fm.removeItem(atPath: staging)
        return .fetched(record)
    }

    /// A folder already at the output: a finished fetch of this model is checked and kept; anything else is refused.
    func existing() throws -> Outcome {
        let recordPath = (request.output as NSString).appendingPathComponent(FetchRecord.fileName)
        guard fm.fileExists(atPath: recordPath) else {
            throw JukeboxError(request.output, "already exists and is not a fetched model set; choose a new folder")
        }
        let record = try FetchRecord.load(set: request.output)
        guard record.model == request.model.name else {
            throw JukeboxError(request.output, "already holds the fetched model \(record.model), not \(request.model.name)")
        }
        events(.step("checking the set already at \(request.output)"))
        let (_, problems) = try FetchRecord.verify(set: request.output, cancel: cancel) { events(.hashing(file: $0, done: $1, total: $2)) }
        if let first = problems.first {
            throw JukeboxError(first + (problems.count > 1 ? " (and \(problems.count - 1) more)" : "")
                               + "; remove \(request.output) and fetch again")
        }
        return .alreadyPresent(record)
    }

    // MARK: Staging

    /// The request a staging folder was begun for: a rerun must ask for the same set in the same format.
    struct StagedRequest: Codable, Equatable {
        var model: String
        var format: String
    }

    /// Downloads finished so far, in the order they finished.
    struct Progress: Codable {
        var sources: [FetchRecord.Source] = []
    }

    func prepareStaging() throws {
        let requestPath = staging + "/request.json"
        let mine = StagedRequest(model: request.model.name, format: request.format.rawValue)
        if fm.fileExists(atPath: staging) {
            guard let data = fm.contents(atPath: requestPath), let theirs = try? JSONDecoder().decode(StagedRequest.self, from: data) else {
                throw JukeboxError(staging, "exists but is not a model fetch in progress; move it away and fetch again")
            }
            guard theirs == mine else {
                throw JukeboxError(staging, "holds a fetch of \(theirs.model) (\(theirs.format)) in progress; "
                                   + "run that fetch again to finish it, or remove the folder")
            }
            events(.step("resuming the fetch kept in \(staging)"))
            // A conversion cut short leaves a hidden staging folder of its own: nothing in it is reused.
            for name in (try? fm.contentsOfDirectory(atPath: converted)) ?? [] where name.hasPrefix(".") {
                try? fm.removeItem(atPath: converted + "/" + name)
            }
            for name in (try? fm.contentsOfDirectory(atPath: assembled)) ?? [] where name.hasPrefix(".") {
                try? fm.removeItem(atPath: assembled + "/" + name)
            }
            return
        }
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw JukeboxError(staging, "cannot create the staging folder (\((error as NSError).localizedDescription))")
        }
        try AtomicFile.write(try JSONEncoder().encode(mine), to: requestPath)
    }

    func loadProgress() throws -> Progress {
        guard let data = fm.contents(atPath: progressPath) else { return Progress() }
        do { return try JSONDecoder().decode(Progress.self, from: data) } catch {
            throw JukeboxError(progressPath, "unreadable (\(error)); remove \(staging) and fetch again")
        }
    }

    func saveProgress(_ progress: Progress) throws {
        try AtomicFile.write(try JSONEncoder().encode(progress), to: progressPath)
    }

    func checkCancel() throws {
        if cancel?.isCancelled == true {
            throw JukeboxError(request.output, "interrupted; what was fetched is kept in \(staging), run again to resume")
        }
    }

    // MARK: Downloads

    /// Downloads `url` unless done; a download finished in an earlier run is first checked against its digest.
    func download(_ url: URL, to path: String, progress: inout Progress) throws -> String {
        try checkCancel()
        let key = url.absoluteString
        if let recorded = progress.sources.first(where: { $0.url == key }), Download.fileSize(path) != nil {
            events(.step("checking \((path as NSString).lastPathComponent), downloaded before"))
            let digest = try SHA256.hex(ofFile: path) { events(.hashing(file: path, done: $0, total: recorded.bytes)) }
            if digest == recorded.sha256 { return path }
            events(.warning("\(path): damaged since it was downloaded (SHA-256 differs); fetching it again"))
            try? fm.removeItem(atPath: path)
        }
        progress.sources.removeAll { $0.url == key }
        let size = try Download.fetch(url, to: path, cancel: cancel) { events(.downloading(url: key, received: $0, total: $1)) }
        events(.downloaded(url: key, bytes: size))
        let digest = try SHA256.hex(ofFile: path) { events(.hashing(file: path, done: $0, total: size)) }
        progress.sources.append(FetchRecord.Source(url: key, bytes: size, sha256: digest))
        try saveProgress(progress)
        return path
    }

    // MARK: Members

    /// One checkpoint: downloaded, converted into its member folder, quantized when asked; each stage
    /// is skipped when an earlier run finished it.
    func fetchMember(_ member: PublishedModel.Member, labelsFolder: String, progress: inout Progress) throws {
        let final = assembled + "/" + member.folder
        if fm.fileExists(atPath: final + "/config.json") { return }
        let staged = converted + "/" + member.folder
        let pack = request.format != .f32 && member.folder != "vqvae"
        if !fm.fileExists(atPath: staged + "/config.json") {
            let url = PublishedModel.url(member.path, under: request.checkpoints)
            let file = try download(url, to: downloads + "/" + member.path, progress: &progress)
            try checkCancel()
            events(.step("converting \(member.path) into \(member.folder)"))
            try fm.createDirectory(atPath: converted, withIntermediateDirectories: true)
            let summary: CheckpointConverter.Summary
            do {
                summary = try CheckpointConverter.convert(input: file, output: staged, preset: member.preset,
                                                          labelsDirectory: labelsFolder, keepHalf: request.format != .f32,
                                                          architectureFromCheckpoint: true)
            } catch let error as JukeboxError where error.subject == file || !(error.subject ?? "").hasPrefix(staging) {
                // The bytes arrived whole but are not a usable checkpoint (errors about the files being written
                // name the staging folder): drop them so a rerun fetches them anew.
                try? fm.removeItem(atPath: file)
                progress.sources.removeAll { $0.url == url.absoluteString }
                try saveProgress(progress)
                throw JukeboxError(url.absoluteString, "downloaded, but not a usable checkpoint: \(error.message) (removed; run again to fetch it anew)")
            }
            summary.warnings.forEach { events(.warning("\(member.folder): \($0)")) }
            try? fm.removeItem(atPath: file)
        }
        try checkCancel()
        try fm.createDirectory(atPath: assembled, withIntermediateDirectories: true)
        if pack {
            events(.step("writing \(member.folder) in \(request.format.rawValue)"))
            _ = try WeightQuantizer.quantize(staged, to: request.format, output: final)
            try fm.removeItem(atPath: staged)
        } else {
            guard rename(staged, final) == 0 else {
                throw JukeboxError(final, "cannot move the converted member into place (\(String(cString: strerror(errno))))")
            }
        }
    }
}
