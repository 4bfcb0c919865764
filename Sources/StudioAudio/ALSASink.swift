import CALSA
import CALSAShim
import Foundation

/// A sound card through ALSA's PCM interface (snd_pcm, interleaved read/write access, blocking writes).
/// ALSA's own error printing is silenced first (it would draw over the curses screen); the message it
/// would have printed becomes part of the thrown error instead.
public final class ALSASink: AudioSink {
    public let device: String
    public let format: PCMFormat
    /// How much audio ALSA may hold ahead of the speaker: the delay of pause and seek.
    public let latencyMicroseconds: UInt32
    private var pcm: OpaquePointer?
    private var channels = 1

    public init(device: String = "default", format: PCMFormat = .s16LE, latencyMicroseconds: UInt32 = 100_000) {
        self.device = device
        self.format = format
        self.latencyMicroseconds = latencyMicroseconds
        jukebox_alsa_silence_errors()
    }

    deinit { close() }

    public var name: String { "ALSA \(device)" }
    public var isRealtime: Bool { true }

    public func open(sampleRate: Int, channels: Int, title: String) throws {
        close()
        jukebox_alsa_clear_error()
        var handle: OpaquePointer?
        // Opened non-blocking so a card another program holds fails at once ("busy": the WAV fallback)
        // instead of waiting for it; writes then block again, which paces the playback thread.
        let rc = snd_pcm_open(&handle, device, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK)
        guard rc >= 0, let handle else { throw failure("cannot open", rc) }
        let blocking = snd_pcm_nonblock(handle, 0)
        guard blocking >= 0 else {
            snd_pcm_close(handle)
            throw failure("cannot switch to blocking writes", blocking)
        }
        let alsaFormat = format == .s16LE ? SND_PCM_FORMAT_S16_LE : SND_PCM_FORMAT_FLOAT_LE
        // soft_resample 1: a card that cannot run at the model's rate gets ALSA's resampler.
        let set = snd_pcm_set_params(handle, alsaFormat, SND_PCM_ACCESS_RW_INTERLEAVED, UInt32(channels),
                                     UInt32(sampleRate), 1, latencyMicroseconds)
        guard set >= 0 else {
            snd_pcm_close(handle)
            throw failure("cannot play \(format.rawValue) \(sampleRate) Hz × \(channels)", set)
        }
        pcm = handle
        self.channels = channels
    }

    public func write(_ samples: UnsafeBufferPointer<Float>) throws {
        guard let pcm else { throw AudioOutputError(name, "write before open") }
        let bytes = format.bytes(samples)
        let frameBytes = format.bytesPerSample * channels
        var offset = 0
        while offset < bytes.count {
            let frames = (bytes.count - offset) / frameBytes
            var n = bytes.withUnsafeBytes { snd_pcm_writei(pcm, $0.baseAddress! + offset, snd_pcm_uframes_t(frames)) }
            if n < 0 {
                // An underrun (after a pause, or a slow UI) or a suspend: recover and write again.
                n = snd_pcm_sframes_t(snd_pcm_recover(pcm, Int32(n), 1))
                if n < 0 { throw failure("write failed", Int32(n)) }
                continue
            }
            offset += Int(n) * frameBytes
        }
    }

    public func drain() throws {
        guard let pcm else { return }
        let rc = snd_pcm_drain(pcm)
        if rc < 0 { throw failure("drain failed", rc) }
    }

    public func close() {
        if let pcm { snd_pcm_close(pcm) }
        pcm = nil
    }

    /// ALSA's code as text, with what its library would have printed on stderr when it said more.
    private func failure(_ what: String, _ code: Int32) -> AudioOutputError {
        var text = String(cString: snd_strerror(code))
        var buffer = [CChar](repeating: 0, count: 512)
        if jukebox_alsa_last_error(&buffer, buffer.count) > 0 {
            let said = String(cString: buffer)
            if !said.isEmpty && said != text { text += " (\(said))" }
        }
        return AudioOutputError(name, "\(what): \(text)")
    }
}
