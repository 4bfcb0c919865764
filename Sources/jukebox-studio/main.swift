import CNcurses
import Foundation
import JukeboxCore

// A minimal screen until the studio proper lands: it shows what the named model set holds and quits on q.
// The terminal is always restored, also on SIGINT/SIGTERM/SIGHUP.

var modelPath: String? = nil
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--model": modelPath = args.popFirst()
    case "-h", "--help":
        print("usage: jukebox-studio [--model SET]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("jukebox-studio: unknown argument \(a)\n".utf8))
        exit(2)
    }
}

var lines: [String] = ["Jukebox studio (preview)", ""]
if let modelPath {
    do {
        for s in try ModelSummary.describe(modelPath) { lines += s.text.split(separator: "\n").map(String.init) }
    } catch {
        FileHandle.standardError.write(Data("jukebox-studio: \(error)\n".utf8))
        exit(1)
    }
} else {
    lines.append("No model set named (--model SET).")
}

guard isatty(STDOUT_FILENO) != 0 else {
    FileHandle.standardError.write(Data("jukebox-studio: needs a terminal\n".utf8))
    exit(1)
}

setlocale(LC_ALL, "")
for sig in [SIGINT, SIGTERM, SIGHUP] {
    signal(sig) { _ in endwin(); exit(1) }
}
initscr()
cbreak()
noecho()
keypad(stdscr, true)
curs_set(0)
defer { endwin() }

func draw() {
    erase()
    let rows = Int(getmaxy(stdscr)), cols = Int(getmaxx(stdscr))
    if rows < 24 || cols < 80 {
        mvaddstr(0, 0, String("Terminal too small: \(cols)x\(rows), need 80x24".prefix(max(cols, 1))))
    } else {
        for (i, line) in lines.prefix(rows - 2).enumerated() { mvaddstr(Int32(i), 1, String(line.prefix(cols - 2))) }
        mvaddstr(Int32(rows - 1), 1, "q quit")
    }
    refresh()
}

draw()
while true {
    let ch = getch()
    if ch == Int32(UInt8(ascii: "q")) { break }
    draw()  // KEY_RESIZE and anything else: redraw at the current size
}
