import JukeboxCore

/// Label column width of the composer's fields.
private let labelWidth = 14

func levelName(_ level: Int, of count: Int) -> String {
    if level == count - 1 { return "top" }
    if level == 0 { return "bottom" }
    return count == 3 ? "middle" : "L\(level)"
}

func renderComposer(_ state: StudioState, into grid: inout CellGrid) {
    func label(_ text: String, _ y: Int, _ field: ComposerField) {
        grid.put(text, x: 1, y: y, role: state.focus == field ? .accent : .normal)
    }
    func value(_ text: String, _ y: Int, _ field: ComposerField, x: Int = 1 + labelWidth) -> Int {
        let focused = state.focus == field && state.screen != .help
        let end = grid.put(text, x: x, y: y, role: focused ? .selected : .normal, maxWidth: grid.width - x - 1)
        if focused { grid.set(end, y, " ", role: .cursor) }
        return end
    }

    // A name the model's lists lack is sampled as "unknown": said beside it once it is typed (not while the
    // picker is still offering names).
    let unknown = "  not in this set's list: sampled as unknown"
    label("Genre", 2, .genre)
    let g = value(state.genre, 2, .genre)
    if state.picker == nil, !state.genre.isEmpty, isUnknown(genre: state.genre, state.vocabulary) {
        grid.put(unknown, x: g + 1, y: 2, role: .warning, maxWidth: grid.width - g - 2)
    }
    label("Artist", 3, .artist)
    let a = value(state.artist, 3, .artist)
    if state.picker == nil, !state.artist.isEmpty, isUnknown(artist: state.artist, state.vocabulary) {
        grid.put(unknown, x: a + 1, y: 3, role: .warning, maxWidth: grid.width - a - 2)
    } else if let tempo = state.tempoHint, !offeringOtherNames(state) {
        grid.put("  bar clock at \(tempo)", x: a + 1, y: 3, role: .dim)
    }
    label("Sample", 4, .seconds)
    let s = value(format(state.seconds), 4, .seconds)
    grid.put(" s", x: s + (state.focus == .seconds ? 1 : 0), y: 4, role: .dim)
    label("Song length", 5, .totalSeconds)
    let t = value(format(state.totalSeconds), 5, .totalSeconds)
    grid.put(" s", x: t + (state.focus == .totalSeconds ? 1 : 0), y: 5, role: .dim)

    grid.put("Temperature", x: 1, y: 6, role: isTemperature(state.focus) ? .accent : .normal)
    var x = 1 + labelWidth
    for level in (0..<state.temperatures.count).reversed() {
        x = grid.put(levelName(level, of: state.temperatures.count) + " ", x: x, y: 6, role: .dim)
        x = value(String(format: "%.2f", state.temperatures[level]), 6, .temperature(level: level), x: x) + 3
    }
    label("Seed", 7, .seed)
    _ = value(String(state.seed), 7, .seed)
    label("Candidates", 8, .candidates)
    _ = value(String(state.candidateCount), 8, .candidates)

    renderLyrics(state, into: &grid, top: 10)
    if let picker = state.picker, !picker.results.isEmpty { renderPicker(picker, state, into: &grid) }
}

/// A partly typed artist the picker is still completing (the start of a name it offers): its tempo would be
/// the one for an artist the set does not know, not the one the name being typed will get, so none is shown
/// until the name is whole (the picker shows each offered artist's own).
private func offeringOtherNames(_ state: StudioState) -> Bool {
    guard let picker = state.picker, let v = state.vocabulary, isUnknown(artist: state.artist, v) else { return false }
    // Keys as the list holds them (the picker ranks names starting with the typed key the same way).
    let typed = v.artistKey(state.artist)
    return !typed.isEmpty && picker.results.contains { v.artistKey($0).hasPrefix(typed) }
}

private func isTemperature(_ f: ComposerField) -> Bool {
    if case .temperature = f { return true }
    return false
}

private func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
}

/// The lyrics as typed, each character the model will not see in the warning role, with a summary
/// of what is dropped; the box shows the last lines (where one is typing).
private func renderLyrics(_ state: StudioState, into grid: inout CellGrid, top: Int) {
    let cleaned = state.cleanedLyrics
    let focused = state.focus == .lyrics
    grid.put("Lyrics", x: 1, y: top, role: focused ? .accent : .normal)
    let seen = cleaned.text.unicodeScalars.count
    grid.put("model sees \(seen) characters", x: 1 + labelWidth, y: top, role: .dim)

    // The instrumental artist's note (when no character is dropped) takes as many rows as it needs under the box.
    let note = cleaned.dropped.isEmpty ? state.instrumentalNote.map { wrap($0, width: grid.width - 2) } : nil
    let boxTop = top + 1, boxHeight = grid.height - 3 - boxTop - max(1, note?.count ?? 1)
    guard boxHeight >= 3 else { return }
    grid.box(x: 0, y: boxTop, width: grid.width, height: boxHeight, role: focused ? .accent : .dim)

    // Lines of (character, dropped?) in display order.
    let dropped = Set(cleaned.dropped.map(\.offset))
    var lines: [[(Character, Bool)]] = [[]]
    var offset = 0
    for ch in state.lyrics {
        let n = ch.unicodeScalars.count
        let isDropped = (offset..<(offset + n)).contains { dropped.contains($0) }
        offset += n
        if ch == "\n" || ch == "\r\n" || ch == "\\" { lines.append([]); continue }
        lines[lines.count - 1].append((ch, isDropped))
    }
    let inner = boxHeight - 2
    let shown = lines.suffix(inner)
    for (row, line) in shown.enumerated() {
        var x = 2
        let y = boxTop + 1 + row
        for (ch, isDropped) in line {
            let w = CellGrid.columns(of: CellGrid.visible(ch))
            if x + w > grid.width - 2 { break }
            grid.set(x, y, ch, role: isDropped ? .warning : .normal)
            x += w
        }
        if focused && row == shown.count - 1 && x < grid.width - 2 { grid.set(x, y, " ", role: .cursor) }
    }

    let summaryRow = boxTop + boxHeight
    if let note {
        for (i, line) in note.enumerated() { grid.put(line, x: 1, y: summaryRow + i, role: .warning, maxWidth: grid.width - 2) }
    } else if cleaned.dropped.isEmpty {
        grid.put("every character reaches the model", x: 1, y: summaryRow, role: .dim)
    } else {
        grid.put("not seen by the model: " + cleaned.droppedText, x: 1, y: summaryRow, role: .warning, maxWidth: grid.width - 2)
    }
}

/// The suggestions under the field being typed.
private func renderPicker(_ picker: Picker, _ state: StudioState, into grid: inout CellGrid) {
    let y = picker.kind == .genre ? 3 : 4
    let w = min(40, grid.width - labelWidth - 2)
    grid.box(x: labelWidth, y: y, width: w, height: picker.results.count + 2, role: .accent)
    for (i, name) in picker.results.enumerated() {
        let row = y + 1 + i
        let selected = i == picker.selected
        grid.put((selected ? "> " : "  ") + name, x: labelWidth + 1, y: row, role: selected ? .selected : .normal, maxWidth: w - 2)
        // The artist's genre and tempo at the right, where the name leaves room.
        if let detail = picker.details[safe: i], !detail.isEmpty, name.count + 4 + detail.count <= w - 2 {
            grid.put(detail, x: labelWidth + w - 1 - detail.count, y: row, role: selected ? .selected : .dim, maxWidth: detail.count)
        }
        if selected { grid.restyle(x: labelWidth + 1, y: row, width: w - 2, role: .selected) }
    }
}
