import Foundation
import JukeboxCore
import XCTest

/// `jukebox export`: timed lyrics of a session as LRC files and a listening page, as a user makes them.
final class ExportCommandTests: XCTestCase {
    static let lyrics = "la la love\nmy night is long\n\nthe end"

    /// A session with lyrics: an LRC beside each sample's WAV that a karaoke player can read (lines in order and
    /// inside the clip, words in order, each line's words those of a lyric line), alignment.json saved, and a page
    /// that lights the word sung at a given moment in a real browser.
    func testLRCAndPageFollowTheAlignment() throws {
        let dir = temporaryFolder(self)
        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "-o", dir + "/set"]).status, 0)
        let sampled = try CLI.run(["sample", "--model", dir + "/set", "--genre", "jazz", "--artist", RandomModelSet.artists[0],
                                   "--lyrics", Self.lyrics, "--seconds", "4", "--samples", "2", "-o", dir + "/s"])
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let r = try CLI.run(["export", dir + "/s"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let alignment = try XCTUnwrap(try SessionAlignment.load(SessionFolder(path: dir + "/s")))
        XCTAssertEqual(alignment.samples.count, 2)
        let (_, document) = try SessionFolder.open(dir + "/s")
        XCTAssertEqual(alignment.codesFile, document.codesFile)
        let renders = try XCTUnwrap(SessionFolder(path: dir + "/s").finestRenders()).files
        XCTAssertEqual(renders.count, 2)
        let lyricLines = Self.lyrics.split(separator: "\n").map(String.init)
        for (i, wav) in renders.enumerated() {
            let lrc = try String(contentsOfFile: (wav as NSString).deletingPathExtension + ".lrc", encoding: .utf8)
            let parsed = try Self.parseLRC(lrc)
            XCTAssertEqual(parsed.length, 4, accuracy: 0.05)
            XCTAssertEqual(parsed.lines.map(\.time), parsed.lines.map(\.time).sorted(), lrc)
            var nextLyric = 0
            for (n, line) in parsed.lines.enumerated() {
                XCTAssertTrue(line.time >= 0 && line.time <= parsed.length, lrc)
                XCTAssertEqual(line.words.map(\.time), line.words.map(\.time).sorted(), lrc)
                XCTAssertEqual(line.words.first?.time, line.time)
                // Each line is one of the lyric lines, in order; the clip may end inside the last one.
                let words = line.words.map(\.text)
                let at = try XCTUnwrap(lyricLines[nextLyric...].firstIndex {
                    let lyric = $0.split(separator: " ").map(String.init)
                    return lyric == words || (n == parsed.lines.count - 1 && lyric.starts(with: words))
                }, "\(words) among the lyric lines: \(lrc)")
                nextLyric = at + 1
            }
            XCTAssertEqual(parsed.lines.count, alignment.samples[i].lines.count)
        }
        let page = dir + "/s/lyrics.html"
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertFalse(html.contains("http"), "no network")
        for wav in renders { XCTAssertTrue(html.contains("src=\"\((wav as NSString).lastPathComponent)\"")) }
        // In a browser, at the middle of a word the first sample sings, that word is lit and its line is current.
        let word = try XCTUnwrap(alignment.samples[0].words.first { $0.end - $0.start > 0.02 }, "a word with a span")
        let t = (word.start + word.end) / 2
        guard let dom = try Self.renderedDOM(page, moment: t) else { return }
        let first = try XCTUnwrap(dom.range(of: "id=\"sample-1\"")).upperBound
        let section = String(dom[first...].prefix { _ in true }).components(separatedBy: "</section>")[0]
        let lit = Self.matches(#"<span class="word current"[^>]*>([^<]*)</span>"#, in: section)
        XCTAssertTrue(lit.contains(word.text), "at \(t) s the page lights \(lit), expected \(word.text)")
        XCTAssertEqual(Self.matches(#"<p class="line sung current""#, in: section).count, 1, section)
    }

    /// No lyrics, or none the model can see: an LRC with its tags and a comment saying so, a page without lyrics.
    func testInstrumentalAndUnseenLyricsGiveEmptyTimedLyrics() throws {
        let dir = temporaryFolder(self)
        XCTAssertEqual(try CLI.run(["model", "random", "--preset", "tiny", "-o", dir + "/set"]).status, 0)
        for (name, lyrics) in [("instrumental", ""), ("unseen", "☃☃ ♪♪")] {
            let sampled = try CLI.run(["sample", "--model", dir + "/set", "--genre", "jazz", "--artist", RandomModelSet.artists[0],
                                       "--lyrics", lyrics, "--seconds", "2", "--levels", "top", "-o", dir + "/" + name])
            XCTAssertEqual(sampled.status, 0, sampled.stderr)
            let r = try CLI.run(["export", dir + "/" + name, "--lrc", "--html"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/" + name).filter { $0.hasSuffix(".lrc") }
            XCTAssertEqual(files.count, 1, "\(files)")
            let lrc = try String(contentsOfFile: dir + "/\(name)/" + files[0], encoding: .utf8)
            XCTAssertTrue(lrc.contains("# no lyrics are sung in this sample"), lrc)
            XCTAssertEqual(try Self.parseLRC(lrc).lines.count, 0)
            let html = try String(contentsOfFile: dir + "/\(name)/lyrics.html", encoding: .utf8)
            XCTAssertFalse(html.contains("class=\"line\""))
            XCTAssertTrue(html.contains("No lyrics are sung in this sample"))
        }
        assertCleanFailure(try CLI.run(["export", dir + "/nowhere"]), naming: dir + "/nowhere")
    }

    struct ParsedLRC {
        struct Word { let time: Double; let text: String }
        struct Line { let time: Double; let words: [Word] }
        var length = 0.0
        var lines: [Line] = []
    }

    /// Reads enhanced LRC strictly: tags, `#` comments and `[mm:ss.xx]<mm:ss.xx>word ...` lines, nothing else.
    static func parseLRC(_ text: String) throws -> ParsedLRC {
        func seconds(_ s: Substring) throws -> Double {
            let parts = s.split(separator: ":")
            guard parts.count == 2, let m = Double(parts[0]), let sec = Double(parts[1]) else { throw JukeboxError("lrc", "bad time \(s)") }
            return m * 60 + sec
        }
        var out = ParsedLRC()
        for raw in text.split(separator: "\n") {
            let line = Substring(raw)
            if line.hasPrefix("#") { continue }
            guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { throw JukeboxError("lrc", "bad line \(line)") }
            let tag = line[line.index(after: line.startIndex)..<close]
            if tag.hasPrefix("length:") { out.length = try seconds(tag.dropFirst("length:".count)); continue }
            if tag.first?.isLetter == true { continue }
            let time = try seconds(tag)
            var words: [ParsedLRC.Word] = []
            for piece in line[line.index(after: close)...].split(separator: "<").filter({ !$0.isEmpty }) {
                guard let end = piece.firstIndex(of: ">") else { throw JukeboxError("lrc", "bad word \(piece)") }
                words.append(.init(time: try seconds(piece[..<end]), text: piece[piece.index(after: end)...].trimmingCharacters(in: .whitespaces)))
            }
            out.lines.append(.init(time: time, words: words))
        }
        return out
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
            let r = m.numberOfRanges > 1 ? m.range(at: 1) : m.range
            return String(text[Range(r, in: text)!])
        }
    }

    /// The page's DOM after its scripts ran, opened at `#t=moment` in headless Chromium; nil (a skip notice) when
    /// Chromium is not installed, a failure under CI.
    static func renderedDOM(_ page: String, moment: Double) throws -> String? {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("chromium missing under CI") }
            print("notice: chromium not installed (Debian's chromium package): the page is not opened in a browser")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        let profile = NSTemporaryDirectory() + "chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
                             "--dump-dom", "file://\(page)#t=\(String(format: "%.3f", moment))"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
