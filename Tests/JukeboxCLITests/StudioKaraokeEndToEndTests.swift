import Foundation
import JukeboxCore
import XCTest

/// The real studio in tmux sings along: the kept song plays through ALSA (its default device the file plugin in
/// front of the null device, held to the clock), and the lyrics pane marks the word being sung, moving on
/// through the lyrics as the song plays.
extension StudioEndToEndTests {
    /// The word drawn in reverse video (the mono theme's selection) on the lyrics pane's first line, and the
    /// pane's clock; nil while the pane does not show the song's lyrics.
    func sungWord(_ screen: String) -> (clock: String, word: String)? {
        let rows = screen.components(separatedBy: "\n")
        guard let y = rows.firstIndex(where: { $0.contains("Lyrics as sung") }), y + 1 < rows.count,
              let clock = rows[y].range(of: #"\d+:\d\d"#, options: .regularExpression) else { return nil }
        let line = rows[y + 1]
        guard let start = line.range(of: "\u{1B}[7m") else { return nil }
        let rest = line[start.upperBound...]
        let word = rest.prefix { $0 != "\u{1B}" && $0 != " " }
        return word.isEmpty ? nil : (String(rows[y][clock]), String(word))
    }

    func testTheSungWordMovesWhileTheKeptSongPlays() throws {
        let dir = try prepareStudio(seed: 9, randomSet: false)
        // The bundled set without its alignment prior and head: the words are spread evenly over the sung span, so
        // where each falls is known (a head's timing of a fresh sample is its own guess: README, "Timed lyrics").
        let bundled = dir + "/set"
        try FileManager.default.copyItem(atPath: try BundledModel.locate(environment: [:], executable: CLI.executable), toPath: bundled)
        try? FileManager.default.removeItem(atPath: bundled + "/" + AlignmentPrior.folderName)
        let top = bundled + "/prior_level_2/config.json"
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: top))) as? [String: Any])
        var hps = try XCTUnwrap(config["hps"] as? [String: Any])
        (hps["alignment_layer"], hps["alignment_head"]) = (NSNull(), NSNull())
        config["hps"] = hps
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: top))
        let alsa = try alsaConfig(dir, "pcm.!default { type file; slave.pcm \"null\"; file \"\(dir)/played.raw\"; format \"raw\" }\n")
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "ALSA_CONFIG_PATH=\(alsa) " + studioCommand(dir, "--model '\(bundled)' --session '\(dir)/session' --theme mono")
                  + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        try literal("rock")
        waitFor("the genre typed") { $0.contains("Genre         rock") }
        try keys("Escape")
        let words = ["my", "engine", "is", "wild", "oh", "road", "roll", "on", "and", "on"]
        try keys("BTab")   // genre → lyrics, the last field
        try literal(words.joined(separator: " "))
        waitFor("the lyrics typed") { $0.contains("roll on and on") }
        try keys("Tab"); try keys("Tab")   // lyrics → genre → artist
        try literal("gluxpesh ternail")
        waitFor("the artist typed") { $0.contains("Artist        gluxpesh ternail") }
        try keys("Escape")
        try keys("Tab"); try keys("BSpace"); try keys("BSpace"); try literal("6")
        waitFor("6 s stretches") { $0.contains("Sample        6 ") }
        // A song of 18 s (the shortest the bundled prior learnt), two thirds of it kept: most words are sung.
        try keys("Tab"); try keys("BSpace"); try keys("BSpace"); try literal("18")
        waitFor("an 18 s song") { $0.contains("Song length   18 ") }
        try keys("C-r")
        // Two stretches kept: 12 s of the song.
        for segment in 1...2 {
            waitFor("segment \(segment)'s candidates", seconds: 90) { $0.contains("Segment \(segment)  round 1") && $0.contains("Enter keeps") }
            try keys("Enter")
        }
        waitFor("the third round under way", seconds: 90) { $0.contains("Segment 3") }
        try keys("Escape")
        waitFor("the lanes") { $0.contains("Level 2 (top)") }
        try keys("Enter")
        // Watch the pane while the song plays (12 s at the clock's pace).
        var seen: [(clock: String, word: String)] = []
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let screen = (try? tmux(["capture-pane", "-e", "-p", "-t", sessionName])) ?? ""
            if let now = sungWord(screen), seen.last.map({ $0 != now }) ?? true { seen.append(now) }
            if screen.contains("played ") && !seen.isEmpty { break }
            usleep(200_000)
        }
        let marked = seen.map(\.word)
        XCTAssertGreaterThanOrEqual(Set(marked).count, 2, "the mark moved: \(seen)\n\(pane())")
        // Each word marked comes later in the lyrics than the one before (a word may be marked twice in a row of
        // frames; the lyrics repeat "on").
        var at = -1
        for word in marked {
            guard let next = words.indices.first(where: { $0 >= at && words[$0] == word }) else {
                XCTFail("\(word) is marked out of order: \(seen)"); break
            }
            at = next
        }
        XCTAssertEqual(seen.map(\.clock), seen.map(\.clock).sorted(), "the pane's clock only goes forward")
        // The song went through ALSA: 12 s of 16-bit mono at 44.1 kHz (a render ends on a whole top-level hop).
        let played = (try? FileManager.default.attributesOfItem(atPath: dir + "/played.raw")[.size] as? Int) ?? 0
        XCTAssertEqual(Double(played) / (2 * 44100), 12, accuracy: 0.05)
        try keys("C-q")
        let end = waitFor("the studio to exit") { $0.contains("studio-exited-") || $0.contains("y/n") }
        if !end.contains("studio-exited-") { try keys("y"); waitFor("the studio to exit") { $0.contains("studio-exited-") } }
    }
}
