import JukeboxCore

// The update steps of co-composition and sessions (undo, upsample, the open screen, a reopened session);
// Update.swift routes keys and messages here.

func requestUndo(_ state: inout StudioState) -> [StudioEffect] {
    guard state.composition?.canUndo == true else { state.status = "nothing to undo"; return [] }
    state.candidates = []
    clearRenders(&state)
    state.dirty = true
    state.sampling = true
    state.screen = .lanes
    state.status = "undoing the last keep…"
    return [.undo]
}

/// Levels 1 and 0 for the kept line; the engine must be free and something must be kept.
func requestUpsample(_ state: inout StudioState) -> [StudioEffect] {
    guard !state.sampling else { return busy(&state, "upsample") }
    guard let kept = state.composition?.kept, !kept.isEmpty else { state.status = "nothing kept to upsample yet"; return [] }
    resetLanes(&state, keepingTop: true)
    clearRenders(&state)
    state.sampling = true
    state.upsampling = true
    state.dirty = true
    state.screen = .lanes
    state.status = "upsampling the kept line…"
    return [.upsample]
}

// MARK: Open a session

func openKey(_ state: inout StudioState, _ key: Key) -> [StudioEffect] {
    switch key {
    case .up: state.selectedRecent = max(0, state.selectedRecent - 1)
    case .down: state.selectedRecent = min(max(0, state.recent.count - 1), state.selectedRecent + 1)
    case .enter:
        guard let entry = state.recent[safe: state.selectedRecent] else { return [] }
        guard !entry.missing else { state.status = "\(entry.path) is gone"; return [] }
        // Switching drops this studio's state: only once everything here is on disk.
        guard !state.dirty else { state.status = "unsaved work here: Ctrl-S first, then open"; return [] }
        state.status = "opening \(entry.path)…"
        return [.openSession(entry.path)]
    case .escape, .ctrl("o"): state.screen = state.underOpen
    case .char("q"): return requestQuit(&state)
    default: break
    }
    return []
}

/// The kept line into the top lane (what lies past it was a candidate's and goes).
func showKept(_ composition: Composition, in state: inout StudioState) {
    state.composition = composition
    var lane = state.lanes[state.topLevel]
    grow(&lane, to: composition.kept.count)
    for i in lane.codes.indices { lane.codes[i] = i < composition.kept.count ? composition.kept[i] : -1 }
    lane.done = composition.kept.count
    state.lanes[state.topLevel] = lane
}

/// A reopened session: the composer takes its prompt, the lanes and history its kept line.
func applyOpenedSession(_ document: SessionDocument, at path: String, composition: Composition, into state: inout StudioState) {
    let fields = PromptFields(document, levels: state.lanes.count)
    (state.genre, state.artist, state.lyrics) = (fields.genre, fields.artist, fields.lyrics)
    (state.seconds, state.totalSeconds, state.seed) = (fields.seconds, fields.totalSeconds, fields.seed)
    state.temperatures = fields.temperatures
    state.candidateCount = fields.candidates
    state.picker = nil
    state.sessionPath = path
    state.candidates = []
    state.sampling = false
    state.upsampling = false
    state.dirty = false
    state.composition = nil
    resetLanes(&state, keepingTop: false)
    showKept(composition, in: &state)
    state.screen = composition.log.isEmpty && composition.kept.isEmpty ? .composer : .candidates
    let kept = composition.keptSegments
    state.status = "opened \(path): \(kept) segment\(kept == 1 ? "" : "s") kept · Ctrl-R draws the next stretch"
    if !composition.pending.isEmpty {
        // The round being decided when the session was left: its candidates are back on the table.
        state.candidates = composition.pending
        state.selectedCandidate = 0
        state.screen = .candidates
        state.status = "opened \(path): \(kept) segment\(kept == 1 ? "" : "s") kept · \(composition.pending.count) candidates waiting"
    }
}
