import Foundation
import JukeboxCore

/// Writes each clip to `<folder>/audition-<title>.wav` (16-bit or float, as the format says) when it is
/// drained: the audition for a machine with no sound card. The file is written atomically.
public final class WAVFileSink: AudioSink {
    /// Set from the UI thread (the studio opened another session) while the player thread opens clips:
    /// each clip takes the folder as it was when it opened.
    public var folder: String {
        get { folderLock.lock(); defer { folderLock.unlock() }; return folderPath }
        set { folderLock.lock(); folderPath = newValue; folderLock.unlock() }
    }
    private var folderPath: String
    private let folderLock = NSLock()
    public let format: PCMFormat
    /// The file the last drained clip went to.
    public private(set) var lastFile: String?
    private var pending: [Float] = []
    private var sampleRate = 0
    private var channels = 1
    private var path: String?

    public init(folder: String, format: PCMFormat = .s16LE) {
        self.folderPath = folder
        self.format = format
    }

    public var name: String { "WAV \(folder)" }
    public var writtenFile: String? { lastFile }
    public var isRealtime: Bool { false }

    /// A file name from a title: letters, digits and dashes only.
    public static func fileName(for title: String) -> String {
        let slug = title.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
            .split(separator: "-", omittingEmptySubsequences: true).joined(separator: "-")
        return "audition-\(slug.isEmpty ? "clip" : String(slug.prefix(60))).wav"
    }

    public func open(sampleRate: Int, channels: Int, title: String) throws {
        guard sampleRate > 0, channels > 0 else { throw AudioOutputError(name, "bad stream \(sampleRate) Hz × \(channels)") }
        let folder = self.folder
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw AudioOutputError(folder, "cannot create the folder (\(error.localizedDescription))")
        }
        self.sampleRate = sampleRate
        self.channels = channels
        pending = []
        path = (folder as NSString).appendingPathComponent(Self.fileName(for: title))
    }

    public func write(_ samples: UnsafeBufferPointer<Float>) throws {
        guard path != nil else { throw AudioOutputError(name, "write before open") }
        pending += samples
    }

    public func drain() throws {
        guard let path else { throw AudioOutputError(name, "drain before open") }
        try AudioFile.writeWAV(path, samples: pending, channels: channels, sampleRate: sampleRate,
                               format: format == .s16LE ? .pcm16 : .float32)
        lastFile = path
        pending = []
    }

    public func close() {
        pending = []
        path = nil
    }
}
