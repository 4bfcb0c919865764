import Foundation
import JukeboxCore
import StudioKit

/// The studio's loop on the UI thread: keys and engine reports in, `update` decides, effects are
/// performed here (engine jobs on their own thread, disk), and the rendered grid goes to the terminal.
final class Runtime {
    let terminal: Terminal
    let queue = MessageQueue()
    private(set) var engine: EngineBridge
    let audition: Audition
    var state: StudioState
    /// Where the session is written (created when sampling starts or on the first save).
    private(set) var sessionPath: String
    private var running = true
    private let signals = SignalCatcher()
    /// Where the lyric timing of the song being played is read (one at a time).
    private let lyricsQueue = DispatchQueue(label: "jukebox.studio.lyrics", qos: .utility)
    let recent = RecentSessionsFile.standard()

    /// `opened`: a session reopened from `sessionPath` (its kept line and prompt fill the studio).
    init(set: ModelSet, modelPath: String, sessionPath: String, opened: StudioSession? = nil, theme: Theme) {
        terminal = Terminal(theme: theme)
        engine = EngineBridge(set: set, modelPath: modelPath, queue: queue, recent: recent)
        let device = ProcessInfo.processInfo.environment["JUKEBOX_AUDIO_DEVICE"] ?? "default"
        audition = Audition(models: set, device: device, wavFolder: Self.auditionsFolder(sessionPath), queue: queue)
        state = Self.freshState(engine)
        self.sessionPath = sessionPath
        _ = update(&state, .configured(sessionPath: sessionPath, sampleRate: audition.sampleRate))
        // Before a reopened session is shown: its status line ("opened …") is the one to keep.
        if let reason = audition.noSoundCard { _ = update(&state, .noSoundCard(reason)) }
        if let opened { adopt(opened) }
    }

    /// A line for the status bar, through the update step like every change of state.
    private func note(_ text: String) { _ = update(&state, .note(text)) }

    /// Auditions go to WAV files here when there is no sound card: beside the session they came from.
    static func auditionsFolder(_ sessionPath: String) -> String {
        (sessionPath as NSString).appendingPathComponent("auditions")
    }

    static func freshState(_ engine: EngineBridge) -> StudioState {
        let set = engine.models, vocabulary = engine.vocabulary
        var state = StudioState(levels: set.levels, bins: Array(repeating: set.vqvae.codebookSize, count: set.levels),
                                vocabulary: vocabulary, textProcessor: TextProcessor(v3: vocabulary?.v3 ?? false))
        state.temperatures = set.defaultTemperatures
        if let song = set.sampling?.songSeconds { state.totalSeconds = song }
        state.setDefaults = set.sampling
        state.hopLengths = set.vqvae.hopLengths
        if let top = try? set.prior(level: set.topLevel), (try? LabelLayout(hps: top.hps))?.barClock == true || set.barGuide != nil {
            state.barClockTempos = set.samplingDefaults
        }
        return state
    }

    private func adopt(_ session: StudioSession) {
        engine.adopt(session)
        sessionPath = session.folder.path
        audition.wavFolder = Self.auditionsFolder(sessionPath)
        let document = try? session.folder.loadDocument()
        if let document {
            _ = update(&state, .sessionOpened(path: sessionPath, document: document, composition: session.composition))
        }
        if let problem = try? recent.record(session.recentEntry()) { note(problem) }
    }

    /// Runs until the person quits or a signal arrives; returns the exit status.
    func run() -> Int32 {
        signals.install()
        terminal.start()
        defer { terminal.restore(); audition.shutdown() }
        let (w, h) = terminal.size
        _ = update(&state, .resize(width: w, height: h))
        if state.status.isEmpty { note("F1 help · ctrl-r sample · ctrl-o open · ctrl-q quit") }
        terminal.draw(render(state))
        while running {
            if let sig = signals.caught {
                engine.stop(waitingUpTo: 3)
                // A job that did not stop in time still owns the session: better no save than a torn one.
                if !engine.isRunning { engine.saveNow() }
                terminal.restore()
                return 128 + sig
            }
            var messages: [StudioMessage] = []
            if let m = terminal.readMessage() {
                // Ctrl-C arrives as a key in raw mode: it asks to quit like Ctrl-Q (with the same confirmation).
                messages.append(m == .key(.ctrl("c")) ? .key(.ctrl("q")) : m)
            } else {
                messages.append(.tick)
            }
            messages += queue.drain()
            for m in messages where running {
                // Renders' audio stays here; the state only lists them.
                if case let .engine(.audioDecoded(level, samples, audio)) = m { audition.store(level: level, samples: samples, audio: audio) }
                for effect in update(&state, m) { perform(effect) }
            }
            if running { terminal.draw(render(state)) }
        }
        engine.stop(waitingUpTo: 3)
        return 0
    }

    private func perform(_ effect: StudioEffect) {
        switch effect {
        // Each job lists the renders of its own windows (update cleared the list too).
        case .startSampling(let fields):
            audition.clearRenders()
            engine.start(fields, at: sessionPath)
        case .cancelSampling:
            engine.cancelSampling()
        case .keepCandidate(let index):
            audition.clearRenders()
            engine.keep(index)
        case .resample:
            audition.clearRenders()
            engine.resample()
        case .undo:
            audition.clearRenders()
            engine.undo()
        case .upsample:
            audition.clearRenders()
            engine.upsample()
        case .save:
            if !engine.requestSave() {
                do { try engine.create(state.promptFields, at: sessionPath) } catch { _ = update(&state, .failed("\(error)")) }
            }
        case .listSessions:
            let (list, problem) = recent.load()
            _ = update(&state, .recentSessions(list, problem: problem))
        case .openSession(let path):
            open(path)
        case .listPresets:
            _ = update(&state, .presetsListed(PresetEntry.list(folders: presetFolders)))
        case .savePreset(let preset):
            do {
                let file = try StudioFiles.save(preset, in: StudioFiles.userPresetsFolder())
                _ = update(&state, .presetSaved(name: preset.name, file: file))
            } catch {
                // Not `.failed`: that also ends a sampling run's display.
                note("error: \(error)")
            }
        case .quit:
            running = false
        case .play(let level, let range, let candidate):
            playCodes(level: level, range: range, candidate: candidate)
        case .playSong(let level):
            playSong(level: level)
        case .playRender(let level, let samples):
            if !audition.playRender(level: level, samples: samples) { note("that render is gone (a new run started)") }
        case .togglePause:
            audition.togglePause()
        case .seek(let seconds):
            audition.seek(by: seconds)
        case .setVolume(let volume):
            audition.setVolume(volume)
        case .stopPlayback:
            audition.stop()
        }
    }

    /// Saved presets first (a saved name hides a shipped one), then the package's presets/.
    private var presetFolders: [String] {
        [StudioFiles.userPresetsFolder()]
            + [PackageFolder.find("presets", from: PackageFolder.executablePath)].compactMap { $0 }
    }

    /// The whole song so far at one level. The codes below the top are the session's, read only while no
    /// job runs (an upsample replaces them).
    private func playSong(level: Int) {
        let codes: [Int]?
        if level == state.topLevel {
            codes = state.composition?.kept
        } else if engine.isRunning {
            note("the engine is working: the whole song below the top level plays once it is done")
            return
        } else {
            codes = engine.session?.songCodes(level: level)
        }
        guard let codes, !codes.isEmpty else { note("nothing kept at level \(level) yet"); return }
        decodeAndPlay(codes, level: level, title: state.songTitle(level: level))
        followLyrics()
    }

    /// The saved song's lyric timing, for the lyrics pane to follow the song as it plays (read beside the
    /// audition; the engine's jobs go on).
    private func followLyrics() {
        guard let session = engine.session else { return }
        let models = engine.models, queue = engine.queue
        lyricsQueue.async {
            do {
                queue.post(.timedLyrics(try session.timedLyrics(models: models)))
            } catch {
                queue.post(.note("lyrics timing: \(error)"))
            }
        }
    }

    /// A window of a lane, or a candidate (its own codes: the new stretch), decoded and played.
    private func playCodes(level: Int, range: Range<Int>, candidate: Int?) {
        let codes: [Int]
        let title: String
        let quality = RenderInfo.quality(level: level, of: state.lanes.count)
        if let candidate, state.candidates.indices.contains(candidate) {
            codes = state.candidates[candidate]
            title = "candidate \(candidate + 1) L\(level) \(quality)"
        } else if state.lanes.indices.contains(level), range.lowerBound >= 0, range.upperBound <= state.lanes[level].codes.count {
            let lane = state.lanes[level]
            codes = Array(lane.codes[range].prefix { $0 >= 0 })
            title = "L\(level) window \(range.lowerBound)-\(range.upperBound) \(quality)"
        } else {
            return
        }
        decodeAndPlay(codes, level: level, title: title)
    }

    /// Codes of one level decoded off the UI thread and played; a failure reaches the player's line.
    private func decodeAndPlay(_ codes: [Int], level: Int, title: String) {
        note("decoding \(title)…")
        let queue = self.queue
        audition.play(codes: codes, level: level, title: title) {
            queue.post(.playback(PlaybackReport(phase: .failed($0), title: title)))
        }
    }

    /// Another session from the open screen: the running job stops (what is kept is saved already),
    /// and the studio starts over from that session's prompt and kept line.
    private func open(_ path: String) {
        if let current = engine.session?.folder.path, RecentSessionsFile.absolute(current) == RecentSessionsFile.absolute(path) {
            note("\(path) is the session open now")
            return
        }
        engine.stop(waitingUpTo: 3)
        guard !engine.isRunning else { note("the engine is still stopping; try again"); return }
        do {
            let session = try StudioSession.open(path, models: engine.models)
            let size = (state.width, state.height), noSoundCard = state.playback.noSoundCard
            // What plays and the renders were this session's; the sound card is the same.
            if state.playback.isActive { audition.stop() }
            audition.clearRenders()
            engine = EngineBridge(set: engine.models, modelPath: engine.modelPath, queue: queue, recent: recent)
            _ = queue.drain()
            // Another session is a new start, as at launch: the same model set, screen and sound card.
            state = Self.freshState(engine)
            _ = update(&state, .resize(width: size.0, height: size.1))
            _ = update(&state, .configured(sessionPath: path, sampleRate: audition.sampleRate))
            if let noSoundCard { _ = update(&state, .noSoundCard(noSoundCard)) }
            adopt(session)
        } catch {
            note("cannot open: \(error)")
        }
    }

    /// A fresh folder name in the current directory, for when --session is not given.
    static func defaultSessionPath() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "./jukebox-session-\(f.string(from: Date()))"
    }
}

/// SIGINT/SIGTERM/SIGHUP handled on a dispatch queue (not in a signal handler), so the loop can save
/// and restore the terminal itself; it looks at `caught` every tick.
final class SignalCatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int32?
    private var sources: [DispatchSourceSignal] = []

    var caught: Int32? {
        lock.lock(); defer { lock.unlock() }
        return value
    }

    func install() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                if self.value == nil { self.value = sig }
                self.lock.unlock()
            }
            source.resume()
            sources.append(source)
        }
    }
}
