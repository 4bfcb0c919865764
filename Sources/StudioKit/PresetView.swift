import JukeboxCore

/// The preset overlay over the composer: the presets to load (bad files say why, naming the field), or
/// the name being typed for saving the prompt.
func renderPresetMenu(_ menu: PresetMenu, vocabulary: LabelVocabulary?, into grid: inout CellGrid) {
    let x0 = 2, y0 = 2, w = grid.width - 4
    let entries = menu.entries ?? []
    let listRows = max(1, min(entries.count, grid.height - 12))
    let h = min(grid.height - 4, listRows + (menu.mode == .load ? 5 : 7))
    grid.box(x: x0, y: y0, width: w, height: h, role: .accent)
    let title = menu.mode == .load ? " Load a preset (Enter loads, Esc closes) " : " Save the prompt as a preset (Enter saves, Esc closes) "
    grid.put(title, x: x0 + 2, y: y0, role: .title)
    var y = y0 + 1
    if menu.mode == .save {
        let end = grid.put("Name: ", x: x0 + 2, y: y, role: .accent)
        let after = grid.put(menu.name, x: end, y: y, role: .selected, maxWidth: w - 10)
        grid.set(after, y, " ", role: .cursor)
        y += 1
        let replaces = entries.contains { $0.name == menu.name }
        grid.put(replaces ? "replaces the preset \(menu.name)" : "letters, digits, - and _", x: x0 + 2, y: y,
                 role: replaces ? .warning : .dim, maxWidth: w - 4)
        y += 2
    }
    guard let list = menu.entries else {
        grid.put("reading the presets folders…", x: x0 + 2, y: y, role: .dim)
        return
    }
    if list.isEmpty { grid.put("no presets found", x: x0 + 2, y: y, role: .dim); return }
    let first = max(0, min(menu.selected - listRows / 2, list.count - listRows))
    // The names' column fits the longest name, up to a third of the box.
    let nameWidth = min(max(list.map(\.name.count).max() ?? 0, 12), max(12, w / 3))
    for i in first..<min(list.count, first + listRows) {
        let entry = list[i]
        let picked = menu.mode == .load && i == menu.selected
        let fits = entry.preset.map { unknownNames($0, vocabulary).isEmpty } ?? false
        let role: StyleRole = picked ? .selected : (entry.preset == nil ? .warning : (fits ? .normal : .dim))
        var line = (picked ? "> " : "  ") + entry.name.padding(toLength: max(entry.name.count, nameWidth), withPad: " ", startingAt: 0)
        if let p = entry.preset {
            let what = [p.genre, p.artist].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " · ")
            line += " " + (p.model ?? "any").padding(toLength: 10, withPad: " ", startingAt: 0) + what
        } else {
            line += " cannot load"
        }
        grid.put(line, x: x0 + 1, y: y, role: role, maxWidth: w - 2)
        if picked { grid.restyle(x: x0 + 1, y: y, width: w - 2, role: .selected) }
        y += 1
    }
    // What the pick is, or why it cannot be loaded (the error names the file and field).
    guard menu.mode == .load, let entry = list[safe: menu.selected] else { return }
    let detail = entry.error ?? entry.preset?.description ?? entry.file
    grid.put(detail, x: x0 + 2, y: y0 + h - 2, role: entry.error == nil ? .dim : .warning, maxWidth: w - 4)
}
