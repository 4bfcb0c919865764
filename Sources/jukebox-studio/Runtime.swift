import Foundation
import JukeboxCore
import StudioKit

/// The studio's loop on the UI thread: keys and engine reports in, `update` decides, effects are
/// performed here (engine on its own thread, disk), and the rendered grid goes to the terminal.
final class Runtime {
    let terminal: Terminal
    let queue = MessageQueue()
    let engine: EngineBridge
    let audition: Audition
    var state: StudioState
    /// Where saves go; created on the first save.
    let sessionPath: String
    private var sessionCreated = false
    private var running = true
    private let signals = SignalCatcher()

    init(set: ModelSet, modelPath: String, sessionPath: String, theme: Theme) {
        terminal = Terminal(theme: theme)
        engine = EngineBridge(set: set, modelPath: modelPath, queue: queue)
        let vocabulary = engine.vocabulary
        state = StudioState(levels: set.levels, bins: Array(repeating: set.vqvae.codebookSize, count: set.levels),
                            vocabulary: vocabulary, textProcessor: TextProcessor(v3: vocabulary?.v3 ?? false))
        self.sessionPath = sessionPath
        let device = ProcessInfo.processInfo.environment["JUKEBOX_AUDIO_DEVICE"] ?? "default"
        audition = Audition(models: set, device: device, wavFolder: (sessionPath as NSString).appendingPathComponent("auditions"),
                            queue: queue)
        state.sampleRate = audition.sampleRate
    }

    /// Runs until the person quits or a signal arrives; returns the exit status.
    func run() -> Int32 {
        signals.install()
        terminal.start()
        defer { terminal.restore(); audition.shutdown() }
        let (w, h) = terminal.size
        _ = update(&state, .resize(width: w, height: h))
        state.status = "F1 help · ctrl-r sample · ctrl-s save · ctrl-q quit"
        terminal.draw(render(state))
        while running {
            if let sig = signals.caught {
                engine.stop(waitingUpTo: 3)
                if state.dirty || sessionCreated { try? save() }
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
        case .startSampling(let fields):
            audition.clearRenders()
            engine.start(fields)
        case .cancelSampling:
            engine.cancelSampling()
        case .save:
            do {
                try save()
                _ = update(&state, .saved)
                state.status = "saved to \(sessionPath)"
            } catch {
                _ = update(&state, .failed("\(error)"))
            }
        case .listPresets:
            _ = update(&state, .presetsListed(PresetEntry.list(folders: presetFolders)))
        case .savePreset(let preset):
            do {
                let file = try StudioFiles.save(preset, in: StudioFiles.userPresetsFolder())
                _ = update(&state, .presetSaved(name: preset.name, file: file))
            } catch {
                // Not `.failed`: that also ends a sampling run's display.
                state.status = "error: \(error)"
            }
        case .quit:
            running = false
        case .keepCandidate, .resample, .undo:
            state.status = "keep / resample / undo: not yet in this studio"
        case .play(let level, let range, let candidate):
            playCodes(level: level, range: range, candidate: candidate)
        case .playRender(let level, let samples):
            if !audition.playRender(level: level, samples: samples) { state.status = "that render is gone (a new run started)" }
        case .togglePause:
            audition.togglePause()
        case .seek(let seconds):
            audition.seek(by: seconds)
        case .stopPlayback:
            audition.stop()
        }
    }

    /// Saved presets first (a saved name hides a shipped one), then the package's presets/.
    private var presetFolders: [String] {
        [StudioFiles.userPresetsFolder()]
            + [StudioFiles.packageFolder(named: "presets", from: StudioFiles.executablePath)].compactMap { $0 }
    }

    /// A window of a lane, or a candidate, decoded and played.
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
        state.status = "decoding \(title)…"
        let queue = self.queue
        audition.play(codes: codes, level: level, title: title) {
            queue.post(.playback(PlaybackReport(phase: .failed($0), title: title)))
        }
    }

    private func save() throws {
        try engine.save(to: sessionPath, state: state, created: sessionCreated)
        sessionCreated = true
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
