import JukeboxCore
/// A Standard MIDI File (format 1) small enough to write by hand: one tempo, tracks of notes.
///
/// The corpus builder composes into this and FluidSynth renders it; times are in ticks.
public struct MIDINote: Equatable, Sendable {
    public var start: Int
    public var length: Int
    public var pitch: Int
    public var velocity: Int

    public init(start: Int, length: Int, pitch: Int, velocity: Int) {
        self.start = start
        self.length = length
        self.pitch = pitch
        self.velocity = velocity
    }
}

public struct MIDITrack: Sendable {
    /// 0–15; channel 9 is General MIDI's percussion, where the pitch picks the drum.
    public var channel: Int
    /// General MIDI program (ignored on channel 9).
    public var program: Int
    /// Channel volume, 0–127.
    public var volume: Int
    public var notes: [MIDINote]

    public init(channel: Int, program: Int, volume: Int = 100, notes: [MIDINote] = []) {
        self.channel = channel
        self.program = program
        self.volume = volume
        self.notes = notes
    }
}

public struct MIDISong: Sendable {
    public static let ticksPerBeat = 480
    public var beatsPerMinute: Double
    public var tracks: [MIDITrack]

    public init(beatsPerMinute: Double, tracks: [MIDITrack]) {
        self.beatsPerMinute = beatsPerMinute
        self.tracks = tracks
    }

    public func seconds(ticks: Int) -> Double {
        Double(ticks) / Double(Self.ticksPerBeat) * 60 / beatsPerMinute
    }

    /// The file's bytes: a tempo track, then one track per part.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = Array("MThd".utf8) + be32(6) + be16(1) + be16(tracks.count + 1) + be16(Self.ticksPerBeat)
        let microsPerBeat = Int((60_000_000 / beatsPerMinute).rounded())
        let tempo: [UInt8] = [0x00, 0xFF, 0x51, 0x03, UInt8(microsPerBeat >> 16 & 0xFF),
                              UInt8(microsPerBeat >> 8 & 0xFF), UInt8(microsPerBeat & 0xFF)]
        bytes += chunk(tempo + [0x00, 0xFF, 0x2F, 0x00])
        for track in tracks { bytes += chunk(events(track)) }
        return bytes
    }

    private func events(_ track: MIDITrack) -> [UInt8] {
        let ch = UInt8(track.channel & 0x0F)
        // (tick, order, message): note-offs sort before note-ons at the same tick so repeated
        // notes retrigger instead of being cut by their own release.
        var timed: [(Int, Int, [UInt8])] = []
        for n in track.notes where n.length > 0 {
            let pitch = UInt8(clamping: min(max(n.pitch, 0), 127))
            timed.append((n.start, 1, [0x90 | ch, pitch, UInt8(clamping: min(max(n.velocity, 1), 127))]))
            timed.append((n.start + n.length, 0, [0x80 | ch, pitch, 0]))
        }
        timed.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var out: [UInt8] = [0x00, 0xB0 | ch, 7, UInt8(clamping: min(max(track.volume, 0), 127)),
                            0x00, 0xC0 | ch, UInt8(clamping: min(max(track.program, 0), 127))]
        var now = 0
        for (tick, _, message) in timed {
            out += variableLength(tick - now) + message
            now = tick
        }
        return out + [0x00, 0xFF, 0x2F, 0x00]
    }

    private func chunk(_ body: [UInt8]) -> [UInt8] { Array("MTrk".utf8) + be32(body.count) + body }
    private func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    private func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    private func variableLength(_ value: Int) -> [UInt8] {
        var v = max(value, 0)
        var out = [UInt8(v & 0x7F)]
        v >>= 7
        while v > 0 {
            out.insert(UInt8(v & 0x7F) | 0x80, at: 0)
            v >>= 7
        }
        return out
    }
}
