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

    /// Every test talks to its own tmux server (its socket in the test's folder): the default server
    /// is shared with every other tmux user of this account (other checkouts' test runs among them),
    /// whose sessions, environment and exits would otherwise reach into these tests.
    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        try Subprocess.run(tmuxPath, ["-S", tmuxSocket] + arguments).stdout
    }

    var tmuxSocket = ""

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

    /// A left click at a cell (0-based) as the terminal reports it in X10 mouse encoding: press then release.
    func click(x: Int, y: Int, times: Int = 1) throws {
        let at = String(UnicodeScalar(UInt8(33 + x))) + String(UnicodeScalar(UInt8(33 + y)))
        try literal(String(repeating: "\u{1B}[M " + at + "\u{1B}[M#" + at, count: times))
    }

    func paneAlive() -> Bool {
        let list = (try? tmux(["list-sessions", "-F", "#{session_name}"])) ?? ""
        return list.split(separator: "\n").contains { $0 == sessionName }
    }

    /// A tiny random model set at DIR/set, and a tmux server of the test's own (killed when it ends).
    /// Without tmux the test is skipped, except under CI=true where that is a failure.
    func prepareStudio(seed: Int, randomSet: Bool = true) throws -> String {
        guard let path = Self.which("tmux") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("tmux is not installed") }
            throw XCTSkip("tmux is not installed")
        }
        tmuxPath = path
        let dir = temporaryFolder(self)
        if randomSet {
            let made = try CLI.run(["model", "random", "--preset", "tiny", "--seed", "\(seed)", "-o", dir + "/set"])
            XCTAssertEqual(made.status, 0, made.stderr)
        }
        sessionName = "jukebox-studio-test-\(UUID().uuidString.prefix(8))"
        tmuxSocket = dir + "/tmux"
        let socket = tmuxSocket, tmuxBinary = tmuxPath
        // Runs before the folder (and the socket in it) is removed: teardown blocks run last first.
        addTeardownBlock { _ = try? Subprocess.run(tmuxBinary, ["-S", socket, "kill-server"]) }
        return dir
    }

    /// The studio as a shell command line, its recent-sessions list kept in the test's folder.
    func studioCommand(_ dir: String, _ arguments: String) -> String {
        "XDG_STATE_HOME='\(dir)/state' \(Self.studio) \(arguments)"
    }

    func testSampleSaveAndQuitInTmux() throws {
        let dir = try prepareStudio(seed: 1)
        let set = dir + "/set", session = dir + "/session"
        // The pane stays after the studio exits so its last screen can be read.
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  studioCommand(dir, "--model '\(set)' --session '\(session)'") + "; echo studio-exited-$?; sleep 30"])

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

        // Stretches of 4 s (Tab from the lyrics wraps to genre, artist, then seconds): the tiny model
        // draws 3 candidates of that in a few seconds, long enough to see the lanes move.
        try keys("Tab"); try keys("Tab"); try keys("Tab")
        try keys("BSpace"); try keys("BSpace"); try literal("4")
        waitFor("4 s stretches") { $0.contains("Sample        4  s") }

        try keys("C-r")
        let moving = waitFor("the lanes to show progress") { $0.contains("Level 2 (top)") && $0.contains("tok/s") }
        XCTAssertFalse(moving.contains("error:"), moving)
        // The runtime tells the lanes which lyrics the top-level window conditions on. It is a message of
        // its own, so the frame that first shows progress may come before it (seen once under load).
        waitFor("the lyrics of the top window on the lanes") {
            $0.contains("Lyrics of the current top window") && $0.contains("llo w") && $0.contains("Level 2 (top)")
        }

        // K = 3 candidates (the composer's default) for segment 1; keep the second.
        let offered = waitFor("the candidates", seconds: 60) { $0.contains("Segment 1  round 1") && $0.contains("Enter keeps") }
        XCTAssertTrue(offered.contains(" 3  "), "three candidates listed:\n\(offered)")
        try keys("Down")
        waitFor("the second candidate selected") { $0.contains("> 2  ") }
        try keys("Enter")
        // The keep is saved, then segment 2's candidates come, with segment 1 in the history.
        let next = waitFor("segment 2", seconds: 60) { $0.contains("Segment 2  round 1") && $0.contains("Enter keeps") }
        XCTAssertTrue(next.contains("segment 1: kept 2 of 3 · 1 round · 2 discarded"), next)
        XCTAssertFalse(next.contains("unsaved"), "the keep was autosaved:\n\(next)")

        let tokens = Int((4 * 44100 / 128.0).rounded(.up))
        let (folder, document) = try SessionFolder.open(session)
        XCTAssertEqual(document.prompt.artist, artist)
        XCTAssertEqual(document.prompt.genre, genre)
        XCTAssertEqual(document.prompt.lyrics, "héllo wörl")
        let top = try XCTUnwrap(folder.loadCodes(samples: 1)[2], "the kept line is saved as z2")
        XCTAssertEqual(top.t, tokens)
        let keptRecord = try XCTUnwrap(document.history.first { $0.kept != nil })
        XCTAssertEqual(keptRecord.candidates.count, 3)
        XCTAssertEqual(keptRecord.kept, keptRecord.candidates[1], "the second candidate was kept")

        try keys("C-s")
        waitFor("the save") { $0.contains("saved") || $0.contains("Enter keeps") }
        // Nothing unsaved: quitting does not ask (the round being drawn is not work to lose).
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-") }
        XCTAssertTrue(pane().contains("studio-exited-0"), pane())
        XCTAssertTrue(paneAlive())
        try tmux(["kill-session", "-t", sessionName])

        // A new studio on the same folder (no --model: the session names its set) shows what was kept.
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  studioCommand(dir, "--session '\(session)'") + "; echo studio-exited-$?; sleep 30"])
        let reopened = waitFor("the reopened session") { $0.contains("segment 1: kept 2 of 3") }
        XCTAssertTrue(reopened.contains("Segment 2"), reopened)
        XCTAssertTrue(reopened.contains("1 segment kept"), reopened)
        // Segment 2's three candidates were on the table at the quit: they are again, not "no candidates yet".
        XCTAssertTrue(reopened.contains("segment 2: deciding"), reopened)
        XCTAssertTrue(reopened.contains("   3  ") && reopened.contains("Enter keep"), reopened)
        XCTAssertFalse(reopened.contains("no candidates yet"), reopened)
        // The composer holds the session's prompt; the top lane the kept codes.
        try keys("Escape")
        let lanes = waitFor("the lanes") { $0.contains("Level 2 (top)") }
        XCTAssertTrue(lanes.contains("Level 2 (top)  \(tokens)/"), lanes)
        try keys("Escape")
        let composer = waitFor("the composer") { $0.contains("Genre") }
        XCTAssertTrue(composer.contains(genre) && composer.contains(artist) && composer.contains("héllo wörl"), composer)
        XCTAssertTrue(composer.contains("Sample        4 "), composer)
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-0") }
        XCTAssertEqual(try SessionFolder(path: session).loadCodes(samples: 1)[2], top, "reopening changed nothing on disk")
    }

    /// A set rewritten by `jukebox quantize` opens, samples and keeps in the studio as any set does.
    func testAQuantizedSetSamplesInTheStudio() throws {
        let dir = try prepareStudio(seed: 4)
        let q = try CLI.run(["quantize", dir + "/set", "--to", "q4", "-o", dir + "/q4"])
        XCTAssertEqual(q.status, 0, q.stderr)
        let session = dir + "/session"
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  studioCommand(dir, "--model '\(dir)/q4' --session '\(session)'") + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("Genre") }
        let genre = RandomModelSet.genres[1], artist = RandomModelSet.artists[1]
        try literal(genre)
        waitFor("the genre typed") { $0.contains(genre) }
        try keys("Escape"); try keys("Tab")
        try literal(artist)
        waitFor("the artist typed") { $0.contains(artist) }
        try keys("Escape")
        try keys("Tab"); try keys("BSpace"); try keys("BSpace"); try literal("2")
        waitFor("2 s stretches") { $0.contains("Sample        2  s") }
        try keys("C-r")
        let offered = waitFor("the candidates", seconds: 60) { $0.contains("Segment 1  round 1") && $0.contains("Enter keeps") }
        XCTAssertFalse(offered.contains("error"), offered)
        try keys("Enter")
        waitFor("segment 2", seconds: 60) { $0.contains("Segment 2  round 1") }
        let (folder, document) = try SessionFolder.open(session)
        XCTAssertEqual(document.prompt.artist, artist)
        XCTAssertEqual(try XCTUnwrap(folder.loadCodes(samples: 1)[2]).t, Int((2 * 44100 / 128.0).rounded(.up)))
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-0") }
    }

    /// SIGTERM mid-sampling: the studio stops the engine, saves the session, gives the terminal back
    /// and exits 128 + 15. A resize on the way shows the too-small screen and comes back.
    func testTerminationSavesAndRestoresTheTerminal() throws {
        let dir = try prepareStudio(seed: 2)
        let set = dir + "/set", session = dir + "/session", pidFile = dir + "/pid"
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "sh -c 'echo $$ > \(pidFile); export XDG_STATE_HOME=\(dir)/state; exec \(Self.studio) --model \(set) --session \(session)'; "
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
                  "TERM=vt100 " + studioCommand(dir, "--model \(dir)/set --session \(dir)/session") + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("Jukebox studio") && $0.contains("enre") }
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-0") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/session"), "nothing sampled, nothing saved")
    }

    /// kill -9 right after a keep by double click (the next round under way): a new studio shows the kept
    /// segment, as saved by the autosave before that round began.
    func testAKilledStudioReopensAtTheLastAutosave() throws {
        let dir = try prepareStudio(seed: 7)
        let session = dir + "/session", pidFile = dir + "/pid"
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "sh -c 'echo $$ > \(pidFile); export XDG_STATE_HOME=\(dir)/state; exec \(Self.studio) --model \(dir)/set --session \(session)'; "
                  + "echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        try literal(RandomModelSet.genres[3])
        try keys("Escape")
        // 2 s stretches, 2 candidates (Tab to seconds; Shift-Tab from the genre to lyrics, then candidates).
        try keys("Tab"); try keys("Tab"); try keys("BSpace"); try keys("BSpace"); try literal("2")
        try keys("BTab"); try keys("BTab"); try keys("BTab"); try keys("BTab"); try keys("Left")
        waitFor("the settings") { $0.contains("Sample        2") && $0.contains("Candidates    2") }
        try keys("C-r")
        let offered = waitFor("the candidates", seconds: 60) { $0.contains("Segment 1  round 1") && $0.contains("Enter keeps") }
        // The mouse: a double click on candidate 2's strip keeps it.
        let row = try XCTUnwrap(offered.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("   2  ") })
        try click(x: 12, y: row, times: 2)
        // Killed once segment 2's candidates are on the table (drawn and saved, not yet chosen).
        waitFor("segment 2's candidates", seconds: 60) { $0.contains("Segment 2  round 1") && $0.contains("Enter keeps") }
        let pid = try XCTUnwrap(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGKILL)
        waitFor("the studio to die") { $0.contains("studio-exited-137") }
        try tmux(["kill-session", "-t", sessionName])

        // A studio on another folder opens it from the recent sessions (Ctrl-O, the newest is first).
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  studioCommand(dir, "--model \(dir)/set --session \(dir)/other") + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        try keys("C-o")
        let listed = waitFor("the recent sessions") { $0.contains("Recent sessions") && $0.contains(session) }
        XCTAssertTrue(listed.contains("0:02 kept  \(RandomModelSet.genres[3])"), listed)
        try keys("Enter")
        let reopened = waitFor("the kept segment") { $0.contains("segment 1: kept 2 of 2") }
        XCTAssertTrue(reopened.contains("1 segment kept"), reopened)
        // The kill lost nothing: the undecided candidates are back, ready to keep.
        XCTAssertTrue(reopened.contains("segment 2: deciding") && reopened.contains("   2  "), reopened)
        XCTAssertTrue(FileManager.default.fileExists(atPath: SessionFolder(path: session).candidatesPath))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/other"), "nothing was written to the unused folder")
        XCTAssertEqual(try SessionFolder(path: session).loadCodes(samples: 1)[2]?.t, Int((2 * 44100 / 128.0).rounded(.up)))
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-0") }
    }

    /// Esc while candidates are drawn sets the engine's cancel flag: the round stops within a token,
    /// the kept line (empty here) is unchanged, and nothing is left unsaved.
    func testEscapeCancelsSampling() throws {
        let dir = try prepareStudio(seed: 5)
        let session = dir + "/session"
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  studioCommand(dir, "--model \(dir)/set --session \(session)") + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        // Seconds 20 → 200 and the song 180 → 210 (→ adds 10): long enough to still be sampling when Esc
        // arrives, and within the label range of song lengths.
        try keys("Tab"); try keys("Tab"); try literal("0")
        try keys("Tab"); try keys("Right"); try keys("Right"); try keys("Right")
        waitFor("the longer song") { $0.contains("200") && $0.contains("210") }
        try keys("C-r")
        waitFor("the lanes to move") { $0.contains("tok/s") }
        try keys("Escape")
        waitFor("the cancel") { $0.contains("cancelled: the kept line is unchanged") }
        try keys("C-q")
        waitFor("the studio to exit without asking") { $0.contains("studio-exited-0") }
        let (folder, document) = try SessionFolder.open(session)
        XCTAssertEqual(document.prompt.sampleSeconds, 200)
        XCTAssertNil(try folder.loadCodes(samples: 1)[2], "nothing was kept")
        XCTAssertNil(document.history.first { $0.kept != nil })
    }

    /// Damaged files give one line, never a crash: a session.json cut short fails before the terminal,
    /// a damaged recent-sessions list is reported on the status line and moved aside.
    func testDamagedSessionAndRecentList() throws {
        let dir = try prepareStudio(seed: 6)
        let session = dir + "/broken"
        try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: true)
        try Data("{\"formatVersion\": 1, \"prompt\": {".utf8).write(to: URL(fileURLWithPath: session + "/session.json"))
        let r = try Subprocess.run(Self.studio, ["--model", dir + "/set", "--session", session])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("session.json") && r.stderr.contains("damaged"), r.stderr)

        let list = dir + "/state/jukebox/recent.json"
        try FileManager.default.createDirectory(atPath: dir + "/state/jukebox", withIntermediateDirectories: true)
        try Data("[{\"path\": 7".utf8).write(to: URL(fileURLWithPath: list))
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  studioCommand(dir, "--model \(dir)/set --session \(dir)/new") + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        try keys("C-o")
        let open = waitFor("the damaged list reported") { $0.contains("Open a session") && $0.contains("is damaged") }
        XCTAssertTrue(open.contains("no recent sessions yet"), open)
        XCTAssertTrue(FileManager.default.fileExists(atPath: list + ".damaged"))
        try keys("Escape")
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-0") }
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

    /// No --model: the studio opens on the bundled set, with its labels in the pickers and its own
    /// temperatures and song length in the composer, and the session it saves names that set.
    func testOpensOnTheBundledModelWithoutAModel() throws {
        let dir = try prepareStudio(seed: 5, randomSet: false)
        let session = dir + "/session"
        let bundled = try BundledModel.locate(environment: [:], executable: Self.studio)
        let set = try ModelSet.load(bundled)
        let defaults = try XCTUnwrap(set.sampling)
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "env -u JUKEBOX_MODEL " + studioCommand(dir, "--session '\(session)'") + "; echo studio-exited-$?; sleep 30"])
        let composer = waitFor("the composer") { $0.contains("Genre") }
        XCTAssertTrue(composer.contains(String(format: "top %.2f", defaults.top)), composer)
        // Each upsampler at its own: the bundled set samples level 0 hotter than level 1.
        XCTAssertTrue(composer.contains(String(format: "middle %.2f", defaults.temperature(level: 1, topLevel: set.topLevel))), composer)
        XCTAssertTrue(composer.contains(String(format: "bottom %.2f", defaults.temperature(level: 0, topLevel: set.topLevel))), composer)
        XCTAssertTrue(composer.contains("Song length   \(Int(try XCTUnwrap(defaults.songSeconds))) s"), composer)

        // The genre picker offers the bundled model's genres.
        try literal("hip")
        waitFor("the bundled genre suggested") { $0.contains("> hip hop") }
        try keys("Enter")
        try keys("Tab")
        let vocabulary = try XCTUnwrap(set.vocabularies[2])
        let artist = try XCTUnwrap(vocabulary.artists.ids.filter { $0.value != 0 }.min { $0.value < $1.value }?.key)
        try literal(artist)
        waitFor("the artist typed") { $0.contains(artist) }
        try keys("Escape")
        // One-second stretches with the model itself: candidates come, and the keep is saved.
        try keys("Tab")
        try keys("BSpace"); try keys("BSpace"); try literal("1")
        waitFor("1 s stretches") { $0.contains("Sample        1  s") }
        try keys("C-r")
        waitFor("the candidates", seconds: 120) { $0.contains("Segment 1  round 1") && $0.contains("Enter keeps") }
        try keys("Enter")
        waitFor("segment 2", seconds: 120) { $0.contains("Segment 2  round 1") }
        let (_, document) = try SessionFolder.open(session)
        XCTAssertEqual(document.modelSet, (bundled as NSString).standardizingPath)
        XCTAssertEqual(document.prompt.genre, "hip hop")
        XCTAssertEqual(document.prompt.temperatures, set.defaultTemperatures)
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-") }
    }

    func testBrokenModelSetFailsBeforeTheTerminal() throws {
        let dir = temporaryFolder(self)
        let r = try Subprocess.run(Self.studio, ["--model", dir + "/missing"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(dir + "/missing"), r.stderr)
    }
}
