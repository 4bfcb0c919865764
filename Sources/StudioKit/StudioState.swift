import JukeboxCore

public enum Screen: Sendable, Equatable {
    case composer, lanes, candidates, help
    /// Recent sessions to open (Ctrl-O).
    case open
}

/// The composer's fields (focus order: `StudioState.fields`).
public enum ComposerField: Sendable, Equatable, Hashable {
    case genre, artist, lyrics, seconds, totalSeconds, temperature(level: Int), seed, candidates
}

/// Incremental fuzzy search over one label list.
public struct Picker: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case genre, artist }
    public var kind: Kind
    public var query: String = ""
    public var results: [String] = []
    /// What the set knows of each result (an artist's genre and tempo), shown beside it.
    public var details: [String] = []
    public var selected: Int = 0

    public init(kind: Kind) { self.kind = kind }
}

/// The live view of one level: codes sampled so far (for the sample on show), windows, speed.
public struct Lane: Sendable, Equatable {
    public var level: Int
    /// Code per position, -1 where not sampled yet; grows to the planned total.
    public var codes: [Int] = []
    /// Codebook size (for the glyph of a code).
    public var bins: Int
    public var total: Int = 0
    /// Positions sampled so far (the sampling cursor).
    public var done: Int = 0
    /// Start positions of the windows seen so far, and the one being sampled.
    public var windowStarts: [Int] = []
    public var currentWindow: Range<Int>? = nil
    public var tokensPerSecond: Double = 0
    public var eta: Double = 0
    public var finished = false

    public init(level: Int, bins: Int) {
        self.level = level
        self.bins = max(1, bins)
    }
}

/// Everything the studio shows; views read it, only `update` changes it.
public struct StudioState: Sendable {
    public var width: Int
    public var height: Int
    public var screen: Screen = .composer
    /// Where the help overlay returns to.
    public var underHelp: Screen = .composer
    /// The help overlay's page (Views.swift, helpPages): it opens on the page of the screen below.
    public var helpPage = 0

    // Composer.
    public var genre = ""
    public var artist = ""
    public var lyrics = ""
    public var seconds: Double = 20
    public var totalSeconds: Double = 180
    /// Top level last; one per level of the model set.
    public var temperatures: [Double]
    public var seed: UInt64 = 0
    public var candidateCount = 3
    public var focus: ComposerField = .genre
    public var picker: Picker? = nil
    /// The preset overlay (PresetMenu.swift), when open.
    public var presetMenu: PresetMenu? = nil

    // Lanes, top level last.
    public var lanes: [Lane]
    public var lyricSpan = ""
    /// When the kept song sings each line and word (the session's alignment), for the lyrics pane to follow.
    public var timedLyrics: LyricAlignment?
    public var sampling = false

    // Keep or resample.
    /// The new stretch of each candidate of the current round (top-level codes after the kept line).
    public var candidates: [[Int]] = []
    public var selectedCandidate = 0
    /// The engine's co-composition (nil until sampling starts or a session is opened).
    public var composition: Composition? = nil
    /// The kept line is being upsampled (levels below the top).
    public var upsampling = false

    // Sessions.
    /// The session folder this studio writes (shown on the open screen).
    public var sessionPath = ""
    public var recent: [RecentSession] = []
    public var selectedRecent = 0
    /// Where the open screen returns to.
    public var underOpen: Screen = .composer

    // Audition: what was decoded while sampling, the pick, the player (see Audition.swift).
    public var renders: [RenderInfo] = []
    public var selectedRender = 0
    public var playback = PlaybackState()
    /// Audio samples per code of each level (for the length of the whole song; empty: not known).
    public var hopLengths: [Int] = []
    /// The model's sample rate (for the times of renders).
    public var sampleRate = 44100

    public var status = ""
    /// Unsaved work exists (sampled or kept since the last save).
    public var dirty = false
    /// Asking "quit without saving?".
    public var confirmingQuit = false
    public var ticks = 0

    /// The model's label lists and lyric vocabulary (nil: free text, no suggestions).
    public var vocabulary: LabelVocabulary?
    public var textProcessor: TextProcessor
    /// The set's tempos when its top prior keeps a bar clock or it has a bar guide (nil: neither, nothing to show).
    public var barClockTempos: SamplingDefaults? = nil
    /// The set's sampling.json (nil: it has none): the artists' genres for the picker.
    public var setDefaults: SamplingDefaults? = nil

    public init(width: Int = 80, height: Int = 24, levels: Int = 3, bins: [Int]? = nil,
                vocabulary: LabelVocabulary? = nil, textProcessor: TextProcessor = TextProcessor(v3: false)) {
        self.width = width
        self.height = height
        let levels = max(1, levels)
        temperatures = (0..<levels).map { $0 == levels - 1 ? 0.98 : 0.99 }
        lanes = (0..<levels).map { Lane(level: $0, bins: bins?[safe: $0] ?? 2048) }
        self.vocabulary = vocabulary
        self.textProcessor = textProcessor
    }

    public var topLevel: Int { lanes.count - 1 }

    /// Composer fields in focus order.
    public var fields: [ComposerField] {
        [.genre, .artist, .seconds, .totalSeconds]
            + (0..<lanes.count).reversed().map { ComposerField.temperature(level: $0) }
            + [.seed, .candidates, .lyrics]
    }

    /// The tempo the bar clock will keep for the artist as typed, e.g. "124 bpm" (nil without a clock).
    public var tempoHint: String? {
        barClockTempos?.tempo(typed: artist, vocabulary: vocabulary, bpm: nil).map { String(format: "%.0f bpm", $0) }
    }

    /// An artist of the set's list (by its key in the list): the genre it sang in the training corpus and its
    /// tempo, as far as the set knows them.
    public func artistFacts(_ key: String) -> (genre: String?, bpm: Double?) {
        guard let name = artistName(key: key) else { return (nil, nil) }
        return (setDefaults?.artistGenres[name], barClockTempos?.artistTempos[name])
    }

    /// The set's note when the artist typed sings in none of its songs and lyrics are given (nil otherwise).
    public var instrumentalNote: String? {
        guard let v = vocabulary, let name = artistName(key: v.artistKey(artist)) else { return nil }
        return setDefaults?.instrumentalNote(artist: name, lyrics: lyrics)
    }

    /// The name in the set's list (as sampling.json keys its facts) of the artist under `key`; nil when not listed.
    private func artistName(key: String) -> String? {
        guard let v = vocabulary, let id = v.artists.ids[key] else { return nil }
        return v.artistName(id: id)
    }

    /// The lyrics as the model will see them, and what it drops.
    public var cleanedLyrics: CleanedLyrics { textProcessor.inspect(lyrics) }

    public var isTooSmall: Bool { width < StudioState.minimumWidth || height < StudioState.minimumHeight }
    public static let minimumWidth = 80
    public static let minimumHeight = 24

    public var promptFields: PromptFields {
        PromptFields(genre: genre, artist: artist, lyrics: lyrics, seconds: seconds, totalSeconds: totalSeconds,
                     temperatures: temperatures, seed: seed, candidates: candidateCount)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
