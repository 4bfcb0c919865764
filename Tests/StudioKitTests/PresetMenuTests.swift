import JukeboxCore
import XCTest
@testable import StudioKit

/// Ctrl-L loads a preset into the composer, Ctrl-P saves the prompt as one.
final class PresetMenuTests: XCTestCase {
    func entries() -> [PresetEntry] {
        [PresetEntry(name: "beatles", file: "/p/beatles.toml",
                     preset: Preset(name: "beatles", description: "the beatles, rock", model: "5b_lyrics", genre: "rock",
                                    artist: "The Beatles", lyrics: "hey\nthere", seconds: 12, totalSeconds: 150,
                                    temperatures: [0.9, 0.95, 0.97], seed: 77, candidates: 5),
                     error: nil),
         PresetEntry(name: "broken", file: "/p/broken.toml", preset: nil, error: "/p/broken.toml: seed: expected a whole number 0…18446744073709551615"),
         PresetEntry(name: "strangers", file: "/p/strangers.toml",
                     preset: Preset(name: "strangers", model: "1b_lyrics", genre: "acid jazz", artist: "Nina Simone"), error: nil),
         PresetEntry(name: "too-deep", file: "/p/too-deep.toml",
                     preset: Preset(name: "too-deep", temperatures: [1, 1, 1]), error: nil)]
    }

    func testLoadingAPresetFillsTheComposer() throws {
        var s = try studio()
        XCTAssertEqual(send(&s, [.key(.ctrl("l"))]), [.listPresets])
        XCTAssertEqual(s.presetMenu?.mode, .load)
        XCTAssertNil(s.presetMenu?.entries, "listed by the runtime")
        send(&s, [.presetsListed(entries())])
        XCTAssertEqual(send(&s, [.key(.char("x")), .key(.ctrl("r"))]), [], "keys go to the menu while it is open")
        XCTAssertEqual(s.genre, "")
        send(&s, [.key(.enter)])
        XCTAssertNil(s.presetMenu)
        XCTAssertEqual(s.promptFields, PromptFields(genre: "rock", artist: "The Beatles", lyrics: "hey\nthere", seconds: 12,
                                                    totalSeconds: 150, temperatures: [0.97, 0.95, 0.9], seed: 77, candidates: 5))
        XCTAssertEqual(s.status, "loaded preset beatles")
    }

    func testBadOrUnfittingPresetsSayWhy() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("l")), .presetsListed(entries())])
        XCTAssertEqual(s.presetMenu?.entries?.map(\.name), ["beatles", "too-deep", "strangers", "broken"],
                       "presets the model knows the names of first, then the others, unreadable ones last")
        send(&s, [.key(.down), .key(.down), .key(.down), .key(.enter)])
        XCTAssertEqual(s.status, "error: /p/broken.toml: seed: expected a whole number 0…18446744073709551615")
        XCTAssertNotNil(s.presetMenu, "the menu stays open to pick another")
        send(&s, [.key(.up), .key(.enter)])
        XCTAssertEqual(s.status, "loaded preset strangers: this model does not know artist \"Nina Simone\" or genre \"acid jazz\" (made for the 1b_lyrics model)")
        XCTAssertEqual(s.genre, "acid jazz", "loaded all the same: the names fall back to unknown when sampling")

        var two = StudioState(levels: 2, vocabulary: try testVocabulary())
        send(&two, [.key(.ctrl("l")), .presetsListed(entries()), .key(.down), .key(.enter)])
        XCTAssertEqual(two.status, "error: /p/too-deep.toml: temperatures: 3 values, the model has 2 levels")
        XCTAssertEqual(two.temperatures, [0.99, 0.98], "nothing was loaded")
        send(&two, [.key(.escape)])
        XCTAssertNil(two.presetMenu)
    }

    func testSavingThePromptAsAPreset() throws {
        var s = try studio()
        send(&s, type("jazz") + [.key(.escape), .key(.tab)] + type("Bob Dylan") + [.key(.escape)])
        XCTAssertEqual(send(&s, [.key(.ctrl("p"))]), [.listPresets])
        send(&s, [.presetsListed(entries())])
        XCTAssertEqual(send(&s, [.key(.enter)]), [], "no name yet")
        XCTAssertEqual(s.status, "type a name for the preset first")
        send(&s, type("late/night"))
        XCTAssertEqual(s.presetMenu?.name, "latenight", "a slash is refused")
        XCTAssertEqual(s.status, "a preset name takes letters, digits, - and _")
        send(&s, [.key(.backspace)] + type("t_2"))
        let effects = send(&s, [.key(.enter)])
        XCTAssertEqual(effects, [.savePreset(Preset(name: "latenight_2", genre: "jazz", artist: "Bob Dylan", lyrics: "",
                                                    seconds: 20, totalSeconds: 180, temperatures: [0.98, 0.99, 0.99],
                                                    seed: 0, candidates: 3))])
        XCTAssertNil(s.presetMenu)
        send(&s, [.presetSaved(name: "latenight_2", file: "/home/u/.config/jukebox/presets/latenight_2.toml")])
        XCTAssertEqual(s.status, "saved preset latenight_2 to /home/u/.config/jukebox/presets/latenight_2.toml")
    }

    func testSnapshots() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("l")), .presetsListed(entries()), .key(.down), .key(.down), .key(.down)])
        assertSnapshot(render(s), "presets-load")
        var save = try studio()
        send(&save, [.key(.ctrl("p")), .presetsListed(entries())] + type("beatles"))
        assertSnapshot(render(save), "presets-save")
    }
}
