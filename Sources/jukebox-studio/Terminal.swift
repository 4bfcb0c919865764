import CNcurses
import Foundation
import StudioKit

/// The ncurses screen: set up once, read keys as studio messages, copy a CellGrid to the terminal,
/// and always give the terminal back (`restore` is idempotent and is called on every way out).
final class Terminal {
    private(set) var active = false
    private var colors = false
    let theme: Theme
    /// Curses attributes (colour pair included) per role, worked out once colours are known.
    private var attributeTable: [StyleRole: Int32] = [:]

    init(theme: Theme) { self.theme = theme }

    /// Ticks: a key read waits at most this long, so engine events are shown while no key is pressed.
    static let tickMilliseconds: Int32 = 100

    func start() {
        setlocale(LC_ALL, "")
        // A lone Esc is a key here, not the start of a sequence: wait only briefly for one.
        setenv("ESCDELAY", "25", 0)
        initscr()
        active = true
        raw()  // Ctrl-S, Ctrl-Q and Ctrl-C reach the studio as keys (no flow control, no SIGINT)
        noecho()
        nonl()
        keypad(stdscr, true)
        timeout(Self.tickMilliseconds)
        // Clicks pick candidates and sessions; the terminal still selects text with Shift held.
        mousemask(studio_mouse_mask(), nil)
        curs_set(0)
        if has_colors() {
            start_color()
            use_default_colors()
            colors = true
        }
        for (i, role) in StyleRole.allCases.enumerated() {
            let style = theme.style(role)
            var attributes = Self.attributes(of: style.usesColor && !colors ? Self.withoutColor(role, style) : style)
            if colors && style.usesColor && Int32(i + 1) < COLOR_PAIRS {
                let (fg, brighten) = Self.curses(style.foreground)
                init_pair(Int16(i + 1), fg, Self.curses(style.background).color)
                attributes |= studio_color_pair(Int32(i + 1)) | brighten
            }
            attributeTable[role] = attributes
        }
    }

    /// Ends curses mode; safe to call more than once and from any way out.
    func restore() {
        guard active else { return }
        active = false
        endwin()
    }

    var size: (width: Int, height: Int) { (Int(getmaxx(stdscr)), Int(getmaxy(stdscr))) }

    // MARK: Styles

    /// A theme colour on this terminal, and the attribute that stands in for brightness where the
    /// terminal has only the basic eight: bright colours become the basic one in bold, except bright
    /// black (grey), which would vanish on a dark background as black, so it becomes the default dimmed.
    /// Colours past what the terminal has fall back to its default.
    static func curses(_ color: ThemeColor) -> (color: Int16, attributes: Int32) {
        guard case .index(let n) = color else { return (-1, 0) }
        if n < COLORS { return (Int16(n), 0) }
        if n == 8 { return (-1, studio_a_dim()) }
        if n > 8 && n < 16 && n - 8 < COLORS { return (Int16(n - 8), studio_a_bold()) }
        return (-1, 0)
    }

    static func attributes(of style: RoleStyle) -> Int32 {
        var a = studio_a_normal()
        if style.bold { a |= studio_a_bold() }
        if style.dim { a |= studio_a_dim() }
        if style.reverse { a |= studio_a_reverse() }
        if style.underline { a |= studio_a_underline() }
        return a
    }

    /// On a terminal without colours a role the theme tells apart by colour alone borrows the
    /// built-in attributes, so it stays distinct.
    static func withoutColor(_ role: StyleRole, _ style: RoleStyle) -> RoleStyle {
        let hasAttributes = style.bold || style.dim || style.reverse || style.underline
        return hasAttributes ? style : Theme.fallback.style(role)
    }

    func attributes(_ role: StyleRole) -> Int32 { attributeTable[role] ?? studio_a_normal() }

    // MARK: Drawing

    func draw(_ grid: CellGrid) {
        erase()
        let (w, h) = size
        var buffer: [wchar_t] = []
        for y in 0..<min(grid.height, h) {
            for x in 0..<min(grid.width, w) {
                let cell = grid[x, y]
                if cell.isContinuation { continue }
                // The terminal's last cell would scroll the screen on some terminals: leave it.
                if y == h - 1 && x == w - 1 { continue }
                if cell.character == " " && cell.role == .normal { continue }
                buffer.removeAll(keepingCapacity: true)
                for scalar in cell.character.unicodeScalars { buffer.append(wchar_t(bitPattern: scalar.value)) }
                buffer.append(0)
                attrset(attributes(cell.role))
                _ = buffer.withUnsafeBufferPointer { mvaddwstr(Int32(y), Int32(x), $0.baseAddress) }
            }
        }
        attrset(studio_a_normal())
        refresh()
    }

    // MARK: Input

    /// One message from the keyboard, or nil when the tick passed with no key.
    func readMessage() -> StudioMessage? {
        var ch: wint_t = 0
        let status = get_wch(&ch)
        if status == ERR { return nil }
        if status == KEY_CODE_YES {
            let code = Int32(bitPattern: ch)
            switch code {
            case KEY_RESIZE:
                let (w, h) = size
                return .resize(width: w, height: h)
            case KEY_MOUSE:
                var event = MEVENT()
                guard getmouse(&event) == OK else { return nil }
                let double = studio_is_double_click(event.bstate) != 0
                guard double || studio_is_click(event.bstate) != 0 else { return nil }
                return .click(x: Int(event.x), y: Int(event.y), double: double)
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_BTAB: return .key(.backTab)
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE, KEY_DC: return .key(.backspace)
            default:
                if code == studio_key_f(1) { return .key(.f1) }
                return nil
            }
        }
        return Self.key(forCharacter: UInt32(ch)).map { .key($0) }
    }

    /// A typed character (already decoded from UTF-8 by get_wch) as a studio key.
    static func key(forCharacter value: UInt32) -> Key? {
        switch value {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(UnicodeScalar(UInt8(value) + 96)))
        case 0...31: return nil
        default:
            guard let scalar = UnicodeScalar(value) else { return nil }
            return .char(Character(scalar))
        }
    }
}
