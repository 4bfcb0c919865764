import JukeboxCore

/// One decoded stretch of one level (from an `audioDecoded` event): what the renders list shows and
/// what Enter plays. Spans are in audio samples from the song's start.
public struct RenderInfo: Sendable, Hashable {
    public var level: Int
    public var samples: Range<Int>

    public init(level: Int, samples: Range<Int>) {
        self.level = level
        self.samples = samples
    }

    /// Renders kept (newest): a long song's bottom level has hundreds of windows, each tens of
    /// thousands of samples; the runtime keeps the same number of their audio.
    public static let kept = 96

    /// What the level's decode is worth to a listener: the top level is a rough preview, each level
    /// below refines it, the bottom level is the finished sound.
    public static func quality(level: Int, of levels: Int) -> String {
        if level == levels - 1 { return "rough preview" }
        if level == 0 { return "final" }
        return "refined"
    }

    public func title(levels: Int, sampleRate: Int) -> String {
        let rate = Double(max(1, sampleRate))
        return "L\(level) \(levelName(level, of: levels)) \(Self.quality(level: level, of: levels)) "
            + "\(Self.time(Double(samples.lowerBound) / rate))-\(Self.time(Double(samples.upperBound) / rate))"
    }

    /// m:ss.cc: windows overlap and a small model's are short, so coarser times give two renders one name.
    static func time(_ seconds: Double) -> String {
        let cs = Int((max(0, seconds) * 100).rounded())
        let s = cs % 6000
        return "\(cs / 6000):\(s < 1000 ? "0" : "")\(s / 100).\(s % 100 < 10 ? "0" : "")\(s % 100)"
    }
}

/// The renders list leads with the whole song so far, one entry per level that holds it (finest first:
/// the best sound on top), then the windows decoded while sampling.
extension StudioState {
    public var songLevels: [Int] {
        guard let c = composition, !c.kept.isEmpty else { return [] }
        return (c.lowerLengths.filter { $0.value > 0 }.keys.sorted()) + [topLevel]
    }

    /// Entries of the renders list: the song's levels, then the window renders.
    public var renderEntries: Int { songLevels.count + renders.count }

    /// "L0 bottom final · whole song 0:24.00": the whole song so far at `level`.
    public func songTitle(level: Int) -> String {
        let codes = level == topLevel ? (composition?.kept.count ?? 0) : (composition?.lowerLengths[level] ?? 0)
        let name = "L\(level) \(levelName(level, of: lanes.count)) \(RenderInfo.quality(level: level, of: lanes.count)) · whole song"
        guard let hop = hopLengths[safe: level] else { return name }
        return name + " " + RenderInfo.time(Double(codes * hop) / Double(max(1, sampleRate)))
    }
}

/// What the player reports, as the runtime hands it to `update` (StudioKit knows no sound card).
public struct PlaybackReport: Sendable, Equatable {
    public enum Phase: Sendable, Equatable { case playing, paused, finished, stopped, failed(String) }
    public var phase: Phase
    public var title: String
    public var position: Double
    public var duration: Double
    public var peak: Float
    public var file: String?
    public var fallbackReason: String?

    public init(phase: Phase, title: String, position: Double = 0, duration: Double = 0, peak: Float = 0,
                file: String? = nil, fallbackReason: String? = nil) {
        (self.phase, self.title, self.position, self.duration, self.peak) = (phase, title, position, duration, peak)
        (self.file, self.fallbackReason) = (file, fallbackReason)
    }
}

/// The player as the views show it: what plays, where, how loud lately.
public struct PlaybackState: Sendable, Equatable {
    public var phase: PlaybackReport.Phase = .stopped
    public var title = ""
    public var position: Double = 0
    public var duration: Double = 0
    /// Peaks of the last chunks played, oldest first (the small waveform); the last is the meter.
    public var peaks: [Float] = []
    /// Set once the sound card failed to open: auditions go to WAV files.
    public var noSoundCard: String?
    public var lastFile: String?
    /// Loudness of auditions, 0 to 2 (1: as decoded); `+` and `-` change it.
    public var volume = 1.0
    /// Where in the kept song the audition started (0: the whole song); nil for auditions of other audio
    /// (candidates, windows decoded while sampling), whose words the song's alignment does not time.
    public var songOffset: Double?

    public init() {}

    public static let peakHistory = 24
    public var isActive: Bool { phase == .playing || phase == .paused }
}

/// Seek steps while auditioning: ← and → a few seconds, `,` and `.` a minute (as common terminal players do).
public let seekSeconds = 5.0
public let longSeekSeconds = 60.0
/// Volume step of `+` and `-`.
public let volumeStep = 0.1

/// Every engine job (a round of candidates, an undo's redraw, an upsample) lists its own renders;
/// the runtime drops their audio at the same effects.
func clearRenders(_ state: inout StudioState) {
    state.renders = []
    state.selectedRender = 0
}

func addRender(_ state: inout StudioState, level: Int, samples: Range<Int>) {
    guard state.lanes.indices.contains(level), !samples.isEmpty, samples.lowerBound >= 0 else { return }
    let render = RenderInfo(level: level, samples: samples)
    if !state.renders.contains(render) {
        state.renders.append(render)
        if state.renders.count > RenderInfo.kept {
            state.renders.removeFirst(state.renders.count - RenderInfo.kept)
            state.selectedRender = max(0, state.selectedRender - 1)
        }
    }
    let quality = RenderInfo.quality(level: level, of: state.lanes.count)
    state.status = "level \(level): \(quality) decoded (Enter plays it)"
}

func applyPlayback(_ report: PlaybackReport, to state: inout StudioState) {
    var p = state.playback
    p.phase = report.phase
    p.title = report.title
    p.position = report.position
    p.duration = report.duration
    if report.phase == .playing {
        p.peaks.append(min(max(report.peak.isFinite ? report.peak : 0, 0), 1))
        if p.peaks.count > PlaybackState.peakHistory { p.peaks.removeFirst(p.peaks.count - PlaybackState.peakHistory) }
    }
    if let reason = report.fallbackReason { p.noSoundCard = reason }
    switch report.phase {
    case .finished:
        if let file = report.file {
            p.lastFile = file
            state.status = p.noSoundCard != nil ? "no sound card: wrote \(file)" : "wrote \(file)"
        } else {
            state.status = "played \(report.title)"
        }
    case .failed(let text): state.status = "error: playback: \(text)"
    case .paused: state.status = "paused \(report.title)"
    case .stopped: state.status = "stopped"
    case .playing: break
    }
    state.playback = p
}

/// Keys of the lanes screen that audition: ↑↓ pick a render, Enter plays it, Space pauses or resumes
/// (or plays the pick), ← → seek, `,` `.` seek a minute, `+` `-` volume, s stops. Returns nil for keys that
/// are not about audition.
func auditionKey(_ state: inout StudioState, _ key: Key) -> [StudioEffect]? {
    switch key {
    case .up:
        state.selectedRender = max(0, state.selectedRender - 1)
    case .down:
        state.selectedRender = min(max(0, state.renderEntries - 1), state.selectedRender + 1)
    case .enter:
        return playSelectedRender(&state)
    case .char(" "):
        if state.playback.isActive { return [.togglePause] }
        return playSelectedRender(&state)
    case .left:
        return state.playback.isActive ? [.seek(seconds: -seekSeconds)] : []
    case .right:
        return state.playback.isActive ? [.seek(seconds: seekSeconds)] : []
    case .char(","), .char("<"):
        return state.playback.isActive ? [.seek(seconds: -longSeekSeconds)] : []
    case .char("."), .char(">"):
        return state.playback.isActive ? [.seek(seconds: longSeekSeconds)] : []
    case .char("+"), .char("="), .char("-"):
        let up = key != .char("-")
        // In tenths, so ten steps down from 1 reach 0 exactly.
        let tenths = ((state.playback.volume / volumeStep).rounded() + (up ? 1 : -1))
        state.playback.volume = min(max(tenths * volumeStep, 0), 2)
        state.status = String(format: "volume %.0f%%", state.playback.volume * 100)
        return [.setVolume(state.playback.volume)]
    case .char("s"):
        return state.playback.isActive ? [.stopPlayback] : []
    default:
        return nil
    }
    return []
}

private func playSelectedRender(_ state: inout StudioState) -> [StudioEffect] {
    let song = state.songLevels
    if let level = song[safe: state.selectedRender] {
        state.status = "playing \(state.songTitle(level: level))"
        state.playback.songOffset = 0
        return [.playSong(level: level)]
    }
    guard let render = state.renders[safe: state.selectedRender - song.count] else {
        state.status = state.sampling ? "no render yet: each finished window is decoded as sampling goes"
            : "nothing decoded to play yet"
        return []
    }
    state.status = "playing \(render.title(levels: state.lanes.count, sampleRate: state.sampleRate))"
    state.playback.songOffset = nil
    return [.playRender(level: render.level, samples: render.samples)]
}
