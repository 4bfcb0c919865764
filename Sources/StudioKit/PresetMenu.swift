import JukeboxCore

/// The composer's preset overlay: pick one to load (Ctrl-L) or name the current prompt to save it (Ctrl-P).
/// (Ctrl-O is "open a session" on every screen.)
public struct PresetMenu: Sendable, Equatable {
    public enum Mode: Sendable, Equatable { case load, save }
    public var mode: Mode
    /// nil until the runtime has listed the presets folders.
    public var entries: [PresetEntry]?
    public var selected = 0
    /// The name typed when saving.
    public var name = ""

    public init(mode: Mode) { self.mode = mode }
}

/// The composer's prompt as a preset named `name`.
func presetFromPrompt(_ state: StudioState, name: String) -> Preset {
    Preset(name: name, genre: state.genre, artist: state.artist, lyrics: state.lyrics, seconds: state.seconds,
           totalSeconds: state.totalSeconds, temperatures: Array(state.temperatures.reversed()), seed: state.seed,
           candidates: state.candidateCount)
}

/// Ctrl-L and Ctrl-P open the menu; while it is open every key goes to it (but the global keys).
func presetKey(_ state: inout StudioState, _ key: Key) -> [StudioEffect]? {
    guard var menu = state.presetMenu else {
        switch key {
        case .ctrl("l"):
            state.picker = nil
            state.presetMenu = PresetMenu(mode: .load)
            return [.listPresets]
        case .ctrl("p"):
            state.picker = nil
            state.presetMenu = PresetMenu(mode: .save)
            return [.listPresets]
        default: return nil
        }
    }
    let count = menu.entries?.count ?? 0
    switch (menu.mode, key) {
    case (_, .escape):
        state.presetMenu = nil
        return []
    case (.load, .up): menu.selected = max(0, menu.selected - 1)
    case (.load, .down): menu.selected = min(max(0, count - 1), menu.selected + 1)
    case (.load, .enter):
        guard let entry = menu.entries?[safe: menu.selected] else { return [] }
        guard let preset = entry.preset else {
            state.status = "error: \(entry.error ?? entry.file)"
            return []
        }
        if apply(preset, file: entry.file, to: &state) { state.presetMenu = nil }
        return []
    case (.save, .char(let c)):
        let candidate = menu.name + String(c)
        if Preset.isValidName(candidate) { menu.name = candidate }
        else { state.status = "a preset name takes letters, digits, - and _" }
    case (.save, .backspace):
        if !menu.name.isEmpty { menu.name.removeLast() }
    case (.save, .enter):
        guard Preset.isValidName(menu.name) else { state.status = "type a name for the preset first"; return [] }
        let preset = presetFromPrompt(state, name: menu.name)
        state.presetMenu = nil
        state.status = "saving preset \(preset.name)…"
        return [.savePreset(preset)]
    default: break
    }
    state.presetMenu = menu
    return []
}

/// Loads a preset into the composer; false (and the status names the file and field) when it does not
/// fit this model. Names the model's label lists do not hold are loaded with a warning.
@discardableResult
func apply(_ preset: Preset, file: String, to state: inout StudioState) -> Bool {
    if let t = preset.temperatures, t.count > state.lanes.count {
        state.status = "error: \(file): temperatures: \(t.count) values, the model has \(state.lanes.count) levels"
        return false
    }
    if let v = preset.genre { state.genre = v }
    if let v = preset.artist { state.artist = v }
    if let v = preset.lyrics { state.lyrics = v }
    if let v = preset.seconds { state.seconds = v }
    if let v = preset.totalSeconds { state.totalSeconds = max(v, state.seconds) }
    if let t = preset.temperatures {
        for (i, value) in t.enumerated() { state.temperatures[state.topLevel - i] = value }
    }
    if let v = preset.seed { state.seed = v }
    if let v = preset.candidates { state.candidateCount = v }
    let unknown = unknownNames(preset, state.vocabulary)
    let meant = preset.model.map { " (made for the \($0) model)" } ?? ""
    state.status = unknown.isEmpty ? "loaded preset \(preset.name)"
        : "loaded preset \(preset.name): this model does not know \(unknown.joined(separator: " or "))\(meant)"
    return true
}

/// The preset's artist and genre that the loaded model's lists lack (nothing when the model has no lists).
func unknownNames(_ preset: Preset, _ vocabulary: LabelVocabulary?) -> [String] {
    var unknown: [String] = []
    if let a = preset.artist, isUnknown(artist: a, vocabulary) { unknown.append("artist \"\(a)\"") }
    if let g = preset.genre, isUnknown(genre: g, vocabulary) { unknown.append("genre \"\(g)\"") }
    return unknown
}

/// An artist the model's list lacks (sampled as "unknown"); false without a list.
func isUnknown(artist: String, _ vocabulary: LabelVocabulary?) -> Bool {
    vocabulary.map { $0.artistID(artist).warning != nil } ?? false
}

/// A genre with a word the model's list lacks (or more words than any list takes); false without a list.
func isUnknown(genre: String, _ vocabulary: LabelVocabulary?) -> Bool {
    vocabulary.map { !((try? $0.genreIDs(genre, maxBowGenreSize: 16).warnings.isEmpty) ?? false) } ?? false
}

/// The picker's order: presets whose names the loaded model knows first, then the others, each by name;
/// presets that cannot be read last.
func presetsInPickerOrder(_ entries: [PresetEntry], _ vocabulary: LabelVocabulary?) -> [PresetEntry] {
    func rank(_ e: PresetEntry) -> Int {
        guard let p = e.preset else { return 2 }
        return unknownNames(p, vocabulary).isEmpty ? 0 : 1
    }
    return entries.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
}
