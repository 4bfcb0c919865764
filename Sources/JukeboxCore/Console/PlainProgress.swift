import Foundation

/// Progress written to a log rather than a terminal (nohup, CI, a pipe): a bar redrawn in place is noise
/// there, and printing nothing leaves a long run silent for minutes. So a plain line at most every
/// `interval` seconds, and a closing one when work that long finishes; short work prints nothing.
public struct PlainProgress: Sendable {
    public let interval: Double
    /// When the last line was printed, in seconds from the start (nil: none yet).
    private var lastLine: Double?
    private var finished = false

    public init(interval: Double = 30) { self.interval = interval }

    /// The line due at `elapsed` seconds with `done` of `total` finished, or nil when none is.
    public mutating func line(label: String, done: Int, total: Int, unit: String, elapsed: Double) -> String? {
        guard !finished else { return nil }
        let total = max(total, 1), done = min(max(done, 0), total)
        let count = unit.isEmpty ? "" : " (\(done)/\(total) \(unit))"
        if done == total {
            finished = true
            return elapsed >= interval ? "\(label): done\(count) in \(Self.duration(elapsed))" : nil
        }
        guard elapsed >= (lastLine ?? 0) + interval else { return nil }
        lastLine = elapsed
        let eta = done > 0 ? ", ETA \(Self.duration(elapsed / Double(done) * Double(total - done)))" : ""
        return "\(label): \(100 * done / total)%\(count) after \(Self.duration(elapsed))\(eta)"
    }

    /// `42s`, `3m 05s`, `1h 02m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm %02ds", s / 60, s % 60) }
        return String(format: "%dh %02dm", s / 3600, s % 3600 / 60)
    }
}
