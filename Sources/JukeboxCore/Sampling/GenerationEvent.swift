import Foundation

/// What a generation run reports as it goes (for the CLI's progress and the studio's live view).
public enum GenerationEvent: Sendable, Equatable {
    /// Codes just sampled: samples × positions, row-major (samples outer).
    case tokensSampled(level: Int, samples: Range<Int>, positions: Range<Int>, values: [Int])
    case windowStarted(level: Int, index: Int, start: Int, length: Int)
    case windowFinished(level: Int, index: Int, start: Int, length: Int)
    case levelFinished(level: Int)
    /// Audio of a just-finished window (when the prompt asks for renders while sampling): `audio` holds
    /// one row per sample of `samples` audio samples, decoded from this level's codes alone — a rough
    /// preview at the top level, refined by the levels below.
    case audioDecoded(level: Int, samples: Range<Int>, audio: [[Float]])
    /// Positions sampled so far at this level out of those planned; tokens per second counts every sample.
    case progress(level: Int, done: Int, total: Int, tokensPerSecond: Double, eta: Double)
    case cancelled
    case failed(String)
}

/// Set from any thread; the generator checks it between tokens and stops, keeping what it sampled.
public final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    public init() {}

    public func cancel() { lock.lock(); value = true; lock.unlock() }

    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
