/// What a cell means on screen; a theme maps each role to colours and attributes.
/// (`normal` is a theme's "text", `warning` its "error", `selected` its "selection".)
public enum StyleRole: Sendable, Equatable, Hashable, CaseIterable {
    case normal, title, accent, dim, cursor, warning, selected
    /// The status line, the lanes' window boundaries, the audition meter.
    case status, boundary, meter
    /// Lane glyphs of low, middle and high codes.
    case laneLow, laneMid, laneHigh
}

/// One terminal cell: a grapheme and its role. A wide grapheme (East Asian, emoji) takes two cells;
/// the second is a continuation that draws nothing.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var role: StyleRole
    /// True for the right half of a wide character.
    public var isContinuation: Bool

    public init(_ character: Character = " ", role: StyleRole = .normal, isContinuation: Bool = false) {
        self.character = character
        self.role = role
        self.isContinuation = isContinuation
    }
}

/// A width × height grid the views draw into; the runtime copies it to the terminal, tests read `text`.
public struct CellGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        guard x >= 0, x < width, y >= 0, y < height else { return Cell() }
        return cells[y * width + x]
    }

    /// How many columns a grapheme takes: 2 for East Asian wide/fullwidth and emoji, else 1.
    /// (Combining marks belong to their base grapheme, so they take no column of their own.)
    public static func columns(of character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 1 }
        let v = first.value
        if first.properties.isEmojiPresentation { return 2 }
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// Columns a string takes when written with `put`.
    public static func columns(of string: String) -> Int {
        string.reduce(0) { $0 + columns(of: visible($1)) }
    }

    /// Control characters (tab, newline, escapes) would move the terminal's cursor: draw a stand-in.
    static func visible(_ c: Character) -> Character {
        if c == "\t" { return " " }
        if c.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "·" }
        return c
    }

    /// Sets one cell (clipped); a wide character also claims the cell to its right, or is replaced by
    /// a space when only one column is left.
    public mutating func set(_ x: Int, _ y: Int, _ character: Character, role: StyleRole = .normal) {
        guard y >= 0, y < height, x >= 0, x < width else { return }
        let c = Self.visible(character)
        let w = Self.columns(of: c)
        clearWide(at: x, y)
        if w == 2 {
            guard x + 1 < width else { cells[y * width + x] = Cell(" ", role: role); return }
            clearWide(at: x + 1, y)
            cells[y * width + x] = Cell(c, role: role)
            cells[y * width + x + 1] = Cell(" ", role: role, isContinuation: true)
        } else {
            cells[y * width + x] = Cell(c, role: role)
        }
    }

    /// Overwriting half of a wide character leaves the other half a plain space.
    private mutating func clearWide(at x: Int, _ y: Int) {
        let i = y * width + x
        if cells[i].isContinuation, x > 0 {
            cells[i - 1] = Cell(" ", role: cells[i - 1].role)
        } else if Self.columns(of: cells[i].character) == 2, x + 1 < width, cells[i + 1].isContinuation {
            cells[i + 1] = Cell(" ", role: cells[i + 1].role)
        }
        cells[i] = Cell(" ", role: cells[i].role)
    }

    /// Writes `string` from column x on row y, clipped to the grid and to `maxWidth` columns.
    /// Returns the column after the last cell written.
    @discardableResult
    public mutating func put(_ string: String, x: Int, y: Int, role: StyleRole = .normal, maxWidth: Int? = nil) -> Int {
        let limit = min(width, x + (maxWidth ?? width))
        var col = x
        for ch in string {
            let c = Self.visible(ch)
            let w = Self.columns(of: c)
            if col + w > limit { break }
            if col >= 0 { set(col, y, c, role: role) }
            col += w
        }
        return col
    }

    /// Fills a rectangle with one character and role.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ character: Character = " ", role: StyleRole = .normal) {
        for row in max(0, y)..<max(max(0, y), min(height, y + h)) {
            for col in max(0, x)..<max(max(0, x), min(width, x + w)) { set(col, row, character, role: role) }
        }
    }

    /// Sets the role of cells already drawn (e.g. to highlight a selected row).
    public mutating func restyle(x: Int, y: Int, width w: Int, role: StyleRole) {
        guard y >= 0, y < height else { return }
        for col in max(0, x)..<max(max(0, x), min(width, x + w)) { cells[y * width + col].role = role }
    }

    /// A box outline with ASCII corners (every terminal font has them).
    public mutating func box(x: Int, y: Int, width w: Int, height h: Int, role: StyleRole = .normal) {
        guard w >= 2, h >= 2 else { return }
        fill(x: x, y: y, width: w, height: h)
        for col in x..<(x + w) {
            set(col, y, "-", role: role); set(col, y + h - 1, "-", role: role)
        }
        for row in y..<(y + h) {
            set(x, row, "|", role: role); set(x + w - 1, row, "|", role: role)
        }
        for (cx, cy) in [(x, y), (x + w - 1, y), (x, y + h - 1), (x + w - 1, y + h - 1)] { set(cx, cy, "+", role: role) }
    }

    /// The grid as text: rows joined by "\n", trailing spaces trimmed (for snapshots).
    public var text: String {
        var lines: [String] = []
        for y in 0..<height {
            var line = ""
            for x in 0..<width where !cells[y * width + x].isContinuation { line.append(cells[y * width + x].character) }
            while line.last == " " { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// One letter per cell's role (n t a d c w s u b m 1 2 3), rows joined by "\n": lets tests check styling.
    public var roles: String {
        var lines: [String] = []
        for y in 0..<height {
            var line = ""
            for x in 0..<width {
                switch cells[y * width + x].role {
                case .normal: line += "n"
                case .title: line += "t"
                case .accent: line += "a"
                case .dim: line += "d"
                case .cursor: line += "c"
                case .warning: line += "w"
                case .selected: line += "s"
                case .status: line += "u"
                case .boundary: line += "b"
                case .meter: line += "m"
                case .laneLow: line += "1"
                case .laneMid: line += "2"
                case .laneHigh: line += "3"
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
