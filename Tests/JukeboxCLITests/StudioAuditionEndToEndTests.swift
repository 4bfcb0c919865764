import Foundation
import JukeboxCore
import StudioAudio
import XCTest

/// The real studio in tmux auditions a render decoded while candidates were drawn: through ALSA (its default device pointed at the file
/// plugin, so the bytes played land in a raw file), and on a machine whose sound card cannot open
/// (a WAV is written instead and the screen says so). Also the --theme errors.
extension StudioEndToEndTests {
    /// ALSA's configuration with the default device replaced; nil (test skipped) without alsa.conf.
    func alsaConfig(_ dir: String, _ definition: String) throws -> String {
        guard FileManager.default.fileExists(atPath: "/usr/share/alsa/alsa.conf") else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("ALSA's alsa.conf is missing (libasound2)") }
            throw XCTSkip("ALSA's configuration is not installed")
        }
        let conf = dir + "/asound.conf"
        try definition.write(toFile: conf, atomically: true, encoding: .utf8)
        return "/usr/share/alsa/alsa.conf:" + conf
    }

    /// Draws the first round of candidates (2 s stretches), plays the first top-level render from the
    /// lanes (Enter) and keeps candidate 1, whose codes that render decoded (row 0: the row the lanes
    /// show); returns the audio of that render decoded again from the kept line saved on disk.
    /// The studio is given OpenBLAS's kernels of this process (which, unlike the studio, cannot restart
    /// itself on AVX-512 ones), so its decode and this one are the same arithmetic, to the bit.
    func auditionFirstRender(dir: String, session: String, environment: String) throws -> [Float] {
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "OPENBLAS_CORETYPE=\(BLAS.core) \(environment) " + studioCommand(dir, "--model \(dir)/set --session \(session) --theme mono")
                  + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        try drawFirstRound()
        try keys("Escape")
        waitFor("the first render on the lanes") { $0.contains("L2 top rough preview 0:00.00-") }
        try keys("Enter")
        waitFor("the audition to end") { $0.contains("played L2 top") || $0.contains("wrote ") || $0.contains("error") }
        try keys("Tab")
        waitFor("the candidates again") { $0.contains("> 1  ") }
        try keys("Enter")
        let top = 2
        waitFor("the keep saved") { _ in ((try? SessionFolder(path: session).loadCodes(samples: 1)[top])?.t ?? 0) > 0 }
        try keys("C-q")
        let end = waitFor("the studio to exit") { $0.contains("studio-exited-") || $0.contains("y/n") }
        if !end.contains("studio-exited-") {
            try keys("y")
            waitFor("the studio to exit") { $0.contains("studio-exited-") }
        }

        // The first top-level window covers codes 0..<min(n_ctx, all): decode them as the engine did.
        let set = try ModelSet.load(dir + "/set")
        XCTAssertEqual(set.topLevel, top)
        let codes = try XCTUnwrap(try SessionFolder.open(session).0.loadCodes(samples: 1)[top])
        let length = min(try set.prior(level: top).nCtx, codes.t)
        let audio = try PartialRender.decode(vqvae: set.vqvae, codes: codes, level: top, range: 0..<length)
        return Array(UnsafeBufferPointer(start: audio.data, count: audio.shape[1]))
    }

    /// Ctrl-R with 2 s stretches (Tab, Tab from the genre reaches the seconds); returns once the
    /// candidates are offered. Their windows were decoded while they were drawn.
    func drawFirstRound() throws {
        try keys("Tab"); try keys("Tab"); try keys("BSpace"); try keys("BSpace"); try literal("2")
        waitFor("2 s stretches") { $0.contains("Sample        2 ") }
        try keys("C-r")
        waitFor("the candidates", seconds: 60) { $0.contains("Segment 1  round 1") && $0.contains("Enter keeps") }
    }

    func testStudioPlaysARenderThroughALSA() throws {
        let dir = try prepareStudio(seed: 6)
        let raw = dir + "/played.raw"
        let config = try alsaConfig(dir, "pcm.!default { type file; slave.pcm \"null\"; file \"\(raw)\"; format \"raw\" }\n")
        let expected = try auditionFirstRender(dir: dir, session: dir + "/session", environment: "ALSA_CONFIG_PATH=\(config)")
        XCTAssertTrue(pane().contains("studio-exited-0"), pane())
        let played = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        let bytes = PCMFormat.s16LE.bytes(expected)
        XCTAssertEqual(played.count, bytes.count, "the whole render was played, once")
        XCTAssertTrue(played == bytes, "the bytes played are the render's samples as 16-bit PCM")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/session/auditions"), "a sound card worked: no WAV")
    }

    func testStudioWithoutASoundCardWritesAWAV() throws {
        let dir = try prepareStudio(seed: 7)
        let config = try alsaConfig(dir, "pcm.!default { type hw; card 97; device 0 }\n")
        let session = dir + "/session"
        let expected = try auditionFirstRender(dir: dir, session: session, environment: "ALSA_CONFIG_PATH=\(config)")
        let files = try FileManager.default.contentsOfDirectory(atPath: session + "/auditions")
        XCTAssertEqual(files.count, 1, "\(files)")
        let file = try XCTUnwrap(files.first)
        XCTAssertTrue(file.hasPrefix("audition-l2-top-rough-preview-0-00-00-0-"), file)
        let back = try AudioFile.read(session + "/auditions/" + file)
        XCTAssertEqual(back.samples.count, expected.count)
        let worst = zip(back.samples, expected).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThan(worst, 1.0 / 32767 + 1e-6, "the WAV holds the render (16-bit)")
    }

    /// The status line and the playback line say there is no sound card (checked before the studio quits).
    func testNoSoundCardIsShown() throws {
        let dir = try prepareStudio(seed: 8)
        let config = try alsaConfig(dir, "pcm.!default { type hw; card 97; device 0 }\n")
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "ALSA_CONFIG_PATH=\(config) " + studioCommand(dir, "--model \(dir)/set --session \(dir)/session 2>\(dir)/stderr")
                  + "; echo studio-exited-$?; sleep 30"])
        // Said at start, before anything is played.
        waitFor("the composer saying so") { $0.contains("enre") && $0.contains("no sound card: auditions will be written as WAV files (ALSA default") }
        try drawFirstRound()
        try keys("Escape")
        waitFor("the first render on the lanes") { $0.contains("L2 top rough preview 0:00.00-") }
        try keys("Enter")
        // The status line is cut at the pane's width: the path's start is enough.
        let screen = waitFor("the fallback") { $0.contains("no sound card: wrote \(dir)/session/audi") }
        XCTAssertTrue(screen.contains("no sound card: auditions are written as WAV files (ALSA default"), screen)
        // Nothing is unsaved (the round drawn is not work to lose), unless a report is still on its way.
        try keys("C-q")
        let end = waitFor("the studio to exit") { $0.contains("studio-exited-") || $0.contains("y/n") }
        if !end.contains("studio-exited-") {
            try keys("y")
            waitFor("the studio to exit") { $0.contains("studio-exited-") }
        }
        XCTAssertTrue(pane().contains("studio-exited-0"), pane())
        let stderr = (try? String(contentsOfFile: dir + "/stderr", encoding: .utf8)) ?? ""
        XCTAssertFalse(stderr.contains("ALSA"), "ALSA printed nothing over the screen: \(stderr)")
    }

    func testUnknownOrBrokenThemeFailsInOneLine() throws {
        let dir = temporaryFolder(self)
        let r = try Subprocess.run(Self.studio, ["--model", dir + "/set", "--theme", "solarized"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "jukebox-studio: --theme: solarized: unknown theme (known: dark, light, mono)\n")
        try "[title]\nfg = \"purpleish\"\n".write(toFile: dir + "/bad.toml", atomically: true, encoding: .utf8)
        let bad = try Subprocess.run(Self.studio, ["--model", dir + "/set", "--theme", dir + "/bad.toml"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.hasPrefix("jukebox-studio: \(dir)/bad.toml: title.fg: unknown colour \"purpleish\""), bad.stderr)
    }
}
