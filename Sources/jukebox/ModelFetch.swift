import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

struct ModelFetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download a published Jukebox (\(PublishedModel.names.joined(separator: ", "))) and convert it into a model set.",
        discussion: """
            Fetches the VQ-VAE, the named top prior and the two upsamplers from the reference's checkpoint \
            location, and the v2 and v3 artist and genre lists from the reference's repository, then converts \
            each with its preset into a set that sample, info and the studio take at once. Work in progress \
            lives in OUTPUT.partial: a cut download resumes where it stopped (Ctrl-C keeps what arrived), and \
            a finished file is never fetched twice. The set appears whole, with fetch.json recording the URLs, \
            sizes and SHA-256 of what was fetched and of every file it holds (see `jukebox model verify`). \
            Locations: --base-url or $\(PublishedModel.checkpointsURLVariable) (default \(PublishedModel.defaultCheckpointsURL)), \
            --labels-url or $\(PublishedModel.labelsURLVariable) (default \(PublishedModel.defaultLabelsURL)); \
            http, https, file:// or a folder, laid out as the reference's jukebox/models/... and jukebox/data/ids/....
            """)

    @Argument(help: "The published set: \(PublishedModel.names.joined(separator: ", ")).") var name: String
    @Option(name: .shortAndLong, help: "The model set folder to write.") var output: String
    @Option(help: "The priors' weight format (\(WeightFormat.names)): f16 keeps the published weights exactly; q8 and q4 are smaller and faster.")
    var format: String = "f16"
    @Option(help: "Where the checkpoints are (a URL or folder holding jukebox/models/...).") var baseURL: String?
    @Option(help: "Where the label id lists are (a URL or folder holding jukebox/data/ids/...).") var labelsURL: String?

    func run() throws {
        guard let model = PublishedModel.named(name) else {
            throw JukeboxError(name, "not a published model (known: \(PublishedModel.names.joined(separator: ", ")))")
        }
        guard let weightFormat = WeightFormat(rawValue: format) else {
            throw JukeboxError("--format", "unknown weight format \(format) (known: \(WeightFormat.names))")
        }
        let environment = ProcessInfo.processInfo.environment
        let checkpoints = try PublishedModel.location(
            baseURL ?? environment[PublishedModel.checkpointsURLVariable] ?? PublishedModel.defaultCheckpointsURL)
        let labels = try PublishedModel.location(
            labelsURL ?? environment[PublishedModel.labelsURLVariable] ?? PublishedModel.defaultLabelsURL)

        let cancel = CancelFlag()
        let interrupts = InterruptRequests([SIGINT, SIGTERM, SIGHUP], cancelling: cancel)
        defer { interrupts.stop() }
        let display = FetchDisplay()
        let request = ModelFetcher.Request(model: model, output: output, checkpoints: checkpoints, labels: labels, format: weightFormat)
        let outcome = try ModelFetcher(request, cancel: cancel, events: display.show).run()
        display.finish()
        switch outcome {
        case .fetched(let record):
            let bytes = record.files.reduce(Int64(0)) { $0 + $1.bytes }
            print("\(output): \(model.name) (\(record.format)), \(record.files.count) files, \(ByteCount.text(bytes)); "
                  + "try: jukebox sample --model \(output) --genre ... --artist ...")
        case .alreadyPresent(let record):
            print("\(output): \(record.model) (\(record.format)) already fetched and intact (\(record.files.count) files checked)")
        }
    }
}

struct ModelVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a fetched model set's files against the sizes and SHA-256 recorded in its fetch.json.")

    @Argument(help: "A model set written by `jukebox model fetch`.") var set: String

    func run() throws {
        let display = FetchDisplay()
        let (record, problems) = try FetchRecord.verify(set: set) { display.show(.hashing(file: $0, done: $1, total: $2)) }
        display.finish()
        for p in problems { Log.note("jukebox: \(p)") }
        guard problems.isEmpty else { throw ExitCode(1) }
        let bytes = record.files.reduce(Int64(0)) { $0 + $1.bytes }
        print("\(set): \(record.files.count) files, \(ByteCount.text(bytes)), all as fetched (\(record.model), \(record.fetched))")
    }
}

/// Sizes as people read them.
enum ByteCount {
    static func text(_ bytes: Int64) -> String {
        let b = Double(bytes)
        if b >= 1e9 { return String(format: "%.2f GB", b / 1e9) }
        if b >= 1e6 { return String(format: "%.1f MB", b / 1e6) }
        if b >= 1e3 { return String(format: "%.1f kB", b / 1e3) }
        return "\(bytes) B"
    }
}

/// A fetch's progress on stderr: a live byte bar per download on a terminal (size, rate, ETA), one line
/// per finished step when piped.
final class FetchDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private var current: String?
    private var start = Date()
    private var startBytes: Int64 = 0
    private var lastDraw = Date.distantPast

    func show(_ event: ModelFetcher.Event) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case .downloading(let url, let received, let total):
            let name = (url as NSString).lastPathComponent
            if current != url {
                endLine()
                current = url
                start = Date()
                startBytes = received
                if !Progress.isTerminal { Log.note("downloading \(url)" + (received > 0 ? " (resuming at \(ByteCount.text(received)))" : "")) }
            }
            guard Progress.isTerminal, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            draw(name, received, total)
        case .downloaded(let url, let bytes):
            if Progress.isTerminal { draw((url as NSString).lastPathComponent, bytes, bytes) }
            endLine()
            if !Progress.isTerminal { Log.note("downloaded \(url) (\(ByteCount.text(bytes)))") }
        case .hashing(let file, let done, let total):
            guard Progress.isTerminal, Date().timeIntervalSince(lastDraw) > 0.1 || done >= total else { return }
            lastDraw = Date()
            let percent = total > 0 ? Int(100 * done / total) : 100
            FileHandle.standardError.write(Data("\rchecking \((file as NSString).lastPathComponent) \(percent)%\u{1B}[K".utf8))
            current = "hashing"
        case .step(let text):
            endLine()
            Log.note(text)
        case .warning(let text):
            endLine()
            Log.note("warning: \(text)")
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        endLine()
    }

    private func draw(_ name: String, _ received: Int64, _ total: Int64?) {
        let elapsed = max(Date().timeIntervalSince(start), 1e-3)
        let rate = Double(received - startBytes) / elapsed
        var line = "\r\(name) "
        if let total, total > 0 {
            let filled = Int(30 * received / total)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] "
            line += "\(ByteCount.text(received)) of \(ByteCount.text(total)) "
            line += "\(ByteCount.text(Int64(rate)))/s"
            if rate > 0 { line += String(format: " ETA %.0fs", Double(total - received) / rate) }
        } else {
            line += "\(ByteCount.text(received)) \(ByteCount.text(Int64(rate)))/s"
        }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    private func endLine() {
        if current != nil, Progress.isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        current = nil
    }
}

struct ModelList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the published models `model fetch` gets, with their parameters and size in each weight format.")

    func run() throws {
        let formats: [WeightFormat] = [.f32, .f16, .q8, .q4]
        func column(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        func count(_ n: Int) -> String { n >= 100_000_000 ? String(format: "%.2fB", Double(n) / 1e9) : String(format: "%.1fM", Double(n) / 1e6) }
        print(column("", 31) + formats.map { column($0.rawValue, 10) }.joined())
        for model in PublishedModel.all {
            let order = ["prior_level_2", "prior_level_1", "prior_level_0", "vqvae"]
            let members = try model.weights().sorted { order.firstIndex(of: $0.folder)! < order.firstIndex(of: $1.folder)! }
            print("\(model.name): \(model.summary)")
            print("  parameters: " + members.map { "\($0.folder) \(count($0.parameters))" }.joined(separator: ", "))
            let top = members.first { $0.folder == "prior_level_2" }!
            print(column("  set on disk", 31) + formats.map { f in column(ByteCount.text(Int64(members.reduce(0) { $0 + $1.bytes(f) })), 10) }.joined())
            print(column("  top prior (memory to sample)", 31) + formats.map { column(ByteCount.text(Int64(top.bytes($0))), 10) }.joined())
        }
        print("Sampling maps the set and reads one prior at a time, so memory is about the top prior's size plus its cache.")
    }
}
