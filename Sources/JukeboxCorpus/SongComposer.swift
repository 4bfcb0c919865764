import JukeboxCore
/// A word of the vocals: sung (or spoken) at `start` seconds for `length` seconds at MIDI `pitch`.
public struct SungWord: Equatable, Sendable {
    public let text: String
    public let start: Double
    public let length: Double
    public let pitch: Int
}

/// What the composer hands the renderer: the arrangement, the vocals and the lyrics as sung.
public struct ComposedSong: Sendable {
    public let midi: MIDISong
    public let vocals: [SungWord]
    /// The lyric lines in the order they are sung (choruses repeated), one per line.
    public let lyrics: String
    /// Length of the music without the release tail.
    public let seconds: Double
}

/// Composes one song in an artist's style: intro, verses and choruses, outro, in 4/4.
///
/// Every part follows the same chord per bar; the melody repeats a two-bar motif per section so
/// songs have the structure (repetition, contrast between verse and chorus) a top-level prior learns.
struct SongComposer {
    static let bar = 4 * MIDISong.ticksPerBeat
    static let step = MIDISong.ticksPerBeat / 4

    enum Section { case intro, verse, chorus, outro }

    let artist: CorpusArtist
    var rng: SeededGenerator

    init(artist: CorpusArtist, seed: UInt64) {
        self.artist = artist
        rng = SeededGenerator(seed: seed)
    }

    var genre: GenreStyle { artist.genre }

    mutating func compose(targetSeconds: Double) -> ComposedSong {
        let bpm = artist.tempo
        let bars = max(8, Int((targetSeconds * bpm / 240 / 4).rounded()) * 4)
        let sections = (0..<bars).map { Self.section(bar: $0, of: bars) }
        let chords = (0..<bars).map { chord(bar: $0, section: sections[$0]) }

        var drums = MIDITrack(channel: 9, program: 0, volume: 100)
        var bass = MIDITrack(channel: 1, program: artist.bassProgram, volume: 105)
        var comp = MIDITrack(channel: 2, program: artist.compProgram, volume: 80)
        var lead = MIDITrack(channel: 3, program: artist.leadProgram, volume: 100)
        var vocalNotes: [(section: Int, note: MIDINote)] = []

        var motifs: [Section: [MIDINote]] = [:]
        var sectionIndex = -1
        for b in 0..<bars {
            let start = b * Self.bar
            if b == 0 || sections[b] != sections[b - 1] { sectionIndex += 1 }
            if let groove = artist.groove {
                drums.notes += drumBar(groove, at: start, fill: b + 1 < bars && sections[b + 1] != sections[b],
                                       crash: b == 0 || sections[b] != sections[b - 1])
            }
            bass.notes += bassBar(chords[b], next: chords[(b + 1) % bars], at: start)
            comp.notes += compBar(chords[b], at: start)
            guard sections[b] == .verse || sections[b] == .chorus else { continue }
            // The motif spans two bars; the second bar of each pair reuses its second half.
            if motifs[sections[b]] == nil { motifs[sections[b]] = makeMotif(chorus: sections[b] == .chorus) }
            let half = (b % 2) * Self.bar
            for n in motifs[sections[b]]! where n.start >= half && n.start < half + Self.bar {
                var note = n
                note.start = start + n.start - half
                note.pitch = fitToChord(n.pitch, chord: chords[b], onDownbeat: n.start % MIDISong.ticksPerBeat == 0)
                if artist.sings { vocalNotes.append((sectionIndex, note)) } else { lead.notes.append(note) }
            }
        }
        if artist.sings && genre.rapped { vocalNotes = rapNotes(sections: sections) }

        let midi = MIDISong(beatsPerMinute: bpm, tracks: [drums, bass, comp, lead].filter { !$0.notes.isEmpty })
        let (vocals, lyrics) = artist.sings ? singLyrics(vocalNotes, midi: midi) : ([], "")
        return ComposedSong(midi: midi, vocals: vocals, lyrics: lyrics, seconds: midi.seconds(ticks: bars * Self.bar))
    }

    static func section(bar: Int, of bars: Int) -> Section {
        if bar < 2 { return .intro }
        if bars >= 16 && bar >= bars - 2 { return .outro }
        return (bar - 2) / 8 % 2 == 0 ? .verse : .chorus
    }

    // MARK: harmony

    /// Scale degrees of the bar's chord; choruses start the progression halfway for contrast.
    func chord(bar: Int, section: Section) -> [Int] {
        let p = artist.progression
        let shift = section == .chorus && p.count == 4 ? 2 : 0
        let root = p[(bar + shift) % p.count]
        return genre.sevenths ? [root, root + 2, root + 4, root + 6] : [root, root + 2, root + 4]
    }

    /// MIDI pitch of scale degree `degree` (any integer) in the artist's key, around octave `base`.
    func pitch(_ degree: Int, base: Int) -> Int {
        let n = genre.mode.count
        let octave = degree >= 0 ? degree / n : -((-degree + n - 1) / n)
        return base + artist.key + 12 * octave + genre.mode[degree - octave * n]
    }

    /// Where an off-grid sixteenth lands with the genre's swing.
    func swung(_ step16: Int) -> Int {
        var t = step16 * Self.step
        if step16 % 4 == 2 { t += Int(genre.swing * Double(2 * Self.step)) }
        if step16 % 2 == 1 { t += Int(genre.swing * Double(Self.step) / 2) }
        return t
    }

    mutating func velocity(_ base: Int) -> Int { base - 8 + Int(rng.next() % 17) }

    // MARK: parts

    mutating func drumBar(_ groove: DrumGroove, at start: Int, fill: Bool, crash: Bool) -> [MIDINote] {
        var notes: [MIDINote] = []
        for (drum, pattern) in groove.steps {
            for (i, c) in pattern.enumerated() where c != "." {
                if fill && i >= 12 && drum != Drum.snare && drum != Drum.kick { continue }
                notes.append(MIDINote(start: start + swung(i), length: Self.step, pitch: drum,
                                      velocity: velocity(c == "x" ? 100 : 64)))
            }
        }
        if fill {
            for i in 12..<16 { notes.append(MIDINote(start: start + swung(i), length: Self.step, pitch: Drum.snare, velocity: velocity(70 + 8 * (i - 12)))) }
        }
        if crash { notes.append(MIDINote(start: start, length: 4 * Self.step, pitch: Drum.crash, velocity: velocity(96))) }
        return notes
    }

    mutating func bassBar(_ chord: [Int], next: [Int], at start: Int) -> [MIDINote] {
        let root = pitch(chord[0], base: 36), fifth = pitch(chord[2], base: 36)
        let eighth = 2 * Self.step, beat = MIDISong.ticksPerBeat
        func note(_ t: Int, _ len: Int, _ p: Int, _ v: Int) -> MIDINote { MIDINote(start: start + t, length: len, pitch: p, velocity: v) }
        switch genre.bass {
        case .roots8ths:
            return (0..<8).map { note(swung(2 * $0), eighth - 20, root, $0 % 2 == 0 ? 100 : 80) }
        case .walking:
            let target = pitch(next[0], base: 36)
            let line = [root, pitch(chord[1], base: 36), fifth, target + (rng.next() % 2 == 0 ? 1 : -1)]
            return line.enumerated().map { note($0.offset * beat, beat - 30, $0.element, velocity(92)) }
        case .offbeat8ths:
            return (0..<4).map { note(swung(4 * $0 + 2), eighth - 30, $0 % 2 == 0 ? root : root + 12, 100) }
        case .sustained:
            return [note(0, Self.bar - 40, root, 80), note(0, Self.bar - 40, root - 12, 70)]
        case .oneDrop:
            return [note(0, 3 * eighth - 40, root, 105), note(swung(10), eighth, fifth, 90), note(swung(14), eighth, root, 85)]
        case .rootFifth:
            return [note(0, 2 * beat - 40, root, 95), note(2 * beat, 2 * beat - 40, fifth - 12, 85)]
        }
    }

    mutating func compBar(_ chord: [Int], at start: Int) -> [MIDINote] {
        let voicing = chord.map { pitch($0, base: 55) }
        let eighth = 2 * Self.step
        func stack(_ t: Int, _ len: Int, _ v: Int, spread: Int = 0) -> [MIDINote] {
            voicing.enumerated().map { MIDINote(start: start + t + $0.offset * spread, length: len, pitch: $0.element, velocity: v) }
        }
        switch genre.comp {
        case .power8ths:
            let r = pitch(chord[0], base: 43), f = r + 7
            return (0..<8).flatMap { i in [r, f, r + 12].map { MIDINote(start: start + swung(2 * i), length: eighth - 30, pitch: $0, velocity: i % 2 == 0 ? 96 : 76) } }
        case .stabs:
            var notes: [MIDINote] = []
            for i in 0..<8 where rng.nextUnitFloat() < 0.35 || i == 3 { notes += stack(swung(2 * i), eighth, velocity(78)) }
            return notes
        case .arpeggio16ths:
            let tones = voicing + [voicing[0] + 12]
            let order = tones + tones.reversed().dropFirst().dropLast()
            return (0..<16).map { MIDINote(start: start + swung($0), length: Self.step, pitch: order[$0 % order.count], velocity: $0 % 4 == 0 ? 84 : 64) }
        case .sustained:
            return stack(0, Self.bar - 30, 70)
        case .strum:
            // Down, down-up, up-down-up: the folk strum, each chord rolled over its strings.
            return [0, 2, 3, 5, 6, 7].flatMap { stack(swung(2 * $0), eighth - 10, $0 % 2 == 0 ? 88 : 64, spread: 12) }
        case .skank:
            return [4, 12].flatMap { stack(swung($0), Self.step, 90) }
        }
    }

    /// Two bars of melody: eighths with the genre's density, a stepwise walk with chord tones on beats.
    mutating func makeMotif(chorus: Bool) -> [MIDINote] {
        var notes: [MIDINote] = []
        var degree = chorus ? 4 : 0
        let base = genre.melodyCentre - 7
        for i in 0..<16 {
            let onBeat = i % 2 == 0
            guard i == 0 || Double(rng.nextUnitFloat()) < genre.melodyDensity + (onBeat ? 0.15 : -0.1) else { continue }
            degree += Int(rng.next() % 5) - 2
            degree = min(max(degree, 0), 9)
            notes.append(MIDINote(start: swung(2 * (i % 8)) + (i / 8) * Self.bar, length: 0, pitch: pitch(degree, base: base), velocity: velocity(96)))
        }
        // Each note lasts until the next (legato), the last to the end of the motif.
        for k in notes.indices {
            let end = k + 1 < notes.count ? notes[k + 1].start : 2 * Self.bar
            notes[k].length = max(end - notes[k].start - 20, Self.step)
        }
        return notes
    }

    /// Moves a note onto the nearest tone of the bar's chord when it falls on a beat.
    func fitToChord(_ p: Int, chord: [Int], onDownbeat: Bool) -> Int {
        guard onDownbeat else { return p }
        let classes = Set(chord.map { ((pitch($0, base: 0) % 12) + 12) % 12 })
        for d in [0, -1, 1, -2, 2] where classes.contains(((p + d) % 12 + 12) % 12) { return p + d }
        return p
    }

    /// Rap: a word on most eighths and some sixteenths of verses and choruses, near one pitch.
    mutating func rapNotes(sections: [Section]) -> [(section: Int, note: MIDINote)] {
        var out: [(section: Int, note: MIDINote)] = []
        var sectionIndex = -1
        for (b, s) in sections.enumerated() {
            if b == 0 || s != sections[b - 1] { sectionIndex += 1 }
            guard s == .verse || s == .chorus else { continue }
            for i in 0..<16 where i % 2 == 0 ? rng.nextUnitFloat() < 0.85 : rng.nextUnitFloat() < 0.25 {
                out.append((sectionIndex, MIDINote(start: b * Self.bar + swung(i), length: Self.step * 2, pitch: genre.melodyCentre + Int(rng.next() % 3), velocity: 100)))
            }
        }
        return out
    }

    // MARK: lyrics

    /// Puts a word on each vocal note, a new line every two bars; each chorus sings the same lines.
    mutating func singLyrics(_ notes: [(section: Int, note: MIDINote)], midi: MIDISong) -> ([SungWord], String) {
        let lyricist = Lyricist(words: genre.words)
        var chorusLines: [[String]] = []
        var words: [SungWord] = []
        var sung: [String] = []
        // Group notes by two-bar phrase.
        var phrases: [Int: [MIDINote]] = [:]
        var phraseSection: [Int: Section] = [:]
        for (_, n) in notes {
            let phrase = n.start / (2 * Self.bar)
            phrases[phrase, default: []].append(n)
            phraseSection[phrase] = Self.section(bar: n.start / Self.bar, of: Int.max / Self.bar)
        }
        var chorusLine = 0
        var previous: Section?
        for phrase in phrases.keys.sorted() {
            let ns = phrases[phrase]!
            var line: [String]
            if phraseSection[phrase] == .chorus {
                if previous != .chorus { chorusLine = 0 }
                if chorusLine < chorusLines.count { line = chorusLines[chorusLine] } else {
                    line = lyricist.line(&rng)
                    chorusLines.append(line)
                }
                chorusLine = (chorusLine + 1) % 4
            } else {
                line = lyricist.line(&rng)
            }
            previous = phraseSection[phrase]
            let count = min(line.count, ns.count)
            guard count > 0 else { continue }
            line = Array(line.prefix(count))
            for (w, n) in zip(line, ns) {
                words.append(SungWord(text: w, start: midi.seconds(ticks: n.start), length: midi.seconds(ticks: n.length), pitch: n.pitch))
            }
            sung.append(line.joined(separator: " "))
        }
        return (words, sung.joined(separator: "\n"))
    }
}
