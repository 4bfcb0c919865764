/// The audition line (row 1 of the lanes and candidates screens): state, title, position, a small
/// waveform of the last peaks and a level meter. With no sound card it says so and where WAVs go.
func renderPlaybackLine(_ state: StudioState, into grid: inout CellGrid, y: Int) {
    let p = state.playback
    var x = 1
    guard p.isActive else {
        var text = state.renderEntries == 0 ? "audition: nothing decoded yet" : "audition: Enter plays the picked render"
        if let reason = p.noSoundCard { text = "no sound card: auditions are written as WAV files (\(reason))" }
        grid.put(text, x: x, y: y, role: p.noSoundCard != nil ? .warning : .dim, maxWidth: grid.width - 2)
        return
    }
    x = grid.put(p.phase == .playing ? "> " : "||", x: x, y: y, role: .accent)
    x = grid.put(" \(clock(p.position))/\(clock(p.duration)) ", x: x, y: y, role: .status)
    if p.volume != 1 { x = grid.put(String(format: "vol %.0f%% ", p.volume * 100), x: x, y: y, role: .dim) }
    // The meter and waveform sit at the right; the title takes what is left.
    let meterWidth = 10, waveWidth = min(PlaybackState.peakHistory, 12)
    let right = grid.width - 1 - (meterWidth + 2) - 1 - waveWidth
    grid.put(p.title, x: x + 1, y: y, role: .normal, maxWidth: max(0, right - x - 3))
    var wx = right
    for peak in p.peaks.suffix(waveWidth) {
        grid.set(wx, y, glyph(forCode: Int(peak * 1000), bins: 1001), role: .meter)
        wx += 1
    }
    let level = p.phase == .playing ? (p.peaks.last ?? 0) : 0
    let filled = Int((Float(meterWidth) * level).rounded())
    let mx = grid.width - 1 - (meterWidth + 2)
    grid.put("[", x: mx, y: y, role: .dim)
    for i in 0..<meterWidth { grid.set(mx + 1 + i, y, i < filled ? "#" : "-", role: i < filled ? .meter : .dim) }
    grid.put("]", x: mx + 1 + meterWidth, y: y, role: .dim)
}

/// The renders decoded so far, newest at the bottom, each labelled by the level it comes from;
/// `>` marks the pick (↑↓) and `*` what plays.
func renderRendersList(_ state: StudioState, into grid: inout CellGrid, y: Int, rows: Int) {
    guard rows >= 2 else { return }
    grid.put("Renders (top: rough preview, lower levels refine it)", x: 1, y: y, role: .title)
    let song = state.songLevels
    guard state.renderEntries > 0 else {
        grid.put(state.sampling ? "each finished window is decoded here as sampling goes" : "none yet", x: 2, y: y + 1, role: .dim)
        return
    }
    // The whole song per level first, then each window decoded while sampling, indented beneath.
    func title(_ i: Int) -> String {
        if let level = song[safe: i] { return state.songTitle(level: level) }
        return state.renders[i - song.count].title(levels: state.lanes.count, sampleRate: state.sampleRate)
    }
    let shown = rows - 1, count = state.renderEntries
    // Keep the pick in view: a window of `shown` rows that ends at the newest unless the pick is above it.
    let first = max(0, min(state.selectedRender - shown / 2, count - shown))
    for (row, i) in (first..<min(count, first + shown)).enumerated() {
        let name = title(i)
        let picked = i == state.selectedRender
        let playing = state.playback.isActive && state.playback.title == name
        let indent = i >= song.count && !song.isEmpty ? "  " : ""
        grid.put((picked ? "> " : "  ") + (playing ? "* " : "  ") + indent + name, x: 1, y: y + 1 + row,
                 role: picked ? .selected : .normal, maxWidth: grid.width - 2)
    }
}
