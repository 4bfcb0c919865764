import Foundation
import JukeboxCore
import XCTest
@testable import StudioAudio

final class SinkTests: XCTestCase {
    func testPCMBytes() {
        // 16-bit: scaled by 32767, rounded, clipped; NaN is silence. Little-endian.
        XCTAssertEqual(PCMFormat.s16LE.bytes([0, 1, -1, 0.5, 2, -3, .nan, 1.0 / 32767]),
                       [0, 0, 0xFF, 0x7F, 0x01, 0x80, 0x00, 0x40, 0xFF, 0x7F, 0x01, 0x80, 0, 0, 1, 0])
        // Float: the IEEE bits as they are.
        XCTAssertEqual(PCMFormat.float32LE.bytes([1, -0.5]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0xBF])
        XCTAssertEqual(PCMFormat.s16LE.bytesPerSample, 2)
        XCTAssertEqual(PCMFormat.float32LE.bytesPerSample, 4)
    }

    func testWAVSinkWritesFloatFilesNamedByTitle() throws {
        let folder = NSTemporaryDirectory() + "jukebox-wav-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let sink = WAVFileSink(folder: folder, format: .float32LE)
        let samples: [Float] = (0..<1000).map { Float($0 % 17) / 17 - 0.4 }
        try sink.open(sampleRate: 22050, channels: 1, title: "Candidate 2 · L2 top!")
        try samples.withUnsafeBufferPointer { try sink.write(UnsafeBufferPointer(rebasing: $0[0..<600])) }
        try samples.withUnsafeBufferPointer { try sink.write(UnsafeBufferPointer(rebasing: $0[600...])) }
        try sink.drain()
        sink.close()
        XCTAssertEqual(sink.lastFile, folder + "/audition-candidate-2-l2-top.wav")
        let back = try AudioFile.read(try XCTUnwrap(sink.lastFile))
        XCTAssertEqual(back.sampleRate, 22050)
        XCTAssertEqual(back.samples, samples, "a float WAV holds the samples exactly")
        XCTAssertEqual(WAVFileSink.fileName(for: "///"), "audition-clip.wav")
        XCTAssertThrowsError(try WAVFileSink(folder: folder).write(UnsafeBufferPointer(start: nil, count: 0)))
    }

    /// The studio opens another session: the next clip goes to that session's folder, a clip already
    /// open finishes where it began.
    func testWAVSinkFollowsItsFolder() throws {
        let root = NSTemporaryDirectory() + "jukebox-wav-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let sink = WAVFileSink(folder: root + "/first/auditions")
        let samples: [Float] = [0, 0.25, -0.25, 0.5]
        try sink.open(sampleRate: 8000, channels: 1, title: "one")
        sink.folder = root + "/second/auditions"
        try samples.withUnsafeBufferPointer { try sink.write($0) }
        try sink.drain()
        sink.close()
        XCTAssertEqual(sink.lastFile, root + "/first/auditions/audition-one.wav")
        try sink.open(sampleRate: 8000, channels: 1, title: "two")
        try samples.withUnsafeBufferPointer { try sink.write($0) }
        try sink.drain()
        sink.close()
        XCTAssertEqual(sink.lastFile, root + "/second/auditions/audition-two.wav")
        XCTAssertEqual(try AudioFile.read(root + "/second/auditions/audition-two.wav").samples.count, samples.count)
    }

    func testFallbackIsKeptOnceThePrimaryFailed() throws {
        final class Refusing: AudioSink {
            var tries = 0
            var name: String { "card" }
            var isRealtime: Bool { true }
            func open(sampleRate: Int, channels: Int, title: String) throws { tries += 1; throw AudioOutputError("card", "busy") }
            func write(_ samples: UnsafeBufferPointer<Float>) throws {}
            func drain() throws {}
            func close() {}
        }
        let card = Refusing(), null = NullSink()
        let sink = FallbackSink(primary: card, fallback: null)
        XCTAssertEqual(sink.name, "card")
        try sink.open(sampleRate: 100, channels: 1, title: "a")
        try sink.open(sampleRate: 100, channels: 1, title: "b")
        XCTAssertEqual(card.tries, 1, "the card is asked once")
        XCTAssertEqual(sink.probe(sampleRate: 100), "card: busy", "a probe after the failure does not ask again")
        XCTAssertEqual(card.tries, 1)
        let fresh = FallbackSink(primary: Refusing(), fallback: NullSink())
        XCTAssertEqual(fresh.probe(sampleRate: 100), "card: busy")
        XCTAssertNil(FallbackSink(primary: NullSink(), fallback: NullSink()).probe(sampleRate: 100))
        XCTAssertEqual(null.opened, 2)
        XCTAssertEqual(sink.reason, "card: busy")
        XCTAssertFalse(sink.isRealtime)
    }
}
