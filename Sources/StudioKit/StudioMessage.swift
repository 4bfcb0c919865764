import JukeboxCore

/// A key press as the runtime decodes it from the terminal.
public enum Key: Sendable, Equatable {
    case char(Character)
    /// Ctrl + a letter (lowercase), e.g. .ctrl("r").
    case ctrl(Character)
    case up, down, left, right
    case tab, backTab, enter, escape, backspace
    case f1
}

/// Everything that can change the studio's state: input, terminal size, engine reports, time.
public enum StudioMessage: Sendable, Equatable {
    case key(Key)
    case resize(width: Int, height: Int)
    /// A mouse click at a cell (0-based); `double`: a double click.
    case click(x: Int, y: Int, double: Bool)
    case engine(GenerationEvent)
    /// The lyrics the current top-level window conditions on (the runtime computes it from the window plan).
    case lyricSpan(String)
    /// K candidates for the window just sampled at the top level; each is that window's codes.
    case candidatesReady([[Int]])
    /// The engine's co-composition after a step (keep, undo, candidates drawn, session reopened).
    case composition(Composition)
    /// The engine finished a job and waits for the person (song complete, upsampled, cancelled).
    case engineIdle(String)
    /// A session was opened: the composer takes its prompt, the lanes and history its kept line.
    case sessionOpened(path: String, document: SessionDocument, composition: Composition)
    /// The recent-sessions list for the open screen; `problem` says what was wrong with the list file.
    case recentSessions([RecentSession], problem: String?)
    /// Something worth a line on the status line, nothing more (a damaged recent-sessions list).
    case note(String)
    /// The session was written to disk.
    case saved
    /// The presets folders were read (for the preset overlay).
    case presetsListed([PresetEntry])
    /// A preset was written to `file`.
    case presetSaved(name: String, file: String)
    /// The sound card cannot be opened (the reason): auditions will be written as WAV files.
    case noSoundCard(String)
    /// Where the studio writes its session, and the rate its player plays at (at launch, and on opening another).
    case configured(sessionPath: String, sampleRate: Int)
    /// The audition player's state changed (or it played another chunk).
    case playback(PlaybackReport)
    /// When the kept song sings each line and word (nil: not known, or nothing sung).
    case timedLyrics(LyricAlignment?)
    /// An effect failed; shown on the status line.
    case failed(String)
    case tick
}

/// What the composer hands the engine when sampling starts.
public struct PromptFields: Sendable, Equatable {
    public var genre: String
    public var artist: String
    public var lyrics: String
    /// Length of the stretch to sample now, and of the whole song (the timing conditioning).
    public var seconds: Double
    public var totalSeconds: Double
    /// One temperature per level, top level last (level index = position).
    public var temperatures: [Double]
    public var seed: UInt64
    public var candidates: Int
    /// The tempo a bar clock keeps (nil: the artist's in the model set's corpus).
    public var bpm: Double?
    /// How strongly the set's bar guide steers the top level (nil: the set's default).
    public var barGuidance: Double?
    /// Not in the composer: carried from a reopened session (or a preset) so that what it recorded holds.
    public var topK: Int?
    public var topP: Double?
    public var downbeat: Double?
    /// How strongly the guide's genre tilt steers the top level (nil: the set's default; a reopened session
    /// keeps what the resolver read from it, 0 for one made before the tilt existed, as it was sampled).
    public var genreGuidance: Double?

    public init(genre: String, artist: String, lyrics: String, seconds: Double, totalSeconds: Double,
                temperatures: [Double], seed: UInt64, candidates: Int, bpm: Double? = nil, barGuidance: Double? = nil,
                topK: Int? = nil, topP: Double? = nil, downbeat: Double? = nil) {
        self.bpm = bpm
        self.barGuidance = barGuidance
        (self.topK, self.topP, self.downbeat) = (topK, topP, downbeat)
        self.genre = genre
        self.artist = artist
        self.lyrics = lyrics
        self.seconds = seconds
        self.totalSeconds = totalSeconds
        self.temperatures = temperatures
        self.seed = seed
        self.candidates = candidates
    }
}

/// Requests the update step makes of the runtime (engine, audio, disk); it never performs them itself.
public enum StudioEffect: Sendable, Equatable {
    case startSampling(PromptFields)
    case cancelSampling
    case keepCandidate(Int)
    case resample
    case undo
    /// Fill levels 1 and 0 for the kept line and render it.
    case upsample
    case save
    /// Read the recent-sessions list (answered by `.recentSessions`).
    case listSessions
    case openSession(String)
    /// Audition codes of `level` over `range` positions (for a candidate: its index).
    case play(level: Int, range: Range<Int>, candidate: Int?)
    case stopPlayback
    /// Audition the decoded render of `level` over audio `samples` (from an `audioDecoded` event).
    case playRender(level: Int, samples: Range<Int>)
    /// The whole song so far at one level, decoded from its start (seekable like any audition).
    case playSong(level: Int)
    case togglePause
    /// Move the play position by `seconds` (negative: back).
    case seek(seconds: Double)
    /// How loud auditions play (1: as decoded).
    case setVolume(Double)
    /// Read the presets folders (answered by `.presetsListed`).
    case listPresets
    /// Write the preset atomically into the user's presets folder (answered by `.presetSaved` or `.failed`).
    case savePreset(Preset)
    /// Leave the studio. `confirm` is true when the person confirmed dropping unsaved work.
    case quit(confirm: Bool)
}
