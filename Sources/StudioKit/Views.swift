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
        if let menu = state.presetMenu, state.screen == .composer { renderPresetMenu(menu, vocabulary: state.vocabulary, into: &grid) }
    case .lanes: renderLanes(state, into: &grid)
    case .candidates: renderCandidates(state, into: &grid)
    case .open: renderOpen(state, into: &grid)
    }
    if state.screen == .help {
        // The overlay hides the screen below it: half-covered boxes read as noise.
        grid.fill(x: 0, y: 1, width: grid.width, height: grid.height - 3)
        renderHelp(page: state.helpPage, into: &grid)
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
    let titles: [Screen: String] = [.composer: "Compose", .lanes: "Sampling", .candidates: "Keep or resample",
                                   .open: "Open a session"]
    grid.fill(x: 0, y: 0, width: grid.width, height: 1, role: .title)
    grid.put(" Jukebox studio · \(titles[screen] ?? "")", x: 0, y: 0, role: .title)
    let flag = state.dirty ? "unsaved " : ""
    grid.put(flag, x: grid.width - CellGrid.columns(of: flag), y: 0, role: .title)

    let statusRow = grid.height - 2
    // The quit question stays while it is asked: engine reports (a round drawn, a render decoded)
    // go on changing the status meanwhile.
    let status = state.confirmingQuit ? quitQuestion : state.status
    if !status.isEmpty {
        grid.put(status, x: 1, y: statusRow, role: state.confirmingQuit || status.hasPrefix("error") ? .warning : .status,
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
        // Quit before choose: at 80 columns the footer shows up to Ctrl-Q.
        return [("Tab", "field"), ("Ctrl-R", "sample"), ("Ctrl-O", "open"), ("Ctrl-L", "presets"), ("F1", "help"),
                ("Ctrl-Q", "quit"), ("Enter", "choose"), ("Ctrl-P", "save preset"), ("Ctrl-S", "save")]
    case .lanes:
        // Upsample before seek: at 80 columns the footer shows up to Ctrl-U.
        return [("Esc", "cancel/back"), ("Enter", "play"), ("Space", "pause"), ("Tab", "candidates"),
                ("Ctrl-U", "upsample"), ("←→", "seek"), ("?", "help"), ("q", "quit")]
    case .candidates:
        return [("↑↓", "pick"), ("Space", "audition"), ("Enter", "keep"), ("r", "resample"), ("u", "undo"),
                ("Ctrl-U", "upsample"), ("Esc", "lanes"), ("?", "help")]
    case .open:
        return [("↑↓", "pick"), ("Enter", "open"), ("Esc", "back"), ("Ctrl-Q", "quit")]
    case .help:
        return [("Esc", "close help"), ("← →", "turn the page"), ("Ctrl-S", "save"), ("Ctrl-Q", "quit")]
    }
}

public typealias HelpSection = (title: String, keys: [(key: String, what: String)])

/// Every key, by where it applies: the help overlay lists these on pages of two columns, so each
/// page fits 80×24 (one page held them all before audition, presets and co-composition met).
public let helpPages: [(left: [HelpSection], right: [HelpSection])] = [
    (left: [("Everywhere", [("F1", "help on/off"), ("Ctrl-S", "save the session"), ("Ctrl-O", "open a recent session"),
                            ("Ctrl-Q", "quit (asks if unsaved)")]),
            ("Composer", [("Tab/S-Tab", "next/previous field"), ("↑ ↓", "picker, else field"),
                          ("Enter", "pick; newline (lyrics)"), ("Esc", "close the picker"),
                          ("← →", "adjust a number"), ("0-9 Bksp", "type/erase a number"), ("?", "help (number fields)"),
                          ("Ctrl-R", "start sampling"), ("Ctrl-L", "load a preset"), ("Ctrl-P", "save as preset")])],
     right: [("Open (Ctrl-O)", [("↑ ↓", "choose a session"), ("Enter", "open it"), ("Esc", "back"),
                                ("click", "choose; double: open")]),
             ("Presets (Ctrl-L, Ctrl-P)", [("↑ ↓ Enter", "choose and load"), ("a-z 0-9", "type the name to save"),
                                           ("Enter", "save the prompt"), ("Esc", "close")])]),
    (left: [("Lanes", [("Esc", "cancel, or composer"), ("↑ ↓", "pick a render"), ("Enter", "play the render"),
                       ("Space", "pause / resume"), ("← →", "seek 5 s back/on"), (", .", "seek a minute"),
                       ("+ -", "volume"), ("s", "stop playing"),
                       ("p", "play current window"), ("Tab", "candidates"), ("Ctrl-R", "next stretch"),
                       ("Ctrl-U", "upsample kept line"), ("u", "undo the last keep")])],
     right: [("Candidates", [("↑ ↓", "choose one"), ("Space / p", "audition it"), ("Enter / k", "keep it"),
                             ("r", "resample"), ("u", "undo the last keep"), ("Ctrl-U", "upsample kept line"),
                             ("← → , .", "seek"), ("+ - / s", "volume / stop playing"), ("Esc / Tab", "back to the lanes"),
                             ("click", "choose; double: keep")])]),
]

/// The help page that starts with the keys of `screen` (the one under the overlay).
func helpPage(for screen: Screen) -> Int {
    switch screen {
    case .lanes, .candidates: return 1
    default: return 0
    }
}

func renderHelp(page: Int, into grid: inout CellGrid) {
    let index = min(max(0, page), helpPages.count - 1)
    func lines(_ sections: [HelpSection]) -> [(String, String, Bool)] {
        var out: [(String, String, Bool)] = []
        for (i, section) in sections.enumerated() {
            if i > 0 { out.append(("", "", false)) }
            out.append((section.title, "", true))
            for k in section.keys { out.append((k.key, k.what, false)) }
        }
        return out
    }
    let left = lines(helpPages[index].left), right = lines(helpPages[index].right)
    let rows = max(left.count, right.count)
    let w = min(grid.width, 78), h = min(grid.height - 2, rows + 4)
    let x0 = (grid.width - w) / 2, y0 = 1
    grid.box(x: x0, y: y0, width: w, height: h, role: .accent)
    grid.put(" Keys (Esc closes) · page \(index + 1)/\(helpPages.count): ← → turn ", x: x0 + 2, y: y0, role: .title)
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
