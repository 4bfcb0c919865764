import Foundation
import JukeboxCore

/// A folder of the user's own recordings made into a corpus the training commands take (`dataset encode`,
/// `train prior`): each file libsndfile reads, at any rate and channel count, converted to mono 16-bit WAV at
/// the corpus rate, with its labels, lyrics, tempo and a held-out split. The source folder is only read.
///
/// Labels come from `labels.csv` or `labels.toml` in the folder (per file, relative to the folder: `artist`,
/// `genre` and optionally `lyrics` — a text or LRC file — and `bpm`; ImportLabels), else the first folder below
/// it names the artist (`DIR/ARTIST/…`), else `artist`; the genre is the labels file's or `genre`. Lyrics are a `.txt` or
/// `.lrc` beside the file with its name; an LRC with a time on every word also gives the words' times. Files
/// that cannot be read are listed with the reason and left out, never fatal.
public enum CorpusImporter {
    public struct Options: Sendable {
        public var artist: String?
        public var genre: String?
        /// About one song in this many is held out (chosen from a hash of its path and `seed`: reproducible).
        public var heldOutEvery = 7
        public var seed: UInt64 = 0
        public var sampleRate = 44100
        /// Recordings longer than this are listed and left out (a whole album or a night's mix in one file
        /// costs minutes and gigabytes to import; raise it to keep them).
        public var longestMinutes = 60.0
        public init(artist: String? = nil, genre: String? = nil) { (self.artist, self.genre) = (artist, genre) }
    }

    public struct Report: Sendable {
        public let songs: [CorpusSong]
        /// Files left out, relative to the source, each with why.
        public let skipped: [(file: String, reason: String)]
    }

    /// Extensions taken as audio (the rest of the folder, lyrics and covers, is not).
    public static let audioExtensions: Set<String> = ["wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff",
                                                      "aifc", "au", "snd", "caf", "w64", "wv", "rf64"]

    public static func importFolder(_ source: String, to output: String, options: Options,
                                    progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Report {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: source, isDirectory: &isFolder), isFolder.boolValue else {
            throw JukeboxError(source, "no such folder")
        }
        let sourceRoot = URL(fileURLWithPath: source).standardizedFileURL.resolvingSymlinksInPath().path
        let outputPath = URL(fileURLWithPath: output).standardizedFileURL.path
        guard !(outputPath + "/").hasPrefix(sourceRoot + "/") else {
            throw JukeboxError(output, "is inside the source folder \(source), which import never writes to")
        }
        if let existing = try? fm.contentsOfDirectory(atPath: output), !existing.isEmpty {
            throw JukeboxError(output, "already exists and is not empty")
        }
        guard options.heldOutEvery >= 0 else { throw JukeboxError("--held-out-every", "must not be negative") }
        guard options.longestMinutes.isFinite, options.longestMinutes * 60 >= shortestSeconds else {
            throw JukeboxError("--longest-minutes", "must be at least \(shortestSeconds / 60) (the \(Int(shortestSeconds)) s a song needs)")
        }
        let labels = try ImportLabels.read(folder: source)
        guard labels != nil || options.genre != nil else {
            throw JukeboxError("--genre", "is needed: the folder has no labels.csv or labels.toml to name each song's genre")
        }
        let files = try audioFiles(in: source)
        guard !files.isEmpty else { throw JukeboxError(source, "holds no audio files (\(audioExtensions.sorted().joined(separator: ", ")))") }

        let (staging, target) = try StagingFolder.make(beside: output, purpose: "import")
        do {
            try fm.createDirectory(atPath: staging + "/audio", withIntermediateDirectories: true)
            var songs: [CorpusSong] = [], sources: [String] = [], skipped: [(String, String)] = []
            for (n, file) in files.enumerated() {
                defer { progress(n + 1, files.count) }
                let id = String(format: "u%04d", songs.count)
                do {
                    let labelled = try label(file, in: source, labels: labels, options: options)
                    let path = (source as NSString).appendingPathComponent(file)
                    let (seconds, opening) = try convert(path, to: staging + "/audio/\(id).wav", sampleRate: options.sampleRate,
                                                       longestSeconds: options.longestMinutes * 60)
                    let beat = heardBeat(opening, sampleRate: options.sampleRate, labelled: labelled.bpm)
                    songs.append(CorpusSong(id: id, file: "audio/\(id).wav", genre: labelled.genre, artist: labelled.artist,
                                            lyrics: labelled.lyrics?.text ?? "", seconds: seconds, bpm: beat.bpm, key: "unknown", split: "train",
                                            words: labelled.lyrics?.words, downbeat: beat.downbeat))
                    sources.append(file)
                } catch {
                    try? fm.removeItem(atPath: staging + "/audio/\(id).wav")
                    skipped.append((file, (error as? JukeboxError)?.message ?? "\(error)"))
                }
            }
            if let labels {
                let present = Set(files.map { ($0 as NSString).standardizingPath })
                for named in labels.rows.keys.sorted() where !present.contains(named) {
                    skipped.append((named, "named in \(labels.fileName) but not found in the folder"))
                }
            }
            guard !songs.isEmpty else {
                throw JukeboxError(source, "no file could be imported: " + skipped.prefix(3).map { "\($0.0): \($0.1)" }.joined(separator: "; "))
            }
            songs = heldOut(songs, sources: sources, options: options)
            try writeIndex(songs, source: sourceRoot, skipped: skipped, options: options, into: staging)
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }   // an empty folder
            guard rename(staging, target) == 0 else {
                throw JukeboxError(target, "cannot move the imported corpus into place (\(String(cString: strerror(errno))))")
            }
            return Report(songs: songs, skipped: skipped)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
    }

    /// A file's artist, genre, lyrics and tempo (nil: to be estimated), from the labels file, its folder and the
    /// options; a file none of them labels is an error saying what is missing.
    static func label(_ file: String, in source: String, labels: ImportLabels?, options: Options) throws
        -> (artist: String, genre: String, lyrics: SongLyrics?, bpm: Double?) {
        let row = labels?.row(for: file)
        if let labels, row == nil { throw JukeboxError(file, "not listed in \(labels.fileName)") }
        let components = file.split(separator: "/")
        guard let artist = nonEmpty(row?.artist) ?? (components.count > 1 ? String(components[0]) : options.artist) else {
            throw JukeboxError(file, "no artist: put it in a folder named after the artist, name it in a labels file, or give --artist")
        }
        guard let genre = nonEmpty(row?.genre) ?? options.genre else {
            throw JukeboxError(file, "no genre in \(labels?.fileName ?? "a labels file") and no --genre")
        }
        let path = (source as NSString).appendingPathComponent(file)
        let lyrics = try SongLyrics.find(for: path, named: row?.lyrics.map { (source as NSString).appendingPathComponent($0) })
        return (artist, genre, lyrics, row?.bpm)
    }

    /// The recordings of a folder as songs, labelled as an import labels them, read where they are (`file`
    /// relative to the folder, split "test"), without writing anything: what `eval continuation` continues.
    /// Only each file's first minute is decoded (for the tempo) and its length taken from the header.
    public static func recordings(in source: String, options: Options) throws -> Report {
        let labels = try ImportLabels.read(folder: source)
        var songs: [CorpusSong] = [], skipped: [(file: String, reason: String)] = []
        for file in try audioFiles(in: source) {
            do {
                let labelled = try label(file, in: source, labels: labels, options: options)
                let reader = try AudioReader((source as NSString).appendingPathComponent(file), sampleRate: options.sampleRate)
                var opening: [Float] = []
                while opening.count < 60 * options.sampleRate, let block = try reader.next() { opening += block }
                let seconds = reader.declaredSeconds
                let beat = heardBeat(opening, sampleRate: options.sampleRate, labelled: labelled.bpm)
                songs.append(CorpusSong(id: (file as NSString).deletingPathExtension.replacingOccurrences(of: "/", with: "-"), file: file,
                                        genre: labelled.genre, artist: labelled.artist, lyrics: labelled.lyrics?.text ?? "", seconds: seconds,
                                        bpm: beat.bpm, key: "unknown", split: "test", words: labelled.lyrics?.words, downbeat: beat.downbeat))
            } catch {
                skipped.append((file, (error as? JukeboxError)?.message ?? "\(error)"))
            }
        }
        return Report(songs: songs, skipped: skipped)
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let t = s?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return nil }
        return t
    }

    /// Audio files below `folder` by extension, relative paths in order; hidden files and folders are passed
    /// over. Linked folders are followed (a music library is often assembled from links), each real folder once.
    public static func audioFiles(in folder: String) throws -> [String] {
        let fm = FileManager.default
        guard fm.isReadableFile(atPath: folder) else { throw JukeboxError(folder, "cannot be read") }
        var found: [String] = [], seen: Set<String> = []
        func walk(_ relative: String) {
            let path = relative.isEmpty ? folder : (folder as NSString).appendingPathComponent(relative)
            guard seen.insert((path as NSString).resolvingSymlinksInPath).inserted,
                  let items = try? fm.contentsOfDirectory(atPath: path) else { return }
            for item in items.sorted() where !item.hasPrefix(".") {
                let child = relative.isEmpty ? item : relative + "/" + item
                var isFolder: ObjCBool = false
                guard fm.fileExists(atPath: (path as NSString).appendingPathComponent(item), isDirectory: &isFolder) else { continue }
                if isFolder.boolValue { walk(child) }
                else if audioExtensions.contains((item as NSString).pathExtension.lowercased()) { found.append(child) }
            }
        }
        walk("")
        return found.sorted()
    }

    /// Recordings shorter than this are left out: no prior's window learns from a blip.
    public static let shortestSeconds = 2.0
    /// A recording whose loudest sample stays below this (−80 dBFS) is silence, with nothing to learn.
    static let silentPeak: Float = 1e-4

    /// Streams the file into a mono WAV at `sampleRate`; returns its length in seconds and its first minute
    /// (for the tempo). A silent, too short or too long recording is an error saying so (a listed skip); the
    /// length the header states is checked before anything is decoded, the length read as it streams (headers
    /// can lie, and some formats state none).
    static func convert(_ path: String, to wav: String, sampleRate: Int,
                        longestSeconds: Double = .infinity) throws -> (seconds: Double, opening: [Float]) {
        let reader = try AudioReader(path, sampleRate: sampleRate)
        func tooLong(_ seconds: Double, streamed: Bool = false) -> JukeboxError {
            JukeboxError(path, "\(streamed ? "more than " : "")\(clock(seconds)) long, longer than the \(clock(longestSeconds)) a recording may be here (split it, or raise --longest-minutes)")
        }
        guard reader.declaredSeconds <= longestSeconds else { throw tooLong(reader.declaredSeconds) }
        let writer = try WAVWriter(wav, channels: 1, sampleRate: sampleRate)
        let longest = longestSeconds * Double(sampleRate)
        var count = 0, opening: [Float] = [], peak: Float = 0
        while let block = try reader.next() {
            try writer.write(block)
            count += block.count
            guard Double(count) <= longest else { throw tooLong(longestSeconds, streamed: true) }
            for x in block { peak = max(peak, abs(x)) }
            if opening.count < 60 * sampleRate { opening += block.prefix(60 * sampleRate - opening.count) }
        }
        guard count > 0 else { throw JukeboxError(path, "holds no audio frames") }
        let seconds = Double(count) / Double(sampleRate)
        guard seconds >= shortestSeconds else {
            throw JukeboxError(path, String(format: "%.1f s long, shorter than the %.0f s a song needs", seconds, shortestSeconds))
        }
        guard peak >= silentPeak else { throw JukeboxError(path, "is silent (no sample above -80 dBFS)") }
        try writer.finish()
        return (seconds, opening)
    }

    /// A length as h:mm:ss or m:ss, as a player shows it.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// The tempo and first beat of a recording's opening, where its bar clock runs from: a labels file's
    /// tempo as given, else the one heard (`BeatGrid`, to a fraction of a percent: a clock 1% off is a beat
    /// out after 100 beats), folded into 70–180 BPM; 120 from the start when no beat is heard.
    static func heardBeat(_ opening: [Float], sampleRate: Int, labelled bpm: Double?) -> (bpm: Double, downbeat: Double) {
        func milli(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
        if let bpm { return (bpm, milli(AudioFeatures.firstBeat(opening, sampleRate: sampleRate, bpm: bpm))) }
        guard let grid = BeatGrid.hear(opening, sampleRate: sampleRate)?.folded(into: 70...180) else { return (120, 0) }
        return (milli(grid.bpm), milli(grid.firstBeat))
    }

    /// Marks the held-out songs: a hash of each song's source path (and the seed) picks about one in
    /// `heldOutEvery`, and with two songs or more at least one is held out.
    static func heldOut(_ songs: [CorpusSong], sources: [String], options: Options) -> [CorpusSong] {
        guard options.heldOutEvery > 0, songs.count >= 2 else { return songs }
        let hashes = sources.map { path -> UInt64 in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ options.seed
            for b in path.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return h
        }
        var test = Set(hashes.indices.filter { hashes[$0] % UInt64(options.heldOutEvery) == 0 })
        if test.isEmpty, let least = hashes.indices.min(by: { hashes[$0] < hashes[$1] }) { test.insert(least) }
        if test.count == songs.count { test.remove(test.max()!) }
        var marked = songs
        for i in test { marked[i].split = "test" }
        return marked
    }

    private static func writeIndex(_ songs: [CorpusSong], source: String, skipped: [(String, String)], options: Options,
                                   into folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let lines = try songs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder + "/songs.jsonl")
        let artists = songs.map(\.artist).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let genres = songs.map(\.genre).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        try CorpusIndex.writeLabelLists(artists: artists, genres: genres, into: folder)
        struct Summary: Encodable {
            let format: Int, source: String, sample_rate: Int, total_seconds: Double, songs: Int, held_out: Int
            let genres: [String], artists: [String], skipped: [[String: String]]
        }
        let summary = Summary(format: CorpusBuilder.formatVersion, source: source, sample_rate: options.sampleRate,
                              total_seconds: songs.reduce(0) { $0 + $1.seconds }, songs: songs.count,
                              held_out: songs.filter { $0.split == "test" }.count, genres: genres, artists: artists,
                              skipped: skipped.map { ["file": $0.0, "reason": $0.1] })
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(summary), to: folder + "/dataset.json")
    }
}
