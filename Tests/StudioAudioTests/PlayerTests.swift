import Foundation
import XCTest
@testable import StudioAudio

/// A sink that takes time like a sound card (a tenth of real time) and records what it was given,
/// so pause, seek and stop can be watched from the writes.
final class PacedSink: AudioSink, @unchecked Sendable {
    private let lock = NSLock()
    private var written: [Float] = []
    private var rate = 1
    var name: String { "paced" }
    var isRealtime: Bool { true }
    func open(sampleRate: Int, channels: Int, title: String) throws { rate = sampleRate }
    func write(_ samples: UnsafeBufferPointer<Float>) throws {
        usleep(useconds_t(Double(samples.count) / Double(rate) * 100_000))
        lock.lock(); written += samples; lock.unlock()
    }
    func drain() throws {}
    func close() {}
    var samples: [Float] { lock.lock(); defer { lock.unlock() }; return written }
}

final class PlayerTests: XCTestCase {
    /// A ramp, so where each written sample came from in the clip can be read off its value.
    let clip = Clip(samples: (0..<8000).map { Float($0) / 8000 }, sampleRate: 1000, title: "ramp")

    func waitFor(_ what: String, seconds: Double = 10, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { usleep(5_000) }
        XCTAssertTrue(condition(), "timed out waiting for \(what)")
    }

    func testPauseHoldsTheWritesAndResumeGoesOn() {
        let sink = PacedSink(), reports = Reports()
        let player = Player(sink: sink, speed: 10) { reports.add($0) }
        defer { player.shutdown() }
        player.play(clip)
        waitFor("some audio") { sink.samples.count >= 1000 }
        XCTAssertTrue(player.togglePause())
        waitFor("the pause report") { reports.all.contains { $0.phase == .paused } }
        // A chunk in flight when the pause came may still land: wait until the writes settle.
        var held = sink.samples.count
        for _ in 0..<20 {
            usleep(100_000)
            if sink.samples.count == held { break }
            held = sink.samples.count
        }
        usleep(300_000)
        XCTAssertEqual(sink.samples.count, held, "nothing is written while paused")
        XCTAssertLessThan(held, clip.samples.count)
        player.togglePause()
        waitFor("the end") { player.isIdle }
        XCTAssertEqual(sink.samples, clip.samples, "paused and resumed, every sample once, in order")
        XCTAssertEqual(reports.last?.phase, .finished)
    }

    func testSeekSkipsForwardAndBack() {
        let sink = PacedSink(), reports = Reports()
        let player = Player(sink: sink, speed: 10) { reports.add($0) }
        defer { player.shutdown() }
        player.play(clip)
        waitFor("some audio") { sink.samples.count >= 500 }
        player.seek(by: 5)
        waitFor("the end") { player.isIdle }
        let got = sink.samples
        XCTAssertLessThan(got.count, clip.samples.count - 4000, "five of the eight seconds were skipped")
        XCTAssertEqual(got.last, clip.samples.last, "it played to the end")
        let jumps = zip(got, got.dropFirst()).filter { $1 - $0 > 10 / 8000 }
        XCTAssertEqual(jumps.count, 1, "one jump forward")

        let back = PacedSink()
        let player2 = Player(sink: back, speed: 10) { _ in }
        defer { player2.shutdown() }
        player2.play(clip, from: 4)
        waitFor("some audio") { back.samples.count >= 500 }
        player2.seek(by: -100)
        waitFor("the end") { player2.isIdle }
        XCTAssertTrue(back.samples.contains(0), "seeking back past the start lands on the start")
        XCTAssertEqual(back.samples.first, clip.samples[4000])
    }

    func testStopEndsTheClipAndPlayReplacesIt() {
        let sink = PacedSink(), reports = Reports()
        let player = Player(sink: sink, speed: 10) { reports.add($0) }
        defer { player.shutdown() }
        player.play(clip)
        waitFor("some audio") { sink.samples.count >= 500 }
        player.stop()
        waitFor("the stop") { reports.all.contains { $0.phase == .stopped } && player.isIdle }
        XCTAssertLessThan(sink.samples.count, clip.samples.count)
        XCTAssertFalse(player.togglePause(), "nothing left to pause")

        let other = Clip(samples: [Float](repeating: -0.5, count: 300), sampleRate: 1000, title: "other")
        player.play(clip)
        waitFor("some audio") { sink.samples.count >= 1000 }
        player.play(other)
        waitFor("the end") { player.isIdle && reports.last?.title == "other" }
        XCTAssertEqual(Array(sink.samples.suffix(300)), other.samples, "the new clip played whole after the old one stopped")
        XCTAssertEqual(reports.last?.phase, .finished)
    }

    /// The volume scales what is written from the next chunk on, clipped at full scale.
    func testVolumeScalesTheSamplesWritten() {
        let sink = PacedSink(), reports = Reports()
        let player = Player(sink: sink, speed: 10) { reports.add($0) }
        defer { player.shutdown() }
        player.volume = 0.5
        XCTAssertEqual(player.volume, 0.5)
        player.play(clip)
        waitFor("the end") { player.isIdle && sink.samples.count == clip.samples.count }
        XCTAssertEqual(sink.samples, clip.samples.map { $0 * 0.5 })
        player.volume = 9
        XCTAssertEqual(player.volume, 2, "at most twice as loud")
        let loud = PacedSink()
        let second = Player(sink: loud, speed: 10) { _ in }
        defer { second.shutdown() }
        second.volume = 2
        second.play(clip)
        waitFor("the end") { second.isIdle && loud.samples.count == clip.samples.count }
        XCTAssertEqual(loud.samples, clip.samples.map { min($0 * 2, 1) })
    }

    /// A device that takes audio faster than it plays (ALSA's null device) is held to the clock: a second of
    /// audio takes at least half a second (the lead it may run ahead), and positions are reported along the way.
    func testADeviceThatDoesNotWaitIsHeldToTheClock() {
        final class Instant: AudioSink, @unchecked Sendable {
            var name: String { "instant" }
            var isRealtime: Bool { true }
            func open(sampleRate: Int, channels: Int, title: String) throws {}
            func write(_ samples: UnsafeBufferPointer<Float>) throws {}
            func drain() throws {}
            func close() {}
        }
        let reports = Reports()
        let player = Player(sink: Instant()) { reports.add($0) }
        defer { player.shutdown() }
        let started = Date()
        player.play(Clip(samples: [Float](repeating: 0, count: 1000), sampleRate: 1000, title: "second"))
        waitFor("the end") { reports.all.contains { $0.phase == .finished } }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1 - Player.lead - 0.05)
        let positions = reports.all.filter { $0.phase == .playing }.map(\.position)
        XCTAssertEqual(positions, positions.sorted())
        XCTAssertGreaterThanOrEqual(positions.count, 10, "a report for every chunk")
    }
}
