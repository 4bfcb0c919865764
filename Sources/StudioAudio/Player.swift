import Foundation

/// Audio to audition: mono or interleaved samples at a rate, with a title for the screen and file names.
public struct Clip: Sendable, Equatable {
    public var samples: [Float]
    public var sampleRate: Int
    public var channels: Int
    public var title: String

    public init(samples: [Float], sampleRate: Int, channels: Int = 1, title: String) {
        self.samples = samples
        self.sampleRate = max(1, sampleRate)
        self.channels = max(1, channels)
        self.title = title
    }

    public var frames: Int { samples.count / channels }
    public var seconds: Double { Double(frames) / Double(sampleRate) }
}

/// What the player tells its listener: after every chunk on a sound card, and at each change of state.
public struct PlayerReport: Sendable, Equatable {
    public enum Phase: Sendable, Equatable { case playing, paused, finished, stopped, failed(String) }
    public var phase: Phase
    public var title: String
    public var position: Double
    public var duration: Double
    /// Peak |sample| of the chunk just played (0…1): the level meter.
    public var peak: Float
    /// The sink's name ("ALSA default", "WAV /tmp/…").
    public var sink: String
    /// Set when the clip went to a file rather than a speaker.
    public var file: String?
    /// Why there is no sound card, when the clip went to the fallback.
    public var fallbackReason: String?
}

/// Plays one clip at a time on its own thread, so a blocking sound card never stalls the UI loop.
/// Commands (play, pause, seek, stop) only change shared fields under a lock; the thread picks them up
/// between chunks of 50 ms, which bounds how late a pause or seek is heard (plus the card's latency).
///
/// A sound card takes audio as fast as it plays it. A device that takes it faster (ALSA's null device, or
/// its file plugin in front of one) is held to the clock: the player never runs more than `lead` ahead of
/// the time since it started (or last seeked or resumed), so positions, the lyrics that follow them and
/// the level meter move as they would on a speaker. A real card's buffer (0.1 s) never lets it get there.
public final class Player: @unchecked Sendable {
    static let lead = 0.5
    private let sink: AudioSink
    private let report: @Sendable (PlayerReport) -> Void
    private let condition = NSCondition()
    private var clip: Clip?
    private var position = 0  // frames
    private var paused = false
    private var stopRequested = false
    private var shuttingDown = false
    private var generation = 0
    private var gain: Float = 1
    private var thread: Thread?
    private var idle = true

    /// How many seconds of audio the clock lets through a second (1: real time; tests run faster).
    private let speed: Double

    public init(sink: AudioSink, speed: Double = 1, report: @escaping @Sendable (PlayerReport) -> Void) {
        self.sink = sink
        self.speed = max(speed, 1e-3)
        self.report = report
        let t = Thread { [unowned self] in self.loop() }
        t.name = "jukebox-studio playback"
        thread = t
        t.start()
    }

    /// Starts `clip` from `start` seconds, replacing whatever plays.
    public func play(_ clip: Clip, from start: Double = 0) {
        condition.lock()
        self.clip = clip
        position = min(clip.frames, max(0, Int(start * Double(clip.sampleRate))))
        paused = false
        generation += 1
        idle = false
        condition.broadcast()
        condition.unlock()
    }

    /// Pauses a playing clip, resumes a paused one; returns false when nothing is loaded.
    /// Loudness of what plays from the next chunk on (1: as decoded), 0 to 2.
    public var volume: Float {
        get { condition.lock(); defer { condition.unlock() }; return gain }
        set { condition.lock(); gain = min(max(newValue, 0), 2); condition.unlock() }
    }

    @discardableResult
    public func togglePause() -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard let clip else { return false }
        paused.toggle()
        if !paused { condition.broadcast() }
        report(PlayerReport(phase: paused ? .paused : .playing, title: clip.title, position: seconds(position, clip),
                            duration: clip.seconds, peak: 0, sink: sink.name))
        return true
    }

    /// Moves the play position by `seconds` (negative: back), within the clip.
    public func seek(by seconds: Double) {
        condition.lock(); defer { condition.unlock() }
        guard let clip else { return }
        position = min(clip.frames, max(0, position + Int(seconds * Double(clip.sampleRate))))
    }

    public func stop() {
        condition.lock()
        if clip != nil { stopRequested = true; paused = false }
        condition.broadcast()
        condition.unlock()
    }

    /// True when no clip is loaded and the thread waits (tests wait for it).
    public var isIdle: Bool { condition.lock(); defer { condition.unlock() }; return idle }

    /// Stops playback and ends the thread (waits up to a second for it).
    public func shutdown() {
        condition.lock()
        shuttingDown = true
        stopRequested = true
        condition.broadcast()
        condition.unlock()
        let deadline = Date().addingTimeInterval(1)
        while thread?.isFinished == false && Date() < deadline { usleep(5_000) }
    }

    private func seconds(_ frames: Int, _ clip: Clip) -> Double { Double(frames) / Double(clip.sampleRate) }

    private func loop() {
        var openGeneration = -1
        var openSink = false
        // Where the clock started for the clip under way: its time and frame, and the frame written up to.
        var anchor = (time: Date(), frame: 0), pacedGeneration = -1, pacedEnd = -1
        while true {
            condition.lock()
            while !shuttingDown && !stopRequested && (clip == nil || paused) { idle = clip == nil; condition.wait() }
            if shuttingDown || stopRequested {
                let was = clip
                clip = nil
                stopRequested = false
                idle = true
                let ending = shuttingDown
                condition.unlock()
                if openSink { sink.close(); openSink = false }
                if let was { report(PlayerReport(phase: .stopped, title: was.title, position: 0, duration: was.seconds, peak: 0, sink: sink.name)) }
                if ending { return }
                continue
            }
            guard let current = clip else { condition.unlock(); continue }
            let start = position
            let chunk = max(1, current.sampleRate / 20)
            let end = min(current.frames, start + chunk)
            position = end
            let gen = generation, gain = self.gain
            condition.unlock()

            if gen != openGeneration || !openSink {
                if openSink { sink.close() }
                do {
                    try sink.open(sampleRate: current.sampleRate, channels: current.channels, title: current.title)
                    openSink = true
                    openGeneration = gen
                } catch {
                    openSink = false
                    finish(current, gen, .failed("\(error)"))
                    continue
                }
            }
            if sink.isRealtime {
                // A seek or another clip starts the clock again; so does falling behind it (a pause, a slow card).
                if gen != pacedGeneration || start != pacedEnd { anchor = (Date(), start); pacedGeneration = gen }
                var ahead = Double(start - anchor.frame) / Double(current.sampleRate) / speed - Date().timeIntervalSince(anchor.time)
                if ahead < -0.2 { anchor = (Date(), start); ahead = 0 }
                if ahead > Self.lead / speed { usleep(UInt32(min(ahead - Self.lead / speed, 1) * 1_000_000)) }
                pacedEnd = end
            }
            do {
                let range = (start * current.channels)..<(end * current.channels)
                // Louder than decoded clips at ±1 rather than wrapping in the sink.
                let chunkSamples = gain == 1 ? Array(current.samples[range]) : current.samples[range].map { min(max($0 * gain, -1), 1) }
                try chunkSamples.withUnsafeBufferPointer { try sink.write($0) }
                if sink.isRealtime {
                    let peak = chunkSamples.reduce(Float(0)) { max($0, abs($1)) }
                    report(PlayerReport(phase: .playing, title: current.title, position: seconds(end, current),
                                        duration: current.seconds, peak: min(peak, 1), sink: sink.name))
                }
                if end >= current.frames {
                    try sink.drain()
                    sink.close()
                    openSink = false
                    finish(current, gen, .finished)
                }
            } catch {
                sink.close()
                openSink = false
                finish(current, gen, .failed("\(error)"))
            }
        }
    }

    /// Unloads the clip unless a newer one was started meanwhile, and says how it ended.
    private func finish(_ clip: Clip, _ gen: Int, _ phase: PlayerReport.Phase) {
        condition.lock()
        if generation == gen { self.clip = nil; idle = true }
        condition.unlock()
        report(PlayerReport(phase: phase, title: clip.title, position: phase == .finished ? clip.seconds : 0,
                            duration: clip.seconds, peak: 0, sink: sink.name,
                            file: phase == .finished ? sink.writtenFile : nil, fallbackReason: sink.fallbackReason))
    }
}
