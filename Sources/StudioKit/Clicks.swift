/// Mouse clicks on the lists: a click selects a row, a double click acts on it (keep a candidate,
/// open a session), the same as the keys do. Rows come from the same layout the views draw with.
enum ListLayout {
    /// First row of the candidate strips on the candidates screen.
    static let candidatesTop = 4
    /// First row of the recent sessions on the open screen.
    static let recentTop = 5

    /// Recent sessions that fit, and the first one shown (the selection stays on screen).
    static func recentWindow(_ state: StudioState) -> (first: Int, rows: Int) {
        let rows = max(0, state.height - 3 - recentTop)
        let first = min(max(0, state.selectedRecent - rows + 1), max(0, state.recent.count - rows))
        return (first, rows)
    }
}

func handleClick(_ state: inout StudioState, x: Int, y: Int, double: Bool) -> [StudioEffect] {
    guard !state.isTooSmall, !state.confirmingQuit, x >= 0 else { return [] }
    switch state.screen {
    case .candidates:
        let i = y - ListLayout.candidatesTop
        guard state.candidates.indices.contains(i) else { return [] }
        state.selectedCandidate = i
        return double ? update(&state, .key(.enter)) : []
    case .open:
        let (first, rows) = ListLayout.recentWindow(state)
        let i = first + y - ListLayout.recentTop
        guard y >= ListLayout.recentTop, y < ListLayout.recentTop + rows, state.recent.indices.contains(i) else { return [] }
        state.selectedRecent = i
        return double ? update(&state, .key(.enter)) : []
    default:
        return []
    }
}
