/// A sound card if one opens, else another sink (a WAV file): a machine without a sound card still
/// auditions, into a file. Once the card failed to open the fallback is kept, so the error is said once.
public final class FallbackSink: AudioSink {
    public let primary: AudioSink
    public let fallback: AudioSink
    /// Why the primary sink could not be used (nil while it works).
    public private(set) var reason: String?
    private var current: AudioSink?

    public init(primary: AudioSink, fallback: AudioSink) {
        self.primary = primary
        self.fallback = fallback
    }

    /// The sink the current (or next) clip goes to.
    public var active: AudioSink { current ?? (reason == nil ? primary : fallback) }
    public var name: String { active.name }
    public var isRealtime: Bool { active.isRealtime }
    public var writtenFile: String? { active.writtenFile }
    public var fallbackReason: String? { reason }

    /// Opens and closes the primary sink once, so a missing card is known before the first clip.
    /// Call it before any clip plays (the sink has no lock of its own). Returns the reason, if any.
    @discardableResult
    public func probe(sampleRate: Int, channels: Int = 1) -> String? {
        guard reason == nil, current == nil else { return reason }
        do {
            try primary.open(sampleRate: sampleRate, channels: channels, title: "probe")
            primary.close()
        } catch {
            reason = "\(error)"
        }
        return reason
    }

    public func open(sampleRate: Int, channels: Int, title: String) throws {
        if reason == nil {
            do {
                try primary.open(sampleRate: sampleRate, channels: channels, title: title)
                current = primary
                return
            } catch {
                reason = "\(error)"
            }
        }
        try fallback.open(sampleRate: sampleRate, channels: channels, title: title)
        current = fallback
    }

    public func write(_ samples: UnsafeBufferPointer<Float>) throws {
        guard let current else { throw AudioOutputError(name, "write before open") }
        try current.write(samples)
    }

    public func drain() throws { try current?.drain() }

    public func close() {
        current?.close()
        current = nil
    }
}
