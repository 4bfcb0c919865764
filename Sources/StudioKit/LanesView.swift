import Foundation
import JukeboxCore

/// One glyph per code-value bucket, low to high; an unsampled position is blank.
public let laneGlyphs: [Character] = Array(".:-=+*#%@")

public func glyph(forCode code: Int, bins: Int) -> Character {
    guard code >= 0 else { return " " }
    let bucket = min(laneGlyphs.count - 1, code * laneGlyphs.count / max(1, bins))
    return laneGlyphs[bucket]
}

/// A theme can colour low, middle and high codes apart (thirds of the codebook).
func laneRole(_ code: Int, bins: Int) -> StyleRole {
    guard code >= 0 else { return .normal }
    switch code * 3 / max(1, bins) {
    case 0: return .laneLow
    case 1: return .laneMid
    default: return .laneHigh
    }
}

/// Seconds as m:ss.
func clock(_ seconds: Double) -> String {
    let s = Int(max(0, seconds.isFinite ? seconds : 0).rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
}

/// Lanes, top level first: a header (progress, speed, ETA), a row of code glyphs squeezed to the width
/// (a column shows the last code sampled in its stretch), and a marker row with window starts `|` and
/// the sampling cursor `^`. Below them the lyrics the current top window conditions on.
func renderLanes(_ state: StudioState, into grid: inout CellGrid) {
    var y = 2
    for lane in state.lanes.reversed() {
        renderLane(lane, name: levelName(lane.level, of: state.lanes.count), into: &grid, y: y,
                   lineStarts: lane.level == state.topLevel ? lyricLineStarts(state) : [])
        y += 4
    }
    // Below the lanes: two rows of lyrics, the rest (at least four) for the renders list.
    let free = max(0, grid.height - 3 - (y + 1))
    let rows = min(2, free)
    if let sung = state.timedLyrics, !sung.lines.isEmpty, let offset = state.playback.songOffset, state.playback.isActive {
        renderSungLyrics(sung, at: offset + state.playback.position, into: &grid, y: y, rows: rows)
    } else {
        grid.put("Lyrics of the current top window", x: 1, y: y, role: .title)
        let span = state.lyricSpan.isEmpty ? "(none yet)" : state.lyricSpan
        wrap(span, width: grid.width - 4).prefix(rows).enumerated().forEach { i, line in
            grid.put(line, x: 2, y: y + 1 + i, role: state.lyricSpan.isEmpty ? .dim : .normal)
        }
    }
    renderRendersList(state, into: &grid, y: y + 1 + rows, rows: free - rows)
    renderPlaybackLine(state, into: &grid, y: 1)
}

/// Karaoke while the kept song plays: the line being sung with its current word marked, the next line dimmed
/// (before the first line: the first, dimmed, as what comes).
func renderSungLyrics(_ sung: LyricAlignment, at t: Double, into grid: inout CellGrid, y: Int, rows: Int) {
    grid.put("Lyrics as sung  \(clock(t))", x: 1, y: y, role: .title)
    guard rows > 0 else { return }
    let current = sung.lines.lastIndex { $0.start <= t }
    let width = grid.width - 4
    func put(_ line: LyricAlignment.Line, row: Int, live: Bool) {
        var x = 2
        for (i, word) in line.words.enumerated() {
            guard x + word.text.count <= 2 + width else { break }
            let role: StyleRole = !live ? .dim : (word.start <= t && t < word.end) ? .selected : word.start <= t ? .normal : .dim
            x = grid.put(word.text, x: x, y: y + 1 + row, role: role, maxWidth: 2 + width - x)
            if i < line.words.count - 1 { x = grid.put(" ", x: x, y: y + 1 + row, role: .normal) }
        }
    }
    if let current {
        put(sung.lines[current], row: 0, live: true)
        if rows > 1, current + 1 < sung.lines.count { put(sung.lines[current + 1], row: 1, live: false) }
    } else {
        put(sung.lines[0], row: 0, live: false)
    }
}

/// Where each sung line of the kept song begins, in top-level codes (from the song's alignment).
func lyricLineStarts(_ state: StudioState) -> [Int] {
    guard let sung = state.timedLyrics, let hop = state.hopLengths[safe: state.topLevel], hop > 0 else { return [] }
    return sung.lines.map { Int($0.start * Double(state.sampleRate) / Double(hop)) }
}

/// `lineStarts`: codes where a lyric line begins, marked `'` under the lane (window starts and the cursor win).
private func renderLane(_ lane: Lane, name: String, into grid: inout CellGrid, y: Int, lineStarts: [Int] = []) {
    let total = max(lane.total, lane.codes.count)
    var header = "Level \(lane.level) (\(name))  \(lane.done)/\(total)"
    if total == 0 { header = "Level \(lane.level) (\(name))  waiting" }
    else if lane.finished { header += "  done" }
    else if lane.tokensPerSecond > 0 { header += String(format: "  %.1f tok/s  ETA %@", lane.tokensPerSecond, clock(lane.eta)) }
    grid.put(header, x: 1, y: y, role: .accent)
    if !lane.windowStarts.isEmpty { grid.put("window \(lane.windowStarts.count)", x: grid.width - 12, y: y, role: .dim) }

    let x0 = 2, columns = grid.width - 4
    guard columns > 0, total > 0 else { return }
    let perColumn = max(1, (total + columns - 1) / columns)
    let used = (total + perColumn - 1) / perColumn
    let window = lane.currentWindow
    grid.put("[", x: x0 - 1, y: y + 1, role: .dim)
    grid.put("]", x: x0 + used, y: y + 1, role: .dim)
    for c in 0..<used {
        let span = (c * perColumn)..<min(total, (c + 1) * perColumn)
        var code = -1
        for p in span.reversed() where p < lane.codes.count && lane.codes[p] >= 0 { code = lane.codes[p]; break }
        let inWindow = window.map { $0.overlaps(span) } ?? false
        grid.set(x0 + c, y + 1, glyph(forCode: code, bins: lane.bins), role: inWindow ? .accent : laneRole(code, bins: lane.bins))
    }
    for start in lineStarts where start >= 0 && start < total {
        grid.set(x0 + start / perColumn, y + 2, "'", role: .dim)
    }
    for start in lane.windowStarts where start > 0 && start < total {
        grid.set(x0 + start / perColumn, y + 2, "|", role: .boundary)
    }
    if !lane.finished && lane.done < total {
        let c = lane.done / perColumn
        grid.set(x0 + c, y + 2, "^", role: .cursor)
        grid.restyle(x: x0 + c, y: y + 1, width: 1, role: .cursor)
    }
}

/// Greedy word wrap; newlines in the lyrics start new lines, overlong words are cut.
func wrap(_ text: String, width: Int) -> [String] {
    guard width > 0 else { return [] }
    var out: [String] = []
    for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var line = ""
        for word in paragraph.split(separator: " ") {
            let w = String(word)
            if line.isEmpty { line = w }
            else if CellGrid.columns(of: line) + 1 + CellGrid.columns(of: w) <= width { line += " " + w }
            else { out.append(line); line = w }
        }
        out.append(line)
    }
    return out
}

/// The candidates of the current top-level window, one strip of glyphs each, and the kept history.
func renderCandidates(_ state: StudioState, into grid: inout CellGrid) {
    // Only while it has something to say, so the candidates screen stays as it was otherwise.
    if state.playback.isActive || state.playback.noSoundCard != nil { renderPlaybackLine(state, into: &grid, y: 1) }
    let top = state.lanes[state.topLevel]
    let composition = state.composition ?? Composition(level: state.topLevel)
    let start = composition.kept.count
    let length = state.candidates.first?.count ?? 0
    let where_ = length > 0 ? "positions \(start)–\(start + length)" : "\(start) codes kept"
    let round = max(1, composition.roundsOfCurrentSegment)
    grid.put("Segment \(composition.keptSegments + 1)  round \(round)  \(where_)", x: 1, y: 2, role: .accent)
    var y = ListLayout.candidatesTop
    if state.candidates.isEmpty {
        grid.put(state.sampling ? "sampling candidates…" : "no candidates yet: Ctrl-R draws the next stretch", x: 2, y: y, role: .dim)
        y += 1
    }
    let maxRows = max(0, grid.height - 12)
    for (i, codes) in state.candidates.prefix(maxRows).enumerated() {
        let selected = i == state.selectedCandidate
        var x = grid.put((selected ? "> " : "  ") + "\(i + 1)  ", x: 1, y: y, role: selected ? .selected : .normal)
        let columns = grid.width - x - 2
        if columns > 0, !codes.isEmpty {
            let perColumn = max(1, (codes.count + columns - 1) / columns)
            var p = 0
            while p < codes.count, x < grid.width - 2 {
                grid.set(x, y, glyph(forCode: codes[min(codes.count - 1, p + perColumn - 1)], bins: top.bins),
                         role: selected ? .selected : .normal)
                x += 1
                p += perColumn
            }
        }
        y += 1
    }
    y += 1
    grid.put("History", x: 1, y: y, role: .title)
    y += 1
    let rows = max(0, grid.height - 3 - y)
    let segments = composition.segments
    if segments.isEmpty { grid.put("nothing kept yet", x: 2, y: y, role: .dim) }
    // The latest stretches matter most: when the list is longer than the room, the oldest go.
    for segment in segments.suffix(rows) {
        grid.put(segment.line, x: 2, y: y, role: segment.isKept ? .normal : .dim, maxWidth: grid.width - 4)
        y += 1
    }
}
