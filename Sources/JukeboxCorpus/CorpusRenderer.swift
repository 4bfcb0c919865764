import Foundation
import JukeboxCore

/// Turns a composed song into audio: FluidSynth plays the arrangement through a General MIDI
/// soundfont, espeak-ng voices each sung word at its note's time and pitch, and the two are mixed
/// to mono at the corpus's sample rate.
struct CorpusRenderer: Sendable {
    let fluidsynth: ExternalTool
    let espeak: ExternalTool
    let soundfont: String
    let sampleRate: Int
    /// Seconds of release kept after the last bar, faded out.
    static let tail = 0.75

    static func make(soundfont: String, sampleRate: Int) throws -> CorpusRenderer {
        guard FileManager.default.isReadableFile(atPath: soundfont) else {
            throw JukeboxError(soundfont, "soundfont not found (install the Debian package fluid-soundfont-gm or name one with --soundfont)")
        }
        return CorpusRenderer(fluidsynth: try ExternalTool.locate("fluidsynth", package: "fluidsynth"),
                              espeak: try ExternalTool.locate("espeak-ng", package: "espeak-ng"),
                              soundfont: soundfont, sampleRate: sampleRate)
    }

    /// Renders `song` in `work` (a scratch folder) and returns mono samples.
    func render(_ song: ComposedSong, artist: CorpusArtist, work: String) throws -> [Float] {
        let midiPath = work + "/song.mid", backingPath = work + "/backing.wav"
        try AtomicFile.write(song.midi.encoded(), to: midiPath)
        // -q quiet, -ni no shell or MIDI input, -F render to file; gain keeps loud arrangements unclipped.
        try fluidsynth.run(["-q", "-ni", "-g", "0.5", "-r", "\(sampleRate)", "-F", backingPath, soundfont, midiPath])
        var mix = try AudioFile.readMono(backingPath, sampleRate: sampleRate)
        let length = Int((song.seconds + Self.tail) * Double(sampleRate))
        if mix.count < length { mix += [Float](repeating: 0, count: length - mix.count) }
        mix.removeLast(mix.count - length)
        normalise(&mix, rms: 0.1)

        if !song.vocals.isEmpty {
            var voice = [Float](repeating: 0, count: length)
            for (i, word) in song.vocals.enumerated() {
                try addWord(word, index: i, artist: artist, work: work, into: &voice)
            }
            normalise(&voice, rms: 0.12)
            for i in 0..<length { mix[i] += voice[i] }
        }
        // Fade the tail and keep peaks below full scale.
        let fade = Int(Self.tail * Double(sampleRate))
        for k in 0..<fade { mix[length - fade + k] *= Float(fade - k) / Float(fade) }
        let peak = mix.reduce(0) { max($0, abs($1)) }
        if peak > 0.95 { for i in mix.indices { mix[i] *= 0.95 / peak } }
        return mix
    }

    /// espeak-ng speaks one word; its pitch follows the note, its speed fits the note's length.
    private func addWord(_ word: SungWord, index: Int, artist: CorpusArtist, work: String, into voice: inout [Float]) throws {
        let path = work + "/word-\(index).wav"
        let pitch = min(max(artist.voicePitch + (word.pitch - artist.genre.melodyCentre) * 3, 0), 99)
        let fit = Int(60 / max(word.length, 0.1))
        let speed = min(max(max(artist.wordsPerMinute, fit), 80), 400)
        try espeak.run(["-v", artist.voice, "-p", "\(pitch)", "-s", "\(speed)", "-w", path, word.text])
        var samples = try AudioFile.readMono(path, sampleRate: sampleRate)
        try? FileManager.default.removeItem(atPath: path)
        // espeak-ng pads with silence: start the word where its sound starts, so it lands on the note.
        if let first = samples.firstIndex(where: { abs($0) > 0.02 }) { samples.removeFirst(first) }
        let maxLength = Int(max(word.length * 1.5, 0.15) * Double(sampleRate))
        if samples.count > maxLength { samples.removeLast(samples.count - maxLength) }
        let release = min(samples.count, sampleRate / 50)
        for k in 0..<release { samples[samples.count - release + k] *= Float(release - k) / Float(release) }
        let at = Int(word.start * Double(sampleRate))
        for (k, s) in samples.enumerated() where at + k < voice.count { voice[at + k] += s }
    }

    private func normalise(_ x: inout [Float], rms target: Float) {
        guard !x.isEmpty else { return }
        let rms = (x.reduce(0) { $0 + $1 * $1 } / Float(x.count)).squareRoot()
        guard rms > 1e-6 else { return }
        let g = target / rms
        for i in x.indices { x[i] *= g }
    }
}
