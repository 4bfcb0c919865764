import JukeboxCore
import XCTest
@testable import StudioKit

/// Renders decoded while sampling, labelled by level, and the audition keys and player reports.
final class AuditionTests: XCTestCase {
    /// Windows finished at the top level (rough previews) and one refined below, as the engine reports them.
    func decodedEvents() -> [StudioMessage] {
        [.engine(.audioDecoded(level: 2, samples: 0..<38912, audio: [[0.1]])),
         .engine(.audioDecoded(level: 2, samples: 19456..<58368, audio: [[0.2]])),
         .engine(.audioDecoded(level: 1, samples: 0..<16384, audio: [[0.3]]))]
    }

    func sampled() throws -> StudioState {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))] + samplingEvents() + decodedEvents())
        return s
    }

    func testDecodedWindowsBecomeRendersLabelledByLevel() throws {
        var s = try sampled()
        XCTAssertEqual(s.renders, [RenderInfo(level: 2, samples: 0..<38912), RenderInfo(level: 2, samples: 19456..<58368),
                                   RenderInfo(level: 1, samples: 0..<16384)])
        XCTAssertEqual(s.renders.map { $0.title(levels: 3, sampleRate: 44100) },
                       ["L2 top rough preview 0:00.00-0:00.88", "L2 top rough preview 0:00.44-0:01.32", "L1 middle refined 0:00.00-0:00.37"])
        XCTAssertEqual(RenderInfo(level: 0, samples: 0..<441000).title(levels: 3, sampleRate: 44100), "L0 bottom final 0:00.00-0:10.00")
        XCTAssertEqual(s.status, "level 1: refined decoded (Enter plays it)")
        send(&s, decodedEvents())
        XCTAssertEqual(s.renders.count, 3, "the same window decoded again is listed once")
        send(&s, [.engine(.audioDecoded(level: 7, samples: 0..<10, audio: [])), .engine(.audioDecoded(level: 1, samples: 5..<5, audio: []))])
        XCTAssertEqual(s.renders.count, 3, "a level the model lacks or an empty span is ignored")
        // A new run starts from an empty list.
        send(&s, [.key(.escape)])
        s.sampling = false
        send(&s, [.key(.escape), .key(.ctrl("r"))])
        XCTAssertEqual(s.screen, .lanes)
        XCTAssertTrue(s.renders.isEmpty)
    }

    func testLanesKeysPickPlayPauseSeekAndStop() throws {
        var s = try sampled()
        XCTAssertEqual(send(&s, [.key(.right)]), [], "nothing plays: no seek")
        XCTAssertEqual(send(&s, [.key(.down), .key(.down), .key(.down)]), [])
        XCTAssertEqual(s.selectedRender, 2, "the pick stops at the last render")
        XCTAssertEqual(send(&s, [.key(.up)]), [])
        XCTAssertEqual(send(&s, [.key(.enter)]), [.playRender(level: 2, samples: 19456..<58368)])
        XCTAssertEqual(s.status, "playing L2 top rough preview 0:00.44-0:01.32")
        XCTAssertEqual(send(&s, [.key(.char(" "))]), [.playRender(level: 2, samples: 19456..<58368)],
                       "Space plays the pick while nothing plays")

        send(&s, [.playback(PlaybackReport(phase: .playing, title: "L2 top rough preview 0:00.44-0:01.32", position: 0.05, duration: 0.88, peak: 0.4))])
        XCTAssertEqual(s.playback.phase, .playing)
        XCTAssertEqual(send(&s, [.key(.char(" "))]), [.togglePause])
        XCTAssertEqual(send(&s, [.key(.left), .key(.right)]), [.seek(seconds: -5), .seek(seconds: 5)])
        XCTAssertEqual(send(&s, [.key(.char("s"))]), [.stopPlayback])
        XCTAssertEqual(send(&s, [.key(.char("p"))]), [.play(level: 2, range: 152..<456, candidate: nil)],
                       "p still plays the current top window")
    }

    func testNoRenderYetSaysWhy() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))])
        XCTAssertEqual(send(&s, [.key(.enter)]), [])
        XCTAssertEqual(s.status, "no render yet: each finished window is decoded as sampling goes")
    }

    func testPlayerReportsMoveTheMeterAndNameTheFile() throws {
        var s = try sampled()
        for i in 0..<30 {
            send(&s, [.playback(PlaybackReport(phase: .playing, title: "t", position: Double(i) * 0.05, duration: 3, peak: Float(i) / 30))])
        }
        XCTAssertEqual(s.playback.peaks.count, PlaybackState.peakHistory, "the waveform keeps the last peaks only")
        XCTAssertEqual(s.playback.peaks.last ?? 0, 29 / 30, accuracy: 1e-6)
        XCTAssertEqual(s.playback.position, 1.45, accuracy: 1e-9)
        send(&s, [.playback(PlaybackReport(phase: .playing, title: "t", peak: .nan)), .playback(PlaybackReport(phase: .playing, title: "t", peak: 7))])
        XCTAssertEqual(Array(s.playback.peaks.suffix(2)), [0, 1], "odd peaks are clamped")

        send(&s, [.playback(PlaybackReport(phase: .paused, title: "t", position: 1.5, duration: 3))])
        XCTAssertEqual(s.status, "paused t")
        XCTAssertTrue(s.playback.isActive)
        send(&s, [.playback(PlaybackReport(phase: .finished, title: "t", position: 3, duration: 3))])
        XCTAssertEqual(s.status, "played t")
        XCTAssertFalse(s.playback.isActive)

        send(&s, [.playback(PlaybackReport(phase: .finished, title: "t", file: "/tmp/s/auditions/audition-t.wav",
                                           fallbackReason: "ALSA default: cannot open: No such file or directory"))])
        XCTAssertEqual(s.status, "no sound card: wrote /tmp/s/auditions/audition-t.wav")
        XCTAssertEqual(s.playback.noSoundCard, "ALSA default: cannot open: No such file or directory")
        send(&s, [.playback(PlaybackReport(phase: .failed("disk full"), title: "t"))])
        XCTAssertEqual(s.status, "error: playback: disk full")
    }

    func testNoSoundCardIsSaidAtOnce() throws {
        var s = try studio()
        send(&s, [.noSoundCard("ALSA default: cannot open: No such file or directory")])
        XCTAssertEqual(s.status, "no sound card: auditions will be written as WAV files (ALSA default: cannot open: No such file or directory)")
        XCTAssertEqual(s.playback.noSoundCard, "ALSA default: cannot open: No such file or directory")
        XCTAssertFalse(s.playback.isActive)
    }

    func testCandidatesSeekAndStopWhilePlaying() throws {
        var s = try sampled()
        send(&s, [.candidatesReady([[1, 2, 3], [4, 5, 6]])])
        XCTAssertEqual(s.screen, .candidates)
        XCTAssertEqual(send(&s, [.key(.char(" "))]), [.play(level: 2, range: 152..<456, candidate: 0)])
        XCTAssertEqual(send(&s, [.key(.right)]), [], "nothing plays yet")
        send(&s, [.playback(PlaybackReport(phase: .playing, title: "candidate 1", duration: 2))])
        XCTAssertEqual(send(&s, [.key(.right), .key(.left), .key(.char("s"))]), [.seek(seconds: 5), .seek(seconds: -5), .stopPlayback])
    }

    func testSnapshotsWhilePlayingAndWithoutASoundCard() throws {
        var s = try sampled()
        send(&s, [.key(.enter)])
        for (i, peak) in [0.1, 0.35, 0.8, 0.6, 0.95, 0.5, 0.2, 0.7].enumerated() {
            send(&s, [.playback(PlaybackReport(phase: .playing, title: "L2 top rough preview 0:00.00-0:00.88",
                                               position: 0.05 * Double(i + 1), duration: 0.88, peak: Float(peak)))])
        }
        assertSnapshot(render(s), "lanes-playing")
        XCTAssertTrue(render(s).roles.split(separator: "\n")[1].contains("m"), "the meter has its own role")

        var quiet = try sampled()
        send(&quiet, [.key(.down), .key(.down), .key(.enter),
                      .playback(PlaybackReport(phase: .finished, title: "L1 middle refined 0:00.00-0:00.37",
                                               file: "/tmp/song/auditions/audition-l1-middle-refined-0-00-0-00.wav",
                                               fallbackReason: "ALSA default: cannot open: No such device"))])
        assertSnapshot(render(quiet), "lanes-no-sound-card")
    }
}

final class RenderTimeTests: XCTestCase {
    func testTimesInHundredths() {
        XCTAssertEqual(RenderInfo.time(0), "0:00.00")
        XCTAssertEqual(RenderInfo.time(9.996), "0:10.00")
        XCTAssertEqual(RenderInfo.time(61.254), "1:01.25")
        XCTAssertEqual(RenderInfo.time(0.05), "0:00.05")
        XCTAssertEqual(RenderInfo.time(-3), "0:00.00")
    }
}

final class RenderListBoundTests: XCTestCase {
    func testTheListKeepsTheNewestRenders() throws {
        var s = try studio()
        send(&s, [.key(.ctrl("r"))])
        for i in 0..<(RenderInfo.kept + 10) {
            send(&s, [.engine(.audioDecoded(level: 0, samples: (i * 100)..<(i * 100 + 400), audio: []))])
        }
        XCTAssertEqual(s.renders.count, RenderInfo.kept)
        XCTAssertEqual(s.renders.first?.samples.lowerBound, 1000, "the ten oldest went")
        XCTAssertEqual(s.renders.last?.samples.lowerBound, (RenderInfo.kept + 9) * 100)
    }
}
