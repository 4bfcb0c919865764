import JukeboxCore

/// The only place the studio's state changes. Pure: no I/O, no clock; what must happen outside
/// (sampling, playing, saving, quitting) comes back as effects for the runtime to perform.
public func update(_ state: inout StudioState, _ message: StudioMessage) -> [StudioEffect] {
    switch message {
    case .key(let key):
        return handleKey(&state, key)
    case .resize(let width, let height):
        state.width = max(0, width)
        state.height = max(0, height)
    case .click(let x, let y, let double):
        return handleClick(&state, x: x, y: y, double: double)
    case .engine(let event):
        apply(event, to: &state)
    case .lyricSpan(let text):
        state.lyricSpan = text
    case .candidatesReady(let list):
        state.candidates = list
        state.selectedCandidate = 0
        state.sampling = false
        // An overlay or the open screen stays up; the candidates wait beneath it.
        switch state.screen {
        case .help: state.underHelp = .candidates
        case .open: state.underOpen = .candidates
        default: state.screen = .candidates
        }
        let segment = (state.composition?.keptSegments ?? 0) + 1
        state.status = "segment \(segment): \(list.count) candidates · Enter keeps, r resamples"
    case .composition(let composition):
        showKept(composition, in: &state)
    case .engineIdle(let text):
        state.sampling = false
        state.upsampling = false
        state.status = text
    case .sessionOpened(let path, let document, let composition):
        applyOpenedSession(document, at: path, composition: composition, into: &state)
    case .note(let text):
        state.status = text
    case .recentSessions(let list, let problem):
        state.recent = list
        state.selectedRecent = 0
        if let problem { state.status = problem }
    case .presetsListed(let entries):
        state.presetMenu?.entries = presetsInPickerOrder(entries, state.vocabulary)
        if let menu = state.presetMenu { state.presetMenu?.selected = min(menu.selected, max(0, entries.count - 1)) }
    case .presetSaved(let name, let file):
        state.status = "saved preset \(name) to \(file)"
    case .configured(let path, let rate):
        state.sessionPath = path
        state.sampleRate = rate
    case .noSoundCard(let reason):
        state.playback.noSoundCard = reason
        // What it means first, the device's reason last, so an 80-column line keeps the part that matters.
        state.status = "no sound card: auditions will be written as WAV files (\(reason))"
    case .playback(let report):
        applyPlayback(report, to: &state)
    case .timedLyrics(let alignment):
        state.timedLyrics = alignment
    case .saved:
        state.dirty = false
        state.status = "saved"
    case .failed(let text):
        state.sampling = false
        state.status = "error: \(text)"
    case .tick:
        state.ticks &+= 1
    }
    return []
}

// MARK: Keys

private func handleKey(_ state: inout StudioState, _ key: Key) -> [StudioEffect] {
    if state.confirmingQuit {
        switch key {
        case .char("y"), .char("Y"): return [.quit(confirm: true)]
        case .char("n"), .char("N"), .escape:
            state.confirmingQuit = false
            state.status = ""
        default: break
        }
        return []
    }
    switch key {
    case .f1:
        toggleHelp(&state)
        return []
    case .ctrl("q"):
        return requestQuit(&state)
    case .ctrl("s"):
        state.status = "saving…"
        return [.save]
    case .ctrl("r") where state.screen == .lanes || state.screen == .candidates:
        // The next stretch from wherever the kept line is shown (a reopened session, a cancelled round).
        return startSampling(&state)
    case .ctrl("o") where state.screen != .open:
        // Opening a session leaves the composer: a preset menu left open would come back over it.
        state.presetMenu = nil
        state.underOpen = state.screen == .help ? state.underHelp : state.screen
        state.screen = .open
        return [.listSessions]
    default: break
    }
    switch state.screen {
    case .help:
        switch key {
        case .escape, .char("?"), .char("q"): toggleHelp(&state)
        case .right, .tab, .down: state.helpPage = min(helpPages.count - 1, state.helpPage + 1)
        case .left, .backTab, .up: state.helpPage = max(0, state.helpPage - 1)
        default: break
        }
        return []
    case .composer: return composerKey(&state, key)
    case .lanes: return lanesKey(&state, key)
    case .candidates: return candidatesKey(&state, key)
    case .open: return openKey(&state, key)
    }
}

private func toggleHelp(_ state: inout StudioState) {
    if state.screen == .help {
        state.screen = state.underHelp
    } else {
        state.underHelp = state.screen
        state.helpPage = helpPage(for: state.screen)
        state.screen = .help
    }
}

let quitQuestion = "unsaved work: quit anyway? (y/n; ctrl-s saves)"

func requestQuit(_ state: inout StudioState) -> [StudioEffect] {
    guard state.dirty else { return [.quit(confirm: false)] }
    state.confirmingQuit = true
    state.status = quitQuestion
    return []
}

// MARK: Composer

private func isTextField(_ f: ComposerField) -> Bool { f == .genre || f == .artist || f == .lyrics }

private func composerKey(_ state: inout StudioState, _ key: Key) -> [StudioEffect] {
    if let effects = presetKey(&state, key) { return effects }
    let field = state.focus
    switch key {
    case .tab: moveFocus(&state, by: 1)
    case .backTab: moveFocus(&state, by: -1)
    case .down:
        if let p = state.picker, !p.results.isEmpty { state.picker?.selected = min(p.selected + 1, p.results.count - 1) }
        else { moveFocus(&state, by: 1) }
    case .up:
        if let p = state.picker, !p.results.isEmpty, p.selected > 0 { state.picker?.selected = p.selected - 1 }
        else { moveFocus(&state, by: -1) }
    case .escape:
        state.picker = nil
    case .enter:
        if let p = state.picker, !p.results.isEmpty { choose(&state, p.results[p.selected]) }
        else if field == .lyrics { state.lyrics.append("\n") }
        else { moveFocus(&state, by: 1) }
    case .ctrl("r"):
        return startSampling(&state)
    case .char(let c) where !isTextField(field) && c == "?":
        toggleHelp(&state)
    case .char(let c):
        typeCharacter(&state, c)
    case .backspace:
        erase(&state)
    case .left: adjust(&state, by: -1)
    case .right: adjust(&state, by: 1)
    default: break
    }
    return []
}

private func moveFocus(_ state: inout StudioState, by step: Int) {
    let fields = state.fields
    let i = fields.firstIndex(of: state.focus) ?? 0
    state.focus = fields[(i + step + fields.count) % fields.count]
    state.picker = nil
    if state.focus == .artist && state.artist.isEmpty { refreshPicker(&state, .artist) }
}

private func typeCharacter(_ state: inout StudioState, _ c: Character) {
    switch state.focus {
    case .genre: state.genre.append(c); refreshPicker(&state, .genre)
    case .artist: state.artist.append(c); refreshPicker(&state, .artist)
    case .lyrics: state.lyrics.append(c)
    case .seconds, .totalSeconds, .seed, .candidates:
        guard let d = c.wholeNumberValue, c.isASCII else { return }
        switch state.focus {
        case .seconds: state.seconds = min(Double(Int(state.seconds) * 10 + d), 3600)
        case .totalSeconds: state.totalSeconds = min(Double(Int(state.totalSeconds) * 10 + d), 3600)
        case .seed:
            let (m, o1) = state.seed.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            if !o1 && !o2 { state.seed = s }
        default: state.candidateCount = max(1, d)
        }
    case .temperature: break
    }
}

private func erase(_ state: inout StudioState) {
    switch state.focus {
    case .genre: if !state.genre.isEmpty { state.genre.removeLast() }; refreshPicker(&state, .genre)
    case .artist: if !state.artist.isEmpty { state.artist.removeLast() }; refreshPicker(&state, .artist)
    case .lyrics: if !state.lyrics.isEmpty { state.lyrics.removeLast() }
    case .seconds: state.seconds = Double(Int(state.seconds) / 10)
    case .totalSeconds: state.totalSeconds = Double(Int(state.totalSeconds) / 10)
    case .seed: state.seed /= 10
    case .candidates, .temperature: break
    }
}

/// Left/right nudge numbers; in text fields they do nothing (the editor appends at the end).
private func adjust(_ state: inout StudioState, by step: Int) {
    switch state.focus {
    case .seconds: state.seconds = min(max(1, state.seconds + Double(step)), 3600)
    case .totalSeconds: state.totalSeconds = min(max(1, state.totalSeconds + Double(step * 10)), 3600)
    case .temperature(let level) where state.temperatures.indices.contains(level):
        let t = (state.temperatures[level] * 100).rounded() + Double(step)
        state.temperatures[level] = min(max(t, 1), 300) / 100
    case .seed: state.seed = step < 0 ? (state.seed == 0 ? 0 : state.seed - 1) : state.seed &+ 1
    case .candidates: state.candidateCount = min(max(1, state.candidateCount + step), 9)
    default: break
    }
}

/// The word being typed: v2 genres are several words (each looked up), everything else is whole.
private func pickerQuery(_ state: StudioState, _ kind: Picker.Kind) -> String {
    switch kind {
    case .artist: return state.artist
    case .genre:
        guard let v = state.vocabulary, !v.v3 else { return state.genre }
        return state.genre.split(separator: " ", omittingEmptySubsequences: false).last.map(String.init) ?? ""
    }
}

private func refreshPicker(_ state: inout StudioState, _ kind: Picker.Kind) {
    let query = pickerQuery(state, kind)
    guard let v = state.vocabulary else { state.picker = nil; return }
    // An empty artist field offers the chosen genre's artists (when the set knows who sang what).
    guard !query.isEmpty || (kind == .artist && !state.genre.isEmpty && !(state.setDefaults?.artistGenres.isEmpty ?? true)) else {
        state.picker = nil
        return
    }
    var p = Picker(kind: kind)
    p.query = query
    let key = kind == .artist ? v.artistKey(query) : (v.genreKeys(query).last ?? "")
    let list = kind == .artist ? v.artists : v.genres
    // While typing, names that start with (then contain) what is typed come before merely close ones, and
    // among artists the chosen genre's first; the edit-distance order is kept within each group.
    let near = key.isEmpty ? list.entries.map(\.name) : list.closest(to: key, limit: 24)
    let genre = state.genre.lowercased()
    func rank(_ name: String) -> Int {
        let match = key.isEmpty ? 0 : (name.hasPrefix(key) ? 0 : (name.contains(key) ? 1 : 2))
        let sameGenre = kind == .artist && state.artistFacts(name).genre?.lowercased() == genre
        return 2 * match + (sameGenre ? 0 : 1)
    }
    // Each name ranked once (an empty query ranks the whole list), then sorted by rank, keeping the order within.
    let ranked = near.enumerated().map { (rank: rank($0.element), offset: $0.offset, name: $0.element) }
        .sorted { ($0.rank, $0.offset) < ($1.rank, $1.offset) }
    let shown = ranked.prefix(6).map(\.name)
    p.results = shown.map { v.display($0) }
    if kind == .artist {
        p.details = shown.map { name in
            let facts = state.artistFacts(name)
            return [facts.genre, facts.bpm.map { String(format: "%.0f bpm", $0) }].compactMap { $0 }.joined(separator: " · ")
        }
    }
    state.picker = p
}

private func choose(_ state: inout StudioState, _ name: String) {
    guard let p = state.picker else { return }
    switch p.kind {
    case .artist: state.artist = name
    case .genre:
        if let v = state.vocabulary, !v.v3, let space = state.genre.lastIndex(of: " ") {
            state.genre = String(state.genre[...space]) + name
        } else {
            state.genre = name
        }
    }
    state.picker = nil
    state.status = "\(p.kind == .genre ? "genre" : "artist"): \(name)"
}

/// Starts the co-composition, or draws the next stretch of one already under way (the session keeps
/// the prompt it started with). Candidates in flight are not unsaved work: the session folder is
/// written when sampling starts, and what is kept is saved after every keep.
private func startSampling(_ state: inout StudioState) -> [StudioEffect] {
    guard !state.sampling else { return busy(&state, "start another round") }
    state.picker = nil
    resetLanes(&state, keepingTop: state.composition != nil)
    state.candidates = []
    state.lyricSpan = ""
    clearRenders(&state)
    state.sampling = true
    state.screen = .lanes
    // A session keeps the prompt it began with (its kept line was made with it); say so, as edits in
    // the composer would not apply.
    state.status = state.composition == nil ? "sampling candidates…" : "sampling the next stretch (the session's prompt)…"
    return [.startSampling(state.promptFields)]
}

/// Fresh lanes; the top one keeps the kept line when asked.
func resetLanes(_ state: inout StudioState, keepingTop: Bool) {
    for i in state.lanes.indices where !(keepingTop && i == state.topLevel) {
        state.lanes[i] = Lane(level: i, bins: state.lanes[i].bins)
    }
    if keepingTop, let composition = state.composition { showKept(composition, in: &state) }
}

// MARK: Lanes and candidates

/// A key that cannot act while the engine works says so, instead of doing nothing.
func busy(_ state: inout StudioState, _ what: String) -> [StudioEffect] {
    state.status = "cannot \(what) while the engine works: wait, or Esc to cancel"
    return []
}

private func lanesKey(_ state: inout StudioState, _ key: Key) -> [StudioEffect] {
    if let effects = auditionKey(&state, key) { return effects }
    switch key {
    case .escape:
        if state.sampling { state.status = "cancelling…"; return [.cancelSampling] }
        state.screen = .composer
    case .char("?"): toggleHelp(&state)
    case .char("q"): return requestQuit(&state)
    case .char("p"):
        let top = state.lanes[state.topLevel]
        if let w = top.currentWindow {
            state.playback.songOffset = nil
            return [.play(level: top.level, range: w, candidate: nil)]
        }
    case .tab:
        if !state.candidates.isEmpty || state.composition != nil { state.screen = .candidates }
    case .ctrl("u"): return requestUpsample(&state)
    case .char("u"): return state.sampling ? busy(&state, "undo") : requestUndo(&state)
    default: break
    }
    return []
}

private func candidatesKey(_ state: inout StudioState, _ key: Key) -> [StudioEffect] {
    let count = state.candidates.count
    switch key {
    case .up: state.selectedCandidate = max(0, state.selectedCandidate - 1)
    case .down: state.selectedCandidate = min(max(0, count - 1), state.selectedCandidate + 1)
    case .char(" "), .char("p"):
        guard count > 0 else { return [] }
        let top = state.lanes[state.topLevel]
        let range = top.currentWindow ?? 0..<(state.candidates[state.selectedCandidate].count)
        state.playback.songOffset = nil
        return [.play(level: top.level, range: range, candidate: state.selectedCandidate)]
    case .enter, .char("k"):
        guard !state.sampling else { return busy(&state, "keep") }
        guard count > 0 else { state.status = "no candidates yet: Ctrl-R draws them"; return [] }
        let i = state.selectedCandidate
        state.candidates = []
        clearRenders(&state)
        // Unsaved until the engine's autosave answers with .saved.
        state.dirty = true
        state.sampling = true
        state.screen = .lanes
        state.status = "kept candidate \(i + 1): saving, then the next stretch…"
        return [.keepCandidate(i)]
    case .char("r"):
        guard !state.sampling else { return busy(&state, "resample") }
        guard count > 0 else { state.status = "no candidates to resample yet: Ctrl-R draws them"; return [] }
        state.candidates = []
        clearRenders(&state)
        state.sampling = true
        state.screen = .lanes
        state.status = "resampling…"
        return [.resample]
    case .char("u"):
        guard !state.sampling else { return busy(&state, "undo") }
        return requestUndo(&state)
    case .ctrl("u"): return requestUpsample(&state)
    case .escape, .tab: state.screen = .lanes
    case .left, .right, .char("s"), .char(","), .char("."), .char("<"), .char(">"), .char("+"), .char("="), .char("-"):
        return auditionKey(&state, key) ?? []
    case .char("?"): toggleHelp(&state)
    case .char("q"): return requestQuit(&state)
    default: break
    }
    return []
}

// MARK: Engine events

private func apply(_ event: GenerationEvent, to state: inout StudioState) {
    switch event {
    case .tokensSampled(let level, let samples, let positions, let values):
        guard state.lanes.indices.contains(level), !samples.isEmpty, positions.lowerBound >= 0,
              values.count >= positions.count else { return }
        var lane = state.lanes[level]
        grow(&lane, to: positions.upperBound)
        guard positions.upperBound <= lane.codes.count else { return }
        // The lane shows the first sample of the batch (row 0: samples are the outer dimension).
        for (k, p) in positions.enumerated() { lane.codes[p] = values[k] }
        lane.done = max(lane.done, positions.upperBound)
        state.lanes[level] = lane
    case .windowStarted(let level, let index, let start, let length):
        guard state.lanes.indices.contains(level), start >= 0, length >= 0 else { return }
        state.status = "level \(level): window \(index + 1)"
        if !state.lanes[level].windowStarts.contains(start) { state.lanes[level].windowStarts.append(start) }
        state.lanes[level].currentWindow = start..<(start + length)
        grow(&state.lanes[level], to: start + length)
        state.sampling = true
    case .windowFinished(let level, _, _, _):
        guard state.lanes.indices.contains(level) else { return }
        state.status = "level \(level): window done"
    case .levelFinished(let level):
        guard state.lanes.indices.contains(level) else { return }
        state.lanes[level].finished = true
        if level == 0 { state.sampling = false; state.status = "done" }
    case .audioDecoded(let level, let samples, _):
        addRender(&state, level: level, samples: samples)
    case .progress(let level, let done, let total, let tps, let eta):
        guard state.lanes.indices.contains(level), total >= 0 else { return }
        state.lanes[level].total = total
        state.lanes[level].done = min(max(0, done), max(total, state.lanes[level].codes.count))
        state.lanes[level].tokensPerSecond = tps.isFinite ? tps : 0
        state.lanes[level].eta = eta.isFinite ? max(0, eta) : 0
        grow(&state.lanes[level], to: total)
    case .cancelled:
        state.sampling = false
        state.status = "cancelled"
    case .failed(let text):
        state.sampling = false
        state.status = "error: \(text)"
    }
}

/// Codes are kept per position; a lane never grows past a sane bound (positions come from the engine).
func grow(_ lane: inout Lane, to count: Int) {
    let n = min(count, 1 << 24)
    if lane.codes.count < n { lane.codes += Array(repeating: -1, count: n - lane.codes.count) }
    lane.total = max(lane.total, lane.codes.count)
}
