import JukeboxCore

/// The co-composition as the studio shows it: the kept line of top-level codes and the engine's log of
/// rounds (CoComposer.history, as saved in session.json). The engine owns the truth; after every step
/// the runtime sends a fresh copy, so what is on screen is what a reopened session would show.
public struct Composition: Sendable, Equatable {
    /// The kept line, top-level codes.
    public var kept: [Int]
    /// Every round of candidates at the top level, in order; undo does not erase it.
    public var log: [WindowRecord]
    public var canUndo: Bool
    /// The undecided round's candidates (each only its new stretch): still to choose from, also after reopening.
    public var pending: [[Int]]
    /// Codes the levels below the top hold for the kept line (from an upsample), by level: what the renders
    /// list offers to play as the whole song so far.
    public var lowerLengths: [Int: Int] = [:]

    /// `log` may hold every level's windows (a session made by `jukebox sample` does): only `level`'s count.
    public init(kept: [Int] = [], log: [WindowRecord] = [], level: Int, canUndo: Bool = false, pending: [[Int]] = []) {
        self.kept = kept
        self.log = log.filter { $0.level == level }
        self.canUndo = canUndo
        self.pending = pending
    }

    /// The stretches as the candidates view lists them, in order. A stretch is known by where it starts
    /// (the kept line's length when its candidates were drawn): a window index would not do, as a session
    /// from `jukebox sample` numbers its own windows and CoComposer counts stretches anew when reopened.
    public var segments: [SegmentSummary] {
        let byStart = Dictionary(grouping: log, by: \.start)
        return byStart.keys.sorted().enumerated().map { index, start in
            SegmentSummary(index: index, rounds: byStart[start] ?? [], keptLength: kept.count)
        }
    }

    /// Stretches that are part of the kept line now.
    public var keptSegments: Int { segments.filter(\.isKept).count }

    /// Rounds drawn so far for the stretch after the kept line (the one being decided).
    public var roundsOfCurrentSegment: Int { log.filter { $0.start == kept.count }.count }
}

/// What happened to one stretch: how many rounds of candidates, which one is kept, what was discarded.
public struct SegmentSummary: Sendable, Equatable {
    /// Place in the song, 0-based.
    public var index: Int
    public var rounds: Int
    public var drawn: Int
    /// The last kept candidate's place in its round (1-based) and that round's size; nil: never kept.
    public var keptPlace: Int?
    public var keptOf = 0
    /// Whether that choice is still part of the kept line (an undo takes it out).
    public var isKept: Bool
    /// Keeps of this stretch that were undone.
    public var undone: Int

    init(index: Int, rounds records: [WindowRecord], keptLength: Int) {
        self.index = index
        rounds = records.count
        drawn = records.reduce(0) { $0 + $1.candidates.count }
        let keeps = records.filter { $0.kept != nil }
        if let last = keeps.last, let id = last.kept {
            keptPlace = (last.candidates.firstIndex(of: id) ?? 0) + 1
            keptOf = last.candidates.count
            // Kept codes past the kept line's end were undone (undo shortens the line, it leaves the log).
            isKept = last.start + last.length <= keptLength
        } else {
            isKept = false
        }
        undone = keeps.count - (isKept ? 1 : 0)
        pending = records.last.map { $0.kept == nil ? $0.candidates.count : 0 } ?? 0
    }

    /// Candidates of the latest round while none of it is kept: still on the table, not discarded.
    public var pending: Int

    public var discarded: Int { drawn - pending - (isKept ? 1 : 0) }

    /// One line for the history: "segment 2: kept 3 of 3 · round 2 of 2 · 5 discarded · 1 undone".
    public var line: String {
        var parts: [String] = []
        if let place = keptPlace {
            parts.append(isKept ? "kept \(place) of \(keptOf)" : "undone (was \(place) of \(keptOf))")
        } else {
            parts.append("deciding")
        }
        parts.append(rounds == 1 ? "1 round" : "\(rounds) rounds")
        parts.append("\(discarded) discarded")
        if undone > 0 && isKept { parts.append("\(undone) undone") }
        return "segment \(index + 1): " + parts.joined(separator: " · ")
    }
}
