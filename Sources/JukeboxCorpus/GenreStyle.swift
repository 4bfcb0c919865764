import JukeboxCore
/// How a genre sounds in the corpus: tempo, mode, harmony, groove, instruments and the words its
/// lyrics are made of. Each is a caricature on purpose: the default model must be able to hear the
/// genre in a few seconds of audio.
public struct GenreStyle: Sendable {
    public enum Bass: Sendable { case roots8ths, walking, offbeat8ths, sustained, oneDrop, rootFifth }
    public enum Comp: Sendable { case power8ths, stabs, arpeggio16ths, sustained, strum, skank }

    public let name: String
    let tempo: ClosedRange<Double>
    /// Semitones of the mode above the key's root.
    let mode: [Int]
    let modeName: String
    /// Scale degrees (0-based), one chord per bar.
    let progressions: [[Int]]
    let sevenths: Bool
    /// How late the off-beat eighths land, as a fraction of an eighth (0 straight, 1/3 a triplet shuffle).
    let swing: Double
    /// Sixteen steps per bar each; empty means no drums.
    let grooves: [DrumGroove]
    let bass: Bass
    let comp: Comp
    let leadPrograms: [Int]
    let compPrograms: [Int]
    let bassPrograms: [Int]
    /// Chance of a melody note on each eighth.
    let melodyDensity: Double
    /// Where the melody sits (MIDI pitches).
    let melodyCentre: Int
    /// Vocals speak quickly on sixteenths instead of singing the melody's eighths.
    let rapped: Bool
    let words: LyricWords
}

/// One bar of drums: per General MIDI drum, sixteen steps ('x' accent, 'o' soft, '.' rest).
struct DrumGroove: Sendable {
    let steps: [(drum: Int, pattern: String)]
}

/// The made-up vocabulary a genre's lyrics are drawn from.
struct LyricWords: Sendable {
    let nouns: [String]
    let adjectives: [String]
    let verbs: [String]
}

enum Drum {
    static let kick = 36, rim = 37, snare = 38, clap = 39, closedHat = 42, openHat = 46
    static let crash = 49, ride = 51, tambourine = 54, shaker = 70
}

extension GenreStyle {
    static let major = [0, 2, 4, 5, 7, 9, 11], minor = [0, 2, 3, 5, 7, 8, 10]
    static let dorian = [0, 2, 3, 5, 7, 9, 10], mixolydian = [0, 2, 4, 5, 7, 9, 10]

    /// The corpus's genres, in label-id order.
    public static let all: [GenreStyle] = [rock, jazz, electronic, classical, folk, hipHop, reggae, blues]

    static let rock = GenreStyle(
        name: "rock", tempo: 112...138, mode: minor, modeName: "minor",
        progressions: [[0, 5, 2, 6], [0, 3, 4, 4], [0, 6, 5, 6]], sevenths: false, swing: 0,
        grooves: [DrumGroove(steps: [(Drum.kick, "x.....x.x......."), (Drum.snare, "....x.......x..."),
                                     (Drum.closedHat, "x.x.x.x.x.x.x.x.")]),
                  DrumGroove(steps: [(Drum.kick, "x.x.....x.x....."), (Drum.snare, "....x.......x..o"),
                                     (Drum.openHat, "x...x...x...x...")])],
        bass: .roots8ths, comp: .power8ths, leadPrograms: [29, 30], compPrograms: [30, 29], bassPrograms: [33, 34],
        melodyDensity: 0.55, melodyCentre: 64, rapped: false,
        words: LyricWords(nouns: ["road", "fire", "engine", "night", "city", "thunder", "wheel", "storm"],
                          adjectives: ["loud", "wild", "burning", "electric", "broken", "restless"],
                          verbs: ["run", "shout", "burn", "ride", "break", "roll"]))

    static let jazz = GenreStyle(
        name: "jazz", tempo: 100...150, mode: major, modeName: "major",
        progressions: [[1, 4, 0, 0], [1, 4, 0, 5], [2, 5, 1, 4]], sevenths: true, swing: 1.0 / 3,
        grooves: [DrumGroove(steps: [(Drum.ride, "x..xx..xx..xx..x"), (Drum.closedHat, "....x.......x..."),
                                     (Drum.kick, "o...............")])],
        bass: .walking, comp: .stabs, leadPrograms: [65, 66, 56], compPrograms: [0, 4], bassPrograms: [32],
        melodyDensity: 0.7, melodyCentre: 67, rapped: false,
        words: LyricWords(nouns: ["moon", "smoke", "velvet", "corner", "evening", "melody", "cafe"],
                          adjectives: ["blue", "easy", "midnight", "gentle", "golden", "lazy"],
                          verbs: ["swing", "whisper", "dance", "drift", "linger", "sway"]))

    static let electronic = GenreStyle(
        name: "electronic", tempo: 120...128, mode: minor, modeName: "minor",
        progressions: [[5, 3, 0, 4], [0, 5, 3, 4], [0, 0, 5, 6]], sevenths: false, swing: 0,
        grooves: [DrumGroove(steps: [(Drum.kick, "x...x...x...x..."), (Drum.clap, "....x.......x..."),
                                     (Drum.openHat, "..x...x...x...x."), (Drum.closedHat, "xxxxxxxxxxxxxxxx")])],
        bass: .offbeat8ths, comp: .arpeggio16ths, leadPrograms: [80, 81], compPrograms: [88, 90, 81],
        bassPrograms: [38, 39], melodyDensity: 0.45, melodyCentre: 72, rapped: false,
        words: LyricWords(nouns: ["signal", "light", "circuit", "pulse", "star", "machine", "neon"],
                          adjectives: ["digital", "bright", "endless", "cold", "shining", "synthetic"],
                          verbs: ["glow", "move", "rise", "flash", "spin", "connect"]))

    static let classical = GenreStyle(
        name: "classical", tempo: 66...96, mode: major, modeName: "major",
        progressions: [[0, 3, 4, 0], [0, 5, 3, 4], [0, 4, 5, 3]], sevenths: false, swing: 0,
        grooves: [], bass: .sustained, comp: .arpeggio16ths, leadPrograms: [40, 73, 68],
        compPrograms: [48, 46, 0], bassPrograms: [42, 43], melodyDensity: 0.6, melodyCentre: 72, rapped: false,
        words: LyricWords(nouns: ["garden", "river", "morning", "heaven", "rose", "meadow", "spring"],
                          adjectives: ["noble", "tender", "silent", "graceful", "ancient", "pure"],
                          verbs: ["sing", "bloom", "pray", "wander", "rest", "shine"]))

    static let folk = GenreStyle(
        name: "folk", tempo: 92...118, mode: major, modeName: "major",
        progressions: [[0, 3, 0, 4], [0, 4, 5, 3], [0, 0, 3, 4]], sevenths: false, swing: 0,
        grooves: [DrumGroove(steps: [(Drum.tambourine, "..x...x...x...x."), (Drum.kick, "x.......x.......")]),
                  DrumGroove(steps: [(Drum.shaker, "xoxoxoxoxoxoxoxo"), (Drum.kick, "x.....x.x.......")])],
        bass: .rootFifth, comp: .strum, leadPrograms: [110, 22, 73], compPrograms: [25, 24], bassPrograms: [32],
        melodyDensity: 0.55, melodyCentre: 67, rapped: false,
        words: LyricWords(nouns: ["valley", "home", "mountain", "harvest", "fiddle", "creek", "willow"],
                          adjectives: ["old", "green", "weary", "simple", "lonesome", "kind"],
                          verbs: ["walk", "carry", "sing", "wait", "grow", "remember"]))

    static let hipHop = GenreStyle(
        name: "hip hop", tempo: 84...96, mode: dorian, modeName: "dorian",
        progressions: [[0, 0, 3, 3], [0, 6, 0, 6], [0, 3, 6, 4]], sevenths: true, swing: 0.2,
        grooves: [DrumGroove(steps: [(Drum.kick, "x......xx.x....."), (Drum.snare, "....x.......x..."),
                                     (Drum.closedHat, "x.x.x.x.x.x.x.x.")]),
                  DrumGroove(steps: [(Drum.kick, "x.....x...x....."), (Drum.clap, "....x.......x..."),
                                     (Drum.closedHat, "x.xxx.x.x.xxx.x.")])],
        bass: .oneDrop, comp: .stabs, leadPrograms: [4, 11], compPrograms: [4, 5], bassPrograms: [38, 33],
        melodyDensity: 0.3, melodyCentre: 60, rapped: true,
        words: LyricWords(nouns: ["block", "crown", "street", "rhyme", "beat", "hustle", "mic"],
                          adjectives: ["real", "fresh", "heavy", "quick", "steady", "proud"],
                          verbs: ["flow", "spit", "climb", "grind", "stack", "drop"]))

    static let reggae = GenreStyle(
        name: "reggae", tempo: 72...84, mode: major, modeName: "major",
        progressions: [[0, 3, 0, 3], [0, 4, 3, 3], [5, 3, 0, 4]], sevenths: false, swing: 0.1,
        grooves: [DrumGroove(steps: [(Drum.rim, "........x......."), (Drum.kick, "........x......."),
                                     (Drum.closedHat, "x.x.x.x.x.x.x.x.")])],
        bass: .oneDrop, comp: .skank, leadPrograms: [16, 17], compPrograms: [16, 27], bassPrograms: [33, 34],
        melodyDensity: 0.45, melodyCentre: 65, rapped: false,
        words: LyricWords(nouns: ["island", "sun", "people", "freedom", "shore", "rhythm", "love"],
                          adjectives: ["warm", "free", "natural", "easy", "bright", "together"],
                          verbs: ["rise", "stand", "feel", "unite", "skank", "shine"]))

    static let blues = GenreStyle(
        name: "blues", tempo: 70...100, mode: mixolydian, modeName: "mixolydian",
        progressions: [[0, 0, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4], [0, 3, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4]],
        sevenths: true, swing: 1.0 / 3,
        grooves: [DrumGroove(steps: [(Drum.kick, "x.....x.x......."), (Drum.snare, "....x.......x..."),
                                     (Drum.ride, "x.xxx.xxx.xxx.xx")])],
        bass: .walking, comp: .stabs, leadPrograms: [22, 27, 26], compPrograms: [0, 27], bassPrograms: [33, 32],
        melodyDensity: 0.5, melodyCentre: 62, rapped: false,
        words: LyricWords(nouns: ["train", "whiskey", "rain", "trouble", "shoes", "baby", "crossroad"],
                          adjectives: ["low", "lonely", "muddy", "tired", "evil", "long"],
                          verbs: ["cry", "leave", "moan", "pay", "lose", "wander"]))
}
