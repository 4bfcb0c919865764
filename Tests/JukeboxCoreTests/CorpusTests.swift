@testable import JukeboxCore
@testable import JukeboxFormats
@testable import JukeboxCorpus
@testable import JukeboxEvaluation
@testable import JukeboxTraining
import XCTest

/// The corpus recipe without rendering: plans, artists, compositions and MIDI files.
final class CorpusTests: XCTestCase {
    /// Reads a format-1 MIDI file back: the tempo and, per track, its note-ons as (tick, pitch).
    func parse(_ bytes: [UInt8]) throws -> (tracks: Int, microsPerBeat: Int, notes: [[(Int, Int)]]) {
        XCTAssertEqual(Array(bytes[0..<4]), Array("MThd".utf8))
        func be(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        let tracks = be(10, 2)
        XCTAssertEqual(be(12, 2), MIDISong.ticksPerBeat)
        var at = 14, tempo = 0
        var notes: [[(Int, Int)]] = []
        for _ in 0..<tracks {
            XCTAssertEqual(Array(bytes[at..<at + 4]), Array("MTrk".utf8))
            let end = at + 8 + be(at + 4, 4)
            at += 8
            var tick = 0, trackNotes: [(Int, Int)] = []
            while at < end {
                var delta = 0
                repeat { delta = delta << 7 | Int(bytes[at] & 0x7F); at += 1 } while bytes[at - 1] & 0x80 != 0
                tick += delta
                let status = bytes[at]
                if status == 0xFF {
                    if bytes[at + 1] == 0x51 { tempo = be(at + 3, 3) }
                    at += 3 + Int(bytes[at + 2])
                } else if status & 0xF0 == 0xC0 {
                    at += 2
                } else {
                    if status & 0xF0 == 0x90 { trackNotes.append((tick, Int(bytes[at + 1]))) }
                    at += 3
                }
            }
            XCTAssertEqual(at, end, "events end exactly at the chunk's end")
            notes.append(trackNotes)
        }
        return (tracks, tempo, notes)
    }

    func testMIDIFileReadsBackItsNotesAndTempo() throws {
        let notes = [MIDINote(start: 0, length: 240, pitch: 60, velocity: 100),
                     MIDINote(start: 240, length: 240, pitch: 60, velocity: 90),  // repeated pitch retriggers
                     MIDINote(start: 100_000, length: 480, pitch: 72, velocity: 80)]
        let song = MIDISong(beatsPerMinute: 90, tracks: [MIDITrack(channel: 2, program: 25, notes: notes),
                                                        MIDITrack(channel: 9, program: 0, notes: [notes[0]])])
        let read = try parse(song.encoded())
        XCTAssertEqual(read.tracks, 3)
        XCTAssertEqual(read.microsPerBeat, 666_667)
        XCTAssertEqual(read.notes[1].map(\.0), [0, 240, 100_000])
        XCTAssertEqual(read.notes[1].map(\.1), [60, 60, 72])
        XCTAssertEqual(read.notes[2].count, 1)
        XCTAssertEqual(song.seconds(ticks: 480 * 3), 2, accuracy: 1e-9)
    }

    func testPlanIsReproducibleCoversEveryGenreFirstAndReachesItsLength() {
        let recipe = CorpusRecipe(seed: 7, minutes: 10)
        let a = CorpusPlan(recipe), b = CorpusPlan(recipe), other = CorpusPlan(CorpusRecipe(seed: 8, minutes: 10))
        XCTAssertEqual(a.artists.map(\.name), b.artists.map(\.name))
        XCTAssertEqual(a.entries.map(\.seed), b.entries.map(\.seed))
        XCTAssertNotEqual(a.artists.map(\.name), other.artists.map(\.name))
        XCTAssertGreaterThanOrEqual(GenreStyle.all.count, 6)
        XCTAssertEqual(Set(a.artists.map(\.name)).count, a.artists.count, "artist names are unique")
        XCTAssertEqual(a.artists.count, GenreStyle.all.count * recipe.artistsPerGenre)
        let firstGenres = a.entries.prefix(GenreStyle.all.count).map { a.artists[$0.artist].genre.name }
        XCTAssertEqual(Set(firstGenres), Set(GenreStyle.all.map(\.name)))
        XCTAssertGreaterThanOrEqual(a.entries.reduce(0) { $0 + $1.targetSeconds }, 600)
        XCTAssertEqual(a.entries.count % GenreStyle.all.count, 0, "whole rounds: each genre as often as the others")
        XCTAssertEqual(CorpusPlan(CorpusRecipe(seed: 7, minutes: 0.01)).entries.count, GenreStyle.all.count)
        let long = CorpusPlan(CorpusRecipe(seed: 7, minutes: 60))
        XCTAssertTrue(long.entries.contains { $0.split == "test" }, "an hour holds songs out")
        XCTAssertTrue(long.entries.filter { $0.split == "test" }.count * 4 < long.entries.count)
        let heldOutGenres = Set(long.entries.filter { $0.split == "test" }.map { long.artists[$0.artist].genre.name })
        XCTAssertEqual(heldOutGenres.count, GenreStyle.all.count, "every genre has held-out songs")
    }

    func testSongsFollowTheirArtistAndGenre() throws {
        let plan = CorpusPlan(CorpusRecipe(seed: 3, minutes: 30))
        let text = TextProcessor(v3: true)
        for entry in plan.entries.prefix(2 * GenreStyle.all.count) {
            let artist = plan.artists[entry.artist]
            let song = plan.compose(entry)
            XCTAssertEqual(plan.compose(entry).midi.encoded(), song.midi.encoded(), "composing is deterministic")
            XCTAssertTrue(artist.genre.tempo.contains(song.midi.beatsPerMinute), artist.genre.name)
            XCTAssertEqual(song.midi.tracks.contains { $0.channel == 9 }, !artist.genre.grooves.isEmpty, artist.genre.name)
            XCTAssertGreaterThan(song.seconds, 15)
            if artist.sings {
                XCTAssertFalse(song.vocals.isEmpty, artist.name)
                let cleaned = text.inspect(song.lyrics)
                XCTAssertEqual(cleaned.text, song.lyrics, "every lyric character reaches the model")
                XCTAssertEqual(song.vocals.map(\.text).joined(separator: " "),
                               song.lyrics.replacingOccurrences(of: "\n", with: " "), "the lyrics are what is sung")
                XCTAssertEqual(song.vocals.map(\.start), song.vocals.map(\.start).sorted())
                XCTAssertLessThan(song.vocals.last!.start, song.seconds)
            } else {
                XCTAssertTrue(song.vocals.isEmpty && song.lyrics.isEmpty, artist.name)
            }
        }
    }

    func testAnArtistKeepsItsStyleAndArtistsOfAGenreDiffer() {
        let plan = CorpusPlan(CorpusRecipe(seed: 11, minutes: 40))
        for genre in GenreStyle.all.map(\.name) {
            let artists = plan.artists.filter { $0.genre.name == genre }
            func style(_ a: CorpusArtist) -> String { "\(a.key) \(a.tempo) \(a.progression) \(a.leadProgram) \(a.compProgram) \(a.voice)" }
            XCTAssertEqual(Set(artists.map(style)).count, artists.count, "\(genre) artists differ")
            // Two songs of one artist: same tempo and instruments.
            let songs = plan.entries.filter { plan.artists[$0.artist].name == artists[0].name }.prefix(2).map(plan.compose)
            XCTAssertEqual(songs.count, 2)
            XCTAssertEqual(songs[0].midi.beatsPerMinute, songs[1].midi.beatsPerMinute)
            XCTAssertEqual(songs[0].midi.tracks.map(\.program), songs[1].midi.tracks.map(\.program))
        }
    }
}
