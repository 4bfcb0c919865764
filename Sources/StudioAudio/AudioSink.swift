import Foundation

/// How samples travel to a sink: 16-bit signed or 32-bit float, little-endian, interleaved.
public enum PCMFormat: String, Sendable, CaseIterable {
    case s16LE = "S16_LE"
    case float32LE = "FLOAT_LE"

    public var bytesPerSample: Int { self == .s16LE ? 2 : 4 }

    /// The bytes a sink of this format is handed for `samples`: what a device (or ALSA's file plugin)
    /// receives. 16-bit clips to [-1, 1] and rounds, as libsndfile does when it writes 16-bit WAVs.
    public func bytes<C: Collection>(_ samples: C) -> [UInt8] where C.Element == Float {
        var out = [UInt8]()
        out.reserveCapacity(samples.count * bytesPerSample)
        for x in samples {
            switch self {
            case .s16LE:
                let v = Int16(clamping: Int((min(max(x.isNaN ? 0 : x, -1), 1) * 32767).rounded()))
                withUnsafeBytes(of: v.littleEndian) { out += $0 }
            case .float32LE:
                withUnsafeBytes(of: x.bitPattern.littleEndian) { out += $0 }
            }
        }
        return out
    }
}

/// Somewhere audio goes: a sound card, a file, nowhere. One clip is one open…write…drain…close.
/// Only the playback thread calls a sink, so implementations need no locking of their own.
public protocol AudioSink: AnyObject {
    /// For the status line: "ALSA default", "WAV /tmp/x.wav", "null".
    var name: String { get }
    /// True when `write` is paced by a clock (a sound card): the player then reports its position as it goes.
    var isRealtime: Bool { get }
    /// Prepares for mono or interleaved audio at `sampleRate`; `title` names what is played (a file sink
    /// uses it for its file name).
    func open(sampleRate: Int, channels: Int, title: String) throws
    /// Queues interleaved samples in [-1, 1]; a sound card blocks until there is room.
    func write(_ samples: UnsafeBufferPointer<Float>) throws
    /// Waits until everything written has been played (or stored).
    func drain() throws
    /// Releases the device or file; what was not drained is dropped. Safe to call twice.
    func close()
    /// The file the last drained clip was written to (file sinks only).
    var writtenFile: String? { get }
    /// Why this sink stands in for a sound card that failed (fallback sinks only).
    var fallbackReason: String? { get }
}

extension AudioSink {
    public var writtenFile: String? { nil }
    public var fallbackReason: String? { nil }
}

public struct AudioOutputError: Error, CustomStringConvertible, Equatable {
    public var sink: String
    public var message: String
    public init(_ sink: String, _ message: String) {
        self.sink = sink
        self.message = message
    }
    public var description: String { "\(sink): \(message)" }
}

/// Plays nothing, instantly; counts what it was given (for tests and `--audio null`).
public final class NullSink: AudioSink {
    public private(set) var framesWritten = 0
    public private(set) var opened = 0
    private var channels = 1
    public init() {}
    public var name: String { "null" }
    public var isRealtime: Bool { false }
    public func open(sampleRate: Int, channels: Int, title: String) throws {
        self.channels = max(1, channels)
        opened += 1
    }
    public func write(_ samples: UnsafeBufferPointer<Float>) throws { framesWritten += samples.count / channels }
    public func drain() throws {}
    public func close() {}
}
