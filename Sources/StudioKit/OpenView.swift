/// The open screen: recent sessions, newest first, one line each (when, what, how much is kept, where),
/// and the folder this studio writes now; missing folders stay listed, dimmed, so nothing vanishes unseen.
func renderOpen(_ state: StudioState, into grid: inout CellGrid) {
    grid.put("Recent sessions", x: 1, y: 2, role: .accent)
    if !state.sessionPath.isEmpty {
        grid.put("this studio: \(state.sessionPath)", x: 1, y: 3, role: .dim, maxWidth: grid.width - 2)
    }
    var y = ListLayout.recentTop
    if state.recent.isEmpty {
        grid.put("no recent sessions yet (a session is listed once it is saved)", x: 2, y: y, role: .dim)
        return
    }
    let (first, rows) = ListLayout.recentWindow(state)
    for (i, entry) in state.recent.enumerated().dropFirst(first).prefix(rows) {
        let selected = i == state.selectedRecent
        let when = entry.savedAt.replacingOccurrences(of: "T", with: " ").prefix(16)
        let what = [entry.genre, entry.artist].filter { !$0.isEmpty }.joined(separator: " · ")
        var line = "\(selected ? ">" : " ") \(when)  \(clock(entry.keptSeconds)) kept  \(what.isEmpty ? "(no labels)" : what)"
        line += entry.missing ? "  (missing) " : "  "
        let x = grid.put(line, x: 1, y: y, role: selected ? .selected : (entry.missing ? .dim : .normal), maxWidth: grid.width - 2)
        grid.put(entry.path, x: x, y: y, role: .dim, maxWidth: max(0, grid.width - 1 - x))
        y += 1
    }
}
