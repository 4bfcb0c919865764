import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// Messages for people go to stderr so stdout stays clean for JSON and pipes.
enum Log {
    static func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}

/// Progress of long work: a live line on a terminal; off one, a plain line now and then (PlainProgress).
enum Progress {
    static let isTerminal = isatty(STDERR_FILENO) != 0

    static func task<T>(_ label: String, _ work: () throws -> T) rethrows -> T {
        let start = Date()
        if isTerminal { FileHandle.standardError.write(Data("\(label)…".utf8)) }
        let result = try work()
        if isTerminal {
            FileHandle.standardError.write(Data("\r\(label): done in \(String(format: "%.2f", Date().timeIntervalSince(start))) s\n".utf8))
        }
        return result
    }

    /// A bar redrawn in place: `[#####.....] 50% 120.0 tok/s ETA 4s`.
    final class Bar {
        let label: String, total: Int
        let start = Date()
        private var last = Date.distantPast
        private var finished = false
        private var plain = PlainProgress()

        init(_ label: String, total: Int) {
            self.label = label
            self.total = max(total, 1)
        }

        func update(_ done: Int, unit: String = "it", suffix: String = "") {
            guard Progress.isTerminal else {
                if let line = plain.line(label: label, done: done, total: total, unit: unit, elapsed: Date().timeIntervalSince(start)) {
                    Log.note(line)
                }
                return
            }
            guard !finished, Date().timeIntervalSince(last) > 0.1 || done >= total else { return }
            last = Date()
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(done) / max(elapsed, 1e-9)
            let eta = rate > 0 ? Double(total - done) / rate : 0
            let filled = 30 * min(max(done, 0), total) / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
            // \e[K clears what a longer previous line left behind.
            let line = String(format: "\r%@ [%@] %3d%% %.1f %@/s ETA %.0fs%@\u{1B}[K", label, bar, 100 * min(done, total) / total, rate, unit, eta, suffix)
            FileHandle.standardError.write(Data(line.utf8))
            if done >= total {
                finished = true
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
    }
}

/// A wall-clock limit on a training run: when it passes it raises the run's cancel flag (the run stops
/// after the step under way and saves, as on Ctrl-C), and `reached` tells the two apart.
final class TimeLimit: @unchecked Sendable {
    private let flag = CancelFlag()
    var reached: Bool { flag.isCancelled }

    init(minutes: Double?, cancel: CancelFlag) {
        guard let minutes else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + minutes * 60) { [flag] in
            flag.cancel()
            cancel.cancel()
        }
    }
}

/// Turns the named signals into a cancel request instead of an abrupt exit, so long work (sampling,
/// training) stops at its next safe point and keeps what it has; `stop()` gives the signals back.
final class InterruptRequests {
    private var sources: [DispatchSourceSignal] = []

    init(_ signals: [Int32], cancelling flag: CancelFlag) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { flag.cancel() }
            source.resume()
            sources.append(source)
        }
    }

    func stop() { sources.forEach { $0.cancel() } }
}
