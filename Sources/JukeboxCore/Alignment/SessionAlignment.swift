import Foundation

/// A session's `alignment.json`: when each sample sings each part of its lyrics, and the codes file it was read
/// from (a later keep or continue makes new codes, and the alignment is made again for them).
public struct SessionAlignment: Codable, Equatable, Sendable {
    public static let fileName = "alignment.json"
    public static let currentFormat = 1

    public var formatVersion: Int
    /// The codes file (as session.json names it) the alignment was read from.
    public var codesFile: String?
    /// Why the samples have no timed lyrics, or how they were timed when not from attention.
    public var note: String?
    /// One per sample, in order.
    public var samples: [LyricAlignment]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", codesFile = "codes_file", note, samples
    }

    public static func path(_ folder: SessionFolder) -> String { (folder.path as NSString).appendingPathComponent(fileName) }

    /// The saved alignment, or nil when there is none; a damaged file is an error naming it.
    public static func load(_ folder: SessionFolder) throws -> SessionAlignment? {
        let path = path(folder)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            let a = try JSONDecoder().decode(SessionAlignment.self, from: data)
            guard a.formatVersion <= currentFormat else {
                throw JukeboxError(path, "format \(a.formatVersion) is newer than this jukebox reads (\(currentFormat))")
            }
            return a
        } catch let e as JukeboxError { throw e } catch {
            throw JukeboxError(path, "not an alignment file (\(error.localizedDescription)); delete it to make it again")
        }
    }

    public func save(_ folder: SessionFolder) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(encoder.encode(self), to: Self.path(folder))
    }

    /// The saved alignment when it belongs to the session's current codes (nil: none, or made for older codes).
    public static func saved(folder: SessionFolder, document: SessionDocument) throws -> SessionAlignment? {
        guard let saved = try load(folder), saved.codesFile == document.codesFile,
              saved.samples.count == document.prompt.samples else { return nil }
        return saved
    }

    /// The saved alignment when it belongs to the session's current codes, else one made now and saved.
    public static func current(folder: SessionFolder, document: SessionDocument, models: ModelSet,
                               cancel: CancelFlag? = nil) throws -> SessionAlignment {
        if let saved = try saved(folder: folder, document: document) { return saved }
        let made = try compute(folder: folder, document: document, models: models, cancel: cancel)
        try made.save(folder)
        return made
    }

    /// Reads each sample's top-level codes with the alignment layer and head of the set's timing prior (its
    /// alignment prior when it has one, else the top prior). Sessions without lyrics,
    /// or sampled from a prior that does not read them, get samples with no lines and a note saying why; a prior
    /// that reads lyrics but has no alignment layer chosen gets the lyric windows' even spread, said in the note.
    public static func compute(folder: SessionFolder, document: SessionDocument, models: ModelSet,
                               cancel: CancelFlag? = nil) throws -> SessionAlignment {
        let n = document.prompt.samples, top = models.topLevel
        let lyrics = document.prompt.lyrics
        let codes = try folder.loadCodes(for: document, levels: models.vqvae.levels)[top]
        let sr = Double(models.vqvae.sampleRate), hop = models.vqvae.hopLengths[top]
        func empty(_ note: String) -> SessionAlignment {
            let text = TextProcessor(v3: true)
            let seconds = Double((codes?.t ?? 0) * hop) / sr
            return SessionAlignment(formatVersion: currentFormat, codesFile: document.codesFile, note: note,
                                    samples: (0..<n).map { _ in LyricAlignment(method: "none", lyrics: "", text: text, onsets: [],
                                                                               weights: [], seconds: seconds) })
        }
        guard let codes, codes.t > 0 else { return empty("no top-level codes sampled yet") }
        guard !lyrics.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return empty("no lyrics: an instrumental") }
        let prior = try models.lyricTimingPrior()
        let resolved = try PromptResolver.resolve(PromptRequest(mode: document.prompt.mode), models: models, session: document.prompt)
        guard prior.prior.config.nTokens > 0, let (labeller, song) = resolved.labels else {
            return empty("the top prior does not read lyrics")
        }
        guard !song.fullTokens.isEmpty else { return empty("no character of the lyrics is in the model's vocabulary") }
        let secondsPerCode = Double(hop) / sr
        guard let layer = try prior.hps.optionalInt("alignment_layer"), let head = try prior.hps.optionalInt("alignment_head"),
              prior.prior.lyricLayers.contains(layer) else {
            let clip = Double(codes.t) * secondsPerCode
            let even = LyricAlignment.evenSpread(lyrics: lyrics, text: labeller.text, songSeconds: Double(song.totalLength) / sr,
                                                 offsetSeconds: Double(song.offset) / sr, seconds: clip)
            return SessionAlignment(formatVersion: currentFormat, codesFile: document.codesFile,
                                    note: "the top prior has no alignment layer (`jukebox train alignment` chooses one): words spread evenly over the song",
                                    samples: Array(repeating: even, count: n))
        }
        // A head `train alignment` found to follow the words better held near the even spread (ours: alignment_spread).
        let spread = prior.hps.has(LyricAlignment.spreadKey) ? try prior.hps.double(LyricAlignment.spreadKey) : nil
        let samples = try (0..<n).map { row -> LyricAlignment in
            let map = try AttentionMap.compute(prior: prior.prior, layers: [layer], codes: Array(codes.row(row)), song: song,
                                               rawToTokens: hop, cancel: cancel)[0]
            return LyricAlignment.fromAttention(map, layer: layer, head: head, lyrics: lyrics, text: labeller.text,
                                                secondsPerCode: secondsPerCode,
                                                evenPrior: spread.map { (Double(song.totalLength) / sr, Double(song.offset) / sr, $0) })
        }
        return SessionAlignment(formatVersion: currentFormat, codesFile: document.codesFile, note: nil, samples: samples)
    }
}
