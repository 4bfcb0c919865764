import Foundation
import JukeboxCore
import XCTest

/// Drives the real `jukebox-studio` in a tmux pane as a person would: type a genre and artist,
/// sample, watch the lanes move, save, quit; then check the session folder on disk.
final class StudioEndToEndTests: XCTestCase {
    static var studio: String { CLI.buildFolder.appendingPathComponent("jukebox-studio").path }

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        try Subprocess.run(tmuxPath, arguments).stdout
    }

    var tmuxPath = ""
    var sessionName = ""

    func pane() -> String { (try? tmux(["capture-pane", "-p", "-t", sessionName])) ?? "" }

    /// Polls the pane every 100 ms until `condition` holds or `seconds` pass; returns the last capture.
    @discardableResult
    func waitFor(_ what: String, seconds: Double = 20, _ condition: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = pane()
        while !condition(screen) {
            if Date() > deadline {
                XCTFail("timed out waiting for \(what); screen:\n\(screen)")
                return screen
            }
            usleep(100_000)
            screen = pane()
        }
        return screen
    }

    func keys(_ k: String...) throws { try tmux(["send-keys", "-t", sessionName] + k) }
    func literal(_ text: String) throws { try tmux(["send-keys", "-t", sessionName, "-l", text]) }

    func paneAlive() -> Bool {
        let list = (try? tmux(["list-sessions", "-F", "#{session_name}"])) ?? ""
        return list.split(separator: "\n").contains { $0 == sessionName }
    }

    /// A tiny random model set at DIR/set and a tmux session name killed when the test ends.
    /// Without tmux the test is skipped, except under CI=true where that is a failure.
    func prepareStudio(seed: Int) throws -> String {
        guard let path = Self.which("tmux") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("tmux is not installed") }
            throw XCTSkip("tmux is not installed")
        }
        tmuxPath = path
        let dir = temporaryFolder(self)
        let made = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "\(seed)", "-o", dir + "/set"])
        XCTAssertEqual(made.status, 0, made.stderr)
        sessionName = "jukebox-studio-test-\(UUID().uuidString.prefix(8))"
        let name = sessionName, tmuxBinary = tmuxPath
        addTeardownBlock { _ = try? Subprocess.run(tmuxBinary, ["kill-session", "-t", name]) }
        return dir
    }

    func testSampleSaveAndQuitInTmux() throws {
        let dir = try prepareStudio(seed: 1)
        let set = dir + "/set", session = dir + "/session"
        // The pane stays after the studio exits so its last screen can be read.
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "\(Self.studio) --model '\(set)' --session '\(session)'; echo studio-exited-$?; sleep 30"])

        waitFor("the composer") { $0.contains("Genre") || $0.contains("genre") }
        let genre = RandomModelSet.genres[0], artist = RandomModelSet.artists[0]
        try literal(genre)
        waitFor("the genre typed") { $0.contains(genre) }
        try keys("Escape")  // close the picker, keep what was typed
        try keys("Tab")
        try literal(artist)
        waitFor("the artist typed") { $0.contains(artist) }
        try keys("Escape")

        // F1 opens the help and Esc closes it; Shift-Tab twice goes artist → genre → lyrics (the last
        // field), where UTF-8 text arrives whole through get_wch.
        try keys("F1")
        waitFor("the help") { $0.contains("Keys (Esc closes)") }
        try keys("Escape")
        waitFor("the help to close") { !$0.contains("Keys (Esc closes)") }
        try keys("BTab")
        try keys("BTab")
        let words = "héllo wörld"
        try literal(words)
        waitFor("the lyrics typed") { $0.contains(words) }
        try keys("BSpace")
        waitFor("the backspace") { $0.contains("héllo wörl") && !$0.contains(words) }

        // Sample a couple of seconds only: the tiny model is quick, but the lanes must be seen moving.
        try keys("C-r")
        let moving = waitFor("the lanes to show progress") { screen in
            screen.contains("Level ") && (screen.contains("tok/s") || screen.contains(" done"))
        }
        XCTAssertFalse(moving.contains("error:"), moving)
        // The runtime tells the lanes which lyrics the top-level window conditions on.
        waitFor("the lyric span") { $0.contains("Lyrics of the current top window") && $0.contains("llo w") }

        try keys("C-s")
        // The status line may be overwritten by later engine reports at once: the files on disk tell too.
        waitFor("the save") { screen in
            screen.contains("saved") || FileManager.default.fileExists(atPath: session + "/codes.safetensors")
        }
        try keys("C-q")
        // Quitting after a save needs no confirmation; answer it anyway if sampling left work unsaved.
        let end = waitFor("the studio to exit") { $0.contains("studio-exited-") || $0.contains("y/n") }
        if end.contains("y/n") && !end.contains("studio-exited-") {
            try keys("y")
            waitFor("the studio to exit") { $0.contains("studio-exited-") }
        }
        XCTAssertTrue(pane().contains("studio-exited-0"), pane())

        let fm = FileManager.default
        XCTAssertTrue(fm.fileExists(atPath: session + "/session.json"))
        XCTAssertTrue(fm.fileExists(atPath: session + "/codes.safetensors"))
        let (folder, document) = try SessionFolder.open(session)
        XCTAssertEqual(document.prompt.artist, artist)
        XCTAssertEqual(document.prompt.genre, genre)
        XCTAssertEqual(document.prompt.lyrics, "héllo wörl")
        let codes = try folder.loadCodes(samples: 1)
        XCTAssertFalse(codes.isEmpty, "some level's codes were saved")
        XCTAssertTrue(paneAlive())
    }

    /// SIGTERM mid-sampling: the studio stops the engine, saves the session, gives the terminal back
    /// and exits 128 + 15. A resize on the way shows the too-small screen and comes back.
    func testTerminationSavesAndRestoresTheTerminal() throws {
        let dir = try prepareStudio(seed: 2)
        let set = dir + "/set", session = dir + "/session", pidFile = dir + "/pid"
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "sh -c 'echo $$ > \(pidFile); exec \(Self.studio) --model \(set) --session \(session)'; "
                  + "echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("Genre") || $0.contains("genre") }

        try tmux(["resize-window", "-t", sessionName, "-x", "60", "-y", "20"])
        waitFor("the too-small screen") { $0.lowercased().contains("small") }
        try tmux(["resize-window", "-t", sessionName, "-x", "100", "-y", "30"])
        waitFor("the composer again") { !$0.lowercased().contains("small") && $0.contains("enre") }

        // Longer songs keep the engine busy while the signal arrives.
        try literal(RandomModelSet.genres[1])
        try keys("Escape")
        try keys("C-r")
        waitFor("the lanes") { $0.contains("Level ") }

        let text = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try XCTUnwrap(Int32(text))
        kill(pid, SIGTERM)
        waitFor("the studio to exit") { $0.contains("studio-exited-") }
        XCTAssertTrue(pane().contains("studio-exited-143"), pane())
        // endwin left the alternate screen: the terminal is back to the shell's.
        XCTAssertEqual(try tmux(["display-message", "-p", "-t", sessionName, "#{alternate_on}"])
            .trimmingCharacters(in: .whitespacesAndNewlines), "0")
        XCTAssertTrue(FileManager.default.fileExists(atPath: session + "/session.json"))
        let (_, document) = try SessionFolder.open(session)
        XCTAssertEqual(document.prompt.genre, RandomModelSet.genres[1])
    }

    /// A terminal without colours (vt100) still gets the whole studio, styled by attributes only.
    func testMonochromeTerminal() throws {
        let dir = try prepareStudio(seed: 4)
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "80", "-y", "24",
                  "TERM=vt100 \(Self.studio) --model \(dir)/set --session \(dir)/session; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("Jukebox studio") && $0.contains("enre") }
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-0") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/session"), "nothing sampled, nothing saved")
    }

    /// Esc while sampling sets the engine's cancel flag: it stops, keeps what it sampled, and a save
    /// writes those codes (fewer than the whole plan).
    func testEscapeCancelsSampling() throws {
        let dir = try prepareStudio(seed: 5)
        let session = dir + "/session"
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "\(Self.studio) --model \(dir)/set --session \(session); echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        // Seconds 20 → 200 and the song 180 → 210 (→ adds 10): long enough to still be sampling when Esc
        // arrives, and within the label range of song lengths.
        try keys("Tab"); try keys("Tab"); try literal("0")
        try keys("Tab"); try keys("Right"); try keys("Right"); try keys("Right")
        waitFor("the longer song") { $0.contains("200") && $0.contains("210") }
        try keys("C-r")
        waitFor("the lanes to move") { $0.contains("tok/s") }
        try keys("Escape")
        waitFor("the cancel") { $0.contains("cancelled") }
        try keys("C-s")
        waitFor("the save") { _ in FileManager.default.fileExists(atPath: session + "/codes.safetensors") }
        try keys("C-q")
        let end = waitFor("the studio to exit") { $0.contains("studio-exited-") || $0.contains("y/n") }
        if !end.contains("studio-exited-") {
            try keys("y")
            waitFor("the studio to exit") { $0.contains("studio-exited-") }
        }
        let (folder, document) = try SessionFolder.open(session)
        XCTAssertEqual(document.prompt.sampleSeconds, 200)
        let codes = try folder.loadCodes(samples: 1)
        // Level 0 is the last to finish; a cancelled run cannot have all of it (200 s of the tiny model).
        let finest = try XCTUnwrap(codes.keys.min().flatMap { codes[$0] })
        XCTAssertGreaterThan(finest.t, 0)
        let vqvae = try ModelSet.load(dir + "/set").vqvae
        let hops = vqvae.hopLengths, top = hops.count - 1
        let planned = 200 * vqvae.sampleRate / hops[top] * hops[top] / hops[0]
        XCTAssertLessThan(codes[0]?.t ?? 0, planned, "level 0 is cut short by the cancel")
    }

    func testNotATerminalFailsInOneLine() throws {
        let dir = temporaryFolder(self)
        let made = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "3", "-o", dir + "/set"])
        XCTAssertEqual(made.status, 0, made.stderr)
        // stdin is /dev/null and stdout a pipe: no terminal anywhere.
        let r = try Subprocess.run(Self.studio, ["--model", dir + "/set"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("terminal"), r.stderr)
        XCTAssertTrue(r.stdout.isEmpty, "nothing drawn when there is no terminal")
    }

    func testWithoutModelFailsInOneLine() throws {
        let r = try Subprocess.run(Self.studio, [])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "jukebox-studio: no model set named (--model SET); the bundled model is not here yet\n")
    }

    func testBrokenModelSetFailsBeforeTheTerminal() throws {
        let dir = temporaryFolder(self)
        let r = try Subprocess.run(Self.studio, ["--model", dir + "/missing"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(dir + "/missing"), r.stderr)
    }
}
