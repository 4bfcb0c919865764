import Foundation
import JukeboxCore
import XCTest

/// The real studio finds the package's presets/ above its executable, loads one into the composer (Ctrl-L),
/// and saves the prompt as a preset into $XDG_CONFIG_HOME/jukebox/presets.
extension StudioEndToEndTests {
    func testLoadAndSavePresetsInTmux() throws {
        let dir = try prepareStudio(seed: 9)
        try tmux(["new-session", "-d", "-s", sessionName, "-x", "100", "-y", "30",
                  "XDG_CONFIG_HOME=\(dir)/config " + studioCommand(dir, "--model \(dir)/set --session \(dir)/session --theme light")
                  + "; echo studio-exited-$?; sleep 30"])
        waitFor("the composer") { $0.contains("enre") }
        try keys("C-l")
        waitFor("the preset list") { $0.contains("Load a preset") && $0.contains("random-ambient-tiny") }
        // Walk down to the tiny ambient preset, whichever row it is on.
        var screen = pane()
        var steps = 0
        while !screen.contains("> random-ambient-tiny") && steps < 20 {
            try keys("Down")
            steps += 1
            usleep(150_000)
            screen = pane()
        }
        try keys("Enter")
        screen = waitFor("the preset loaded") { $0.contains("loaded preset random-ambient-tiny") }
        XCTAssertTrue(screen.contains("ambient"), screen)
        XCTAssertTrue(screen.contains("Mira Quell"), screen)

        try keys("C-p")
        waitFor("the save box") { $0.contains("Save the prompt as a preset") }
        try literal("my-ambient")
        waitFor("the name typed") { $0.contains("Name: my-ambient") }
        try keys("Enter")
        let file = dir + "/config/jukebox/presets/my-ambient.toml"
        waitFor("the preset saved") { $0.contains("saved preset my-ambient") }
        try keys("C-q")
        waitFor("the studio to exit") { $0.contains("studio-exited-0") }

        // What was saved reads back with the composer's values: the shipped preset's, as loaded.
        let shipped = try String(contentsOf: CLI.packageRoot.appendingPathComponent("presets/random-ambient-tiny.toml"), encoding: .utf8)
        let saved = try String(contentsOfFile: file, encoding: .utf8)
        for key in ["genre = \"ambient\"", "artist = \"Mira Quell\"", "seconds = 2", "total_seconds = 30", "seed = 3",
                    "candidates = 2", "temperatures = [0.98, 0.99, 0.99]"] {
            XCTAssertTrue(shipped.contains(key), "the shipped preset has \(key)")
            XCTAssertTrue(saved.contains(key), "saved: \(key) in\n\(saved)")
        }
    }
}
