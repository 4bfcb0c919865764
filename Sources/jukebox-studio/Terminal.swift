import CNcurses
import Foundation
import StudioKit

/// The ncurses screen: set up once, read keys as studio messages, copy a CellGrid to the terminal,
/// and always give the terminal back (`restore` is idempotent and is called on every way out).
final class Terminal {
    private(set) var active = false
    private var colors = false

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
            for (i, role) in StyleRole.allCases.enumerated() {
                let (fg, bg) = Self.colorPair(role)
                init_pair(Int16(i + 1), fg, bg)
            }
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

    /// Fixed role → colour pair (-1: the terminal's default colour).
    static func colorPair(_ role: StyleRole) -> (Int16, Int16) {
        switch role {
        case .normal: return (-1, -1)
        case .title: return (Int16(COLOR_CYAN), -1)
        case .accent: return (Int16(COLOR_YELLOW), -1)
        case .dim: return (Int16(COLOR_BLUE), -1)
        case .cursor: return (-1, -1)
        case .warning: return (Int16(COLOR_RED), -1)
        case .selected: return (Int16(COLOR_BLACK), Int16(COLOR_CYAN))
        }
    }

    /// Attributes per role; without colours they carry the whole distinction.
    func attributes(_ role: StyleRole) -> Int32 {
        let pair = colors ? studio_color_pair(Int32((StyleRole.allCases.firstIndex(of: role) ?? 0) + 1)) : 0
        switch role {
        case .normal: return studio_a_normal()
        case .title: return pair | studio_a_bold()
        case .accent: return colors ? pair : studio_a_bold()
        case .dim: return colors ? pair : studio_a_dim()
        case .cursor: return studio_a_reverse()
        case .warning: return pair | studio_a_bold() | (colors ? 0 : studio_a_underline())
        case .selected: return colors ? pair : studio_a_reverse()
        }
    }

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
