import Foundation
import JukeboxCore
import StudioAudio
import StudioKit

/// The studio's ears: keeps the audio of every render decoded while sampling, and plays renders,
/// windows and candidates through the player (a sound card, else WAV files in the session folder).
/// Called on the UI thread only; decoding codes and playing happen on other threads.
final class Audition {
    let vqvae: VQVAE
    let levels: Int
    private let player: Player
    private let sink: FallbackSink
    private let wavSink: WAVFileSink
    /// Why the sound card did not open when probed at start (auditions then go to WAV files).
    let noSoundCard: String?
    private var renders: [RenderInfo: [Float]] = [:]
    /// Oldest first, so the store keeps the same renders as the list on screen (RenderInfo.kept).
    private var order: [RenderInfo] = []
    private let decodeQueue = DispatchQueue(label: "jukebox-studio audition decode")

    /// `device`: the ALSA device (JUKEBOX_AUDIO_DEVICE, else "default"); `wavFolder`: where auditions
    /// go when it cannot open.
    init(models: ModelSet, device: String, wavFolder: String, queue: MessageQueue) {
        vqvae = models.vqvae
        levels = models.levels
        wavSink = WAVFileSink(folder: wavFolder)
        sink = FallbackSink(primary: ALSASink(device: device), fallback: wavSink)
        // Known at once, so the status line can say so before anything is played.
        noSoundCard = sink.probe(sampleRate: models.vqvae.sampleRate)
        player = Player(sink: sink) { report in queue.post(.playback(Self.studioReport(report))) }
    }

    var sampleRate: Int { vqvae.sampleRate }

    /// Where auditions go with no sound card; follows the session when another one is opened.
    var wavFolder: String {
        get { wavSink.folder }
        set { wavSink.folder = newValue }
    }

    static func studioReport(_ r: PlayerReport) -> PlaybackReport {
        let phase: PlaybackReport.Phase
        switch r.phase {
        case .playing: phase = .playing
        case .paused: phase = .paused
        case .finished: phase = .finished
        case .stopped: phase = .stopped
        case .failed(let text): phase = .failed(text)
        }
        return PlaybackReport(phase: phase, title: r.title, position: r.position, duration: r.duration, peak: r.peak,
                              file: r.file, fallbackReason: r.fallbackReason)
    }

    // MARK: Renders

    /// Keeps a render's audio (row 0: the sample the lanes show).
    func store(level: Int, samples: Range<Int>, audio: [[Float]]) {
        guard let row = audio.first, !row.isEmpty else { return }
        let info = RenderInfo(level: level, samples: samples)
        if renders.updateValue(row, forKey: info) == nil { order.append(info) }
        while order.count > RenderInfo.kept { renders[order.removeFirst()] = nil }
    }

    func clearRenders() {
        renders = [:]
        order = []
    }

    func playRender(level: Int, samples: Range<Int>) -> Bool {
        let info = RenderInfo(level: level, samples: samples)
        guard let audio = renders[info] else { return false }
        play(samples: audio, title: info.title(levels: levels, sampleRate: sampleRate))
        return true
    }

    // MARK: Playing (also for co-composition: a candidate's samples or codes)

    /// Plays decoded audio at the model's rate, replacing whatever plays.
    func play(samples: [Float], title: String) {
        player.play(Clip(samples: samples, sampleRate: sampleRate, title: title))
    }

    /// Plays audio decoded from `level`, titled by what that level is worth ("L2 top rough preview …").
    func play(samples: [Float], level: Int, label: String) {
        let quality = RenderInfo.quality(level: level, of: levels)
        play(samples: samples, title: "L\(level) \(quality) \(label)")
    }

    /// Decodes `codes` of `level` on a background queue (the top level is a rough preview, lower levels
    /// refine it), then plays them. `done` gets the error text if decoding fails.
    func play(codes: [Int], level: Int, title: String, failed: @escaping @Sendable (String) -> Void) {
        guard !codes.isEmpty, !codes.contains(where: { $0 < 0 }) else { failed("nothing sampled to play there yet"); return }
        let vqvae = self.vqvae, player = self.player, rate = sampleRate
        decodeQueue.async {
            do {
                let c = try LevelCodes(n: 1, t: codes.count, values: codes)
                let audio = try PartialRender.decode(vqvae: vqvae, codes: c, level: level, range: 0..<codes.count)
                let samples = Array(UnsafeBufferPointer(start: audio.data, count: audio.shape[1]))
                player.play(Clip(samples: samples, sampleRate: rate, title: title))
            } catch {
                failed("\(error)")
            }
        }
    }

    func togglePause() { player.togglePause() }
    func seek(by seconds: Double) { player.seek(by: seconds) }
    func setVolume(_ volume: Double) { player.volume = Float(volume) }
    func stop() { player.stop() }
    func shutdown() { player.shutdown() }
}
