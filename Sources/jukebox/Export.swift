import ArgumentParser
import Foundation
import JukeboxCore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Timed lyrics of a session: an LRC file beside each sample's audio, and a listening page.",
        discussion: """
            The session's alignment (alignment.json, made from the top prior's alignment layer and head when \
            missing or older than the session's codes) gives each line and word its time. --lrc writes \
            render-levelL-sampleI.lrc beside each rendered WAV (sampleI.lrc where none is rendered) in the \
            enhanced form karaoke players read; --html writes lyrics.html, one page with every sample's audio \
            and its lyrics lit as it plays. With neither, both.
            """)

    @Argument(help: "Session folder (from `jukebox sample` or the studio).") var session: String
    @Flag(help: "Write an LRC file per sample.") var lrc = false
    @Flag(help: "Write the listening page (lyrics.html).") var html = false

    func run() throws {
        let lock = try SessionLock.acquire(session, .write)
        defer { lock.release() }
        let (folder, document) = try SessionFolder.open(session)
        let models = try ModelSet.load(try BundledModel.resolve(document.modelSet))
        let alignment = try Progress.task("aligning the lyrics") {
            try SessionAlignment.current(folder: folder, document: document, models: models)
        }
        let (both, prompt) = (!lrc && !html, document.prompt)
        let renders = folder.finestRenders()
        let name = (URL(fileURLWithPath: session).standardizedFileURL.lastPathComponent)
        func audio(_ i: Int) -> String? {
            guard let files = renders?.files, i < files.count else { return nil }
            return (files[i] as NSString).lastPathComponent
        }
        if lrc || both {
            for (i, a) in alignment.samples.enumerated() {
                let base = audio(i).map { ($0 as NSString).deletingPathExtension } ?? "sample\(i + 1)"
                let path = (folder.path as NSString).appendingPathComponent(base + ".lrc")
                let text = LRC.text(a, artist: prompt.artist, title: "\(prompt.genre) — \(name), sample \(i + 1)", why: alignment.note)
                try AtomicFile.write(Data(text.utf8), to: path)
                Log.note("wrote \(path)")
            }
        }
        if html || both {
            let page = ListeningPage.html(
                title: "\(prompt.artist) — \(prompt.genre)", subtitle: "\(name): \(prompt.samples) sample(s) of \(String(format: "%.1f", prompt.sampleSeconds)) s",
                note: alignment.note,
                samples: alignment.samples.enumerated().map { i, a in .init(title: "Sample \(i + 1)", audio: audio(i), alignment: a) })
            let path = (folder.path as NSString).appendingPathComponent("lyrics.html")
            try AtomicFile.write(Data(page.utf8), to: path)
            Log.note("wrote \(path)")
        }
    }
}
