/// Draws the whole screen for `state`: a pure function of the state (the runtime calls it once a frame).
public func render(_ state: StudioState, into grid: inout CellGrid) {
    grid = CellGrid(width: state.width, height: state.height)
    if state.isTooSmall {
        renderTooSmall(state, into: &grid)
        return
    }
    let screen = state.screen == .help ? state.underHelp : state.screen
    switch screen {
    case .composer, .help:
        renderComposer(state, into: &grid)
        if let menu = state.presetMenu, state.screen == .composer { renderPresetMenu(menu, into: &grid) }
    case .lanes: renderLanes(state, into: &grid)
    case .candidates: renderCandidates(state, into: &grid)
    }
    if state.screen == .help {
        // The overlay hides the screen below it: half-covered boxes read as noise.
        grid.fill(x: 0, y: 1, width: grid.width, height: grid.height - 3)
        renderHelp(into: &grid)
    }
    renderChrome(state, screen: screen, into: &grid)
}

/// Convenience for tests and the runtime: a fresh grid of the state's size.
public func render(_ state: StudioState) -> CellGrid {
    var grid = CellGrid(width: state.width, height: state.height)
    render(state, into: &grid)
    return grid
}

func renderTooSmall(_ state: StudioState, into grid: inout CellGrid) {
    let lines = ["terminal too small",
                 "need \(StudioState.minimumWidth)×\(StudioState.minimumHeight), have \(state.width)×\(state.height)",
                 "enlarge the window or press Ctrl-Q to quit"]
    let top = max(0, (grid.height - lines.count) / 2)
    for (i, line) in lines.enumerated() {
        let x = max(0, (grid.width - CellGrid.columns(of: line)) / 2)
        grid.put(line, x: x, y: top + i, role: i == 0 ? .warning : .normal)
    }
}

/// Title bar, status line and footer, shared by every screen.
func renderChrome(_ state: StudioState, screen: Screen, into grid: inout CellGrid) {
    let titles: [Screen: String] = [.composer: "Compose", .lanes: "Sampling", .candidates: "Keep or resample"]
    grid.fill(x: 0, y: 0, width: grid.width, height: 1, role: .title)
    grid.put(" Jukebox studio · \(titles[screen] ?? "")", x: 0, y: 0, role: .title)
    let flag = state.dirty ? "unsaved " : ""
    grid.put(flag, x: grid.width - CellGrid.columns(of: flag), y: 0, role: .title)

    let statusRow = grid.height - 2
    if !state.status.isEmpty {
        grid.put(state.status, x: 1, y: statusRow, role: state.confirmingQuit || state.status.hasPrefix("error") ? .warning : .status,
                 maxWidth: grid.width - 2)
    }
    let keys = state.confirmingQuit ? [("y", "quit without saving"), ("n", "stay")]
        : footerKeys(state.screen == .help ? .help : screen)
    var x = 0
    let footerRow = grid.height - 1
    for (key, what) in keys {
        let end = x + CellGrid.columns(of: key) + 1 + CellGrid.columns(of: what)
        guard end <= grid.width else { break }
        x = grid.put(key, x: x, y: footerRow, role: .accent)
        x = grid.put(" " + what + "  ", x: x, y: footerRow, role: .dim)
    }
}

/// The keys that apply on a screen, most used first (the footer cuts what does not fit).
public func footerKeys(_ screen: Screen) -> [(key: String, what: String)] {
    switch screen {
    case .composer:
        return [("Tab", "field"), ("Enter", "choose"), ("Ctrl-R", "sample"),
                ("Ctrl-S", "save"), ("F1", "help"), ("Ctrl-Q", "quit"), ("Ctrl-O", "presets")]
    case .lanes:
        return [("Esc", "cancel/back"), ("Enter", "play"), ("Space", "pause"), ("←→", "seek"),
                ("Tab", "candidates"), ("?", "help"), ("q", "quit")]
    case .candidates:
        return [("↑↓", "pick"), ("Space", "audition"), ("Enter", "keep"), ("r", "resample"), ("u", "undo"),
                ("Esc", "lanes"), ("?", "help")]
    case .help:
        return [("Esc", "close help"), ("Ctrl-S", "save"), ("Ctrl-Q", "quit")]
    }
}

/// Every key, by where it applies: the help overlay lists these.
public let helpSections: [(title: String, keys: [(key: String, what: String)])] = [
    ("Everywhere", [("F1", "help on/off"), ("Ctrl-S", "save the session"), ("Ctrl-Q", "quit (asks if unsaved)")]),
    ("Composer", [("Tab/S-Tab", "next/previous field"), ("↑ ↓", "picker, else field"),
                  ("Enter", "pick; newline (lyrics)"), ("Esc", "close the picker"),
                  ("← →", "adjust a number"), ("0-9 Bksp", "type/erase a number"), ("?", "help (number fields)"),
                  ("Ctrl-R", "start sampling"), ("Ctrl-O", "load a preset"), ("Ctrl-P", "save as preset")]),
    ("Lanes", [("Esc", "cancel, or composer"), ("↑ ↓", "pick a render"), ("Enter", "play the render"),
               ("Space", "pause / resume"), ("← →", "seek 5 s back/on"), ("s", "stop playing"),
               ("p", "play current window"), ("Tab", "candidates")]),
    ("Candidates", [("↑ ↓", "choose one"), ("Space / p", "audition it"), ("Enter / k", "keep it"),
                    ("r", "resample"), ("u", "undo the last keep"), ("Esc / Tab", "back to the lanes"),
                    ("← → / s", "seek / stop playing")]),
]

func renderHelp(into grid: inout CellGrid) {
    var lines: [(String, String, Bool)] = []
    for (i, section) in helpSections.enumerated() {
        if i > 0 { lines.append(("", "", false)) }
        lines.append((section.title, "", true))
        for k in section.keys { lines.append((k.key, k.what, false)) }
    }
    // Sections side by side in two columns keep the box within 80×24.
    let split = 2 + helpSections[0].keys.count + helpSections[1].keys.count + 1
    let left = Array(lines.prefix(split)), right = Array(lines.dropFirst(split + 1))
    let rows = max(left.count, right.count)
    let w = min(grid.width, 78), h = min(grid.height - 2, rows + 4)
    let x0 = (grid.width - w) / 2, y0 = 1
    grid.box(x: x0, y: y0, width: w, height: h, role: .accent)
    grid.put(" Keys (Esc closes) ", x: x0 + 2, y: y0, role: .title)
    for (col, list) in [left, right].enumerated() {
        let cx = x0 + 2 + col * (w / 2)
        for (i, line) in list.enumerated() where y0 + 2 + i < y0 + h - 1 {
            let y = y0 + 2 + i
            if line.2 { grid.put(line.0, x: cx, y: y, role: .title); continue }
            grid.put(line.0, x: cx, y: y, role: .accent, maxWidth: 10)
            grid.put(line.1, x: cx + 11, y: y, maxWidth: w / 2 - 14)
        }
    }
}
