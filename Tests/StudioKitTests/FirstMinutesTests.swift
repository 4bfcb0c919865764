import JukeboxCore
import XCTest
@testable import StudioKit

/// A new user's first minutes: the artist picker knows each artist's genre and tempo and offers the chosen
/// genre's artists first; keys that cannot act say why; volume and long seeks work and are in the help.
final class FirstMinutesTests: XCTestCase {
    func withFacts() throws -> StudioState {
        var s = try studio()
        let facts = SamplingDefaults(top: 0.9, upsamplers: 0.8,
                                     artistTempos: ["the_beatles": 120, "beach_boys": 110, "bob_dylan": 96, "the_doors": 104],
                                     artistGenres: ["the_beatles": "pop", "beach_boys": "pop", "bob_dylan": "rock", "the_doors": "rock",
                                                    "beyonce": "soul"])
        s.setDefaults = facts
        s.barClockTempos = facts
        return s
    }

    func testTheComposerStartsOnTheGenre() throws {
        XCTAssertEqual(try studio().focus, .genre)
    }

    func testTheArtistPickerOffersTheChosenGenresArtistsWithTheirTempo() throws {
        var s = try withFacts()
        send(&s, type("rock") + [.key(.escape), .key(.tab)])
        XCTAssertEqual(s.focus, .artist)
        let offered = try XCTUnwrap(s.picker, "an empty artist field offers the genre's artists")
        XCTAssertEqual(Array(offered.results.prefix(2)), ["bob dylan", "the doors"])
        XCTAssertEqual(Array(offered.details.prefix(2)), ["rock · 96 bpm", "rock · 104 bpm"])
        XCTAssertTrue(render(s).text.contains("rock · 96 bpm"), render(s).text)

        // Typing: names starting with it first, and among those the genre's own first.
        send(&s, type("b"))
        XCTAssertEqual(s.picker?.results.first, "bob dylan")
        XCTAssertEqual(Set(s.picker?.results.prefix(3) ?? []), ["bob dylan", "beach boys", "beyonce"])
        send(&s, [.key(.enter)])
        XCTAssertEqual(s.artist, "bob dylan")

        // A set that does not know its artists' genres offers nothing until something is typed.
        var plain = try studio()
        send(&plain, type("rock") + [.key(.escape), .key(.tab)])
        XCTAssertNil(plain.picker)
    }

    func testKeysThatCannotActSayWhy() throws {
        var s = try studio()
        send(&s, type("rock") + [.key(.ctrl("r"))])
        XCTAssertTrue(s.sampling)
        for (key, what) in [(Key.char("u"), "undo"), (.ctrl("u"), "upsample"), (.ctrl("r"), "start another round")] {
            s.status = ""
            XCTAssertEqual(send(&s, [.key(key)]), [], "\(key)")
            XCTAssertEqual(s.status, "cannot \(what) while the engine works: wait, or Esc to cancel")
        }
        s.screen = .candidates
        for (key, what) in [(Key.enter, "keep"), (.char("r"), "resample"), (.char("u"), "undo")] {
            s.status = ""
            XCTAssertEqual(send(&s, [.key(key)]), [])
            XCTAssertEqual(s.status, "cannot \(what) while the engine works: wait, or Esc to cancel")
        }
    }

    func testVolumeAndLongSeeksOnLanesAndCandidates() throws {
        var s = try studio()
        s.screen = .lanes
        XCTAssertEqual(send(&s, [.key(.char("-"))]), [.setVolume(0.9)])
        XCTAssertEqual(s.status, "volume 90%")
        XCTAssertEqual(send(&s, [.key(.char("+")), .key(.char("="))]), [.setVolume(1.0), .setVolume(1.1)])
        for _ in 0..<30 { send(&s, [.key(.char("-"))]) }
        XCTAssertEqual(s.playback.volume, 0, "no lower than silence")
        XCTAssertEqual(send(&s, [.key(.char(","))]), [], "nothing plays: nothing to seek")
        s.playback.phase = .playing
        XCTAssertEqual(send(&s, [.key(.char(",")), .key(.char("."))]), [.seek(seconds: -60), .seek(seconds: 60)])
        s.screen = .candidates
        XCTAssertEqual(send(&s, [.key(.char(".")), .key(.char("+"))]), [.seek(seconds: 60), .setVolume(0.1)])
        s.playback.volume = 0.5
        XCTAssertTrue(render(s).text.contains("vol 50%"), render(s).text)
    }

    func testTheHelpListsVolumeAndLongSeeks() throws {
        let lanes = helpPages[1].left.flatMap(\.keys).map { "\($0.key) \($0.what)" }
        XCTAssertTrue(lanes.contains(", . seek a minute"), "\(lanes)")
        XCTAssertTrue(lanes.contains("+ - volume"), "\(lanes)")
    }

    /// A genre or artist the set's lists lack is sampled as "unknown": the composer says so beside the name once
    /// it is typed, not while the picker still offers names, and not for names the lists hold.
    func testNamesTheSetDoesNotKnowAreFlagged() throws {
        var s = try withFacts()
        send(&s, type("polka"))
        XCTAssertFalse(render(s).text.contains("not in this set's list"), "the picker is still offering names")
        send(&s, [.key(.escape)])
        var lines = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines[2].contains("polka") && lines[2].contains("not in this set's list: sampled as unknown"), String(lines[2]))
        send(&s, [.key(.tab)] + type("nobody at all") + [.key(.escape)])
        lines = render(s).text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines[3].contains("nobody at all") && lines[3].contains("not in this set's list: sampled as unknown"), String(lines[3]))
        // Names the lists hold: no note (the artist's tempo instead).
        var known = try withFacts()
        send(&known, type("rock") + [.key(.escape), .key(.tab)] + type("bob dylan") + [.key(.escape)])
        let text = render(known).text
        XCTAssertFalse(text.contains("not in this set's list"), text)
        XCTAssertTrue(text.contains("bar clock at 96 bpm"), text)
    }

    /// An artist who sings in none of the set's songs, given lyrics: the composer says so under the lyrics
    /// (the note `sample` prints), and not once the lyrics are empty or the artist sings.
    func testLyricsForAnInstrumentalArtistAreFlagged() throws {
        var s = try withFacts()
        s.setDefaults?.instrumentalArtists = ["the_doors"]
        send(&s, type("rock") + [.key(.escape), .key(.tab)] + type("the doors") + [.key(.escape), .key(.backTab), .key(.backTab)])
        XCTAssertEqual(s.focus, .lyrics)
        XCTAssertNil(s.instrumentalNote, "no lyrics yet")
        send(&s, type("light my fire"))
        let note = try XCTUnwrap(s.instrumentalNote)
        XCTAssertTrue(note.hasPrefix("the_doors sings in none of the songs this set learnt from"), note)
        let text = render(s).text
        XCTAssertTrue(text.contains("the_doors sings in none of the songs"), text)
        XCTAssertFalse(text.contains("every character reaches the model"), text)
        // The same words the resolver notes for `sample`.
        XCTAssertEqual(s.setDefaults?.instrumentalNote(artist: "the_doors", lyrics: "light my fire"), note)
        send(&s, Array(repeating: .key(.backspace), count: 13))
        XCTAssertNil(s.instrumentalNote)
        XCTAssertTrue(render(s).text.contains("every character reaches the model"))
        s.artist = "bob dylan"
        send(&s, type("la"))
        XCTAssertNil(s.instrumentalNote, "bob dylan sings")
    }
}

/// The renders list leads with the whole song so far, one entry per level that holds it; Enter plays it from
/// its start, and the windows decoded while sampling follow, folded beneath.
final class WholeSongRenderTests: XCTestCase {
    func testTheWholeSongLeadsTheRendersAndPlays() throws {
        var s = try studio(100, 30)
        s.hopLengths = [8, 32, 128]
        var composition = Composition(kept: Array(repeating: 5, count: 3446), log: [], level: 2)
        send(&s, [.composition(composition)])
        send(&s, [.engine(.audioDecoded(level: 2, samples: 0..<65536, audio: [[0]]))])
        s.screen = .lanes
        XCTAssertEqual(s.songLevels, [2])
        XCTAssertEqual(s.renderEntries, 2)
        XCTAssertEqual(s.songTitle(level: 2), "L2 top rough preview · whole song 0:10.00")
        var text = render(s).text
        XCTAssertTrue(text.contains(">   L2 top rough preview · whole song 0:10.00"), text)
        XCTAssertTrue(text.contains("      L2 top rough preview 0:00.00-0:01.49"), "the window render folded beneath:\n\(text)")
        XCTAssertEqual(send(&s, [.key(.enter)]), [.playSong(level: 2)])
        XCTAssertEqual(send(&s, [.key(.down), .key(.enter)]), [.playRender(level: 2, samples: 0..<65536)])

        // After an upsample, the finest level leads: the best sound first.
        composition.lowerLengths = [0: 3446 * 16, 1: 3446 * 4]
        send(&s, [.composition(composition)])
        XCTAssertEqual(s.songLevels, [0, 1, 2])
        s.selectedRender = 0
        text = render(s).text
        XCTAssertTrue(text.contains("L0 bottom final · whole song 0:10.00"), text)
        XCTAssertEqual(send(&s, [.key(.enter)]), [.playSong(level: 0)])
    }
}
