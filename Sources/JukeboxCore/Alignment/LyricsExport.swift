import Foundation

/// Timed lyrics as karaoke players read them: enhanced LRC, a line's time in brackets and each word's in angle
/// brackets (`[00:12.34]<00:12.34>word <00:12.80>word`).
public enum LRC {
    /// mm:ss.xx (hundredths), minutes as many digits as needed.
    public static func stamp(_ seconds: Double) -> String {
        let centi = Int((max(seconds, 0) * 100).rounded())
        return String(format: "%02d:%02d.%02d", centi / 6000, centi / 100 % 60, centi % 100)
    }

    /// One sample's file. Without sung lines, the tags and a comment saying why.
    public static func text(_ a: LyricAlignment, artist: String, title: String, why: String?) -> String {
        var out = ["[ar:\(artist)]", "[ti:\(title)]", "[length:\(stamp(a.seconds))]", "[by:jukebox]"]
        if a.lines.isEmpty {
            out.append("# no lyrics are sung in this sample" + (why.map { " (\($0))" } ?? ""))
        } else {
            if a.method == "even" { out.append("# timed by spreading the words evenly over the song, not by the model") }
            for line in a.lines {
                out.append("[\(stamp(line.start))]" + line.words.map { "<\(stamp($0.start))>\($0.text)" }.joined(separator: " "))
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

/// One self-contained page for a session: each sample's audio (the WAV beside the page) with its lyrics lit as it
/// plays: the line being sung, its current word marked, lines not sung yet dimmed. No network and nothing else
/// outside the page. `#t=SECONDS` in the address shows (and seeks every sample to) that moment.
public enum ListeningPage {
    public struct Sample {
        public let title: String
        /// The WAV's file name, relative to the page (nil: not rendered).
        public let audio: String?
        public let alignment: LyricAlignment
        public init(title: String, audio: String?, alignment: LyricAlignment) {
            (self.title, self.audio, self.alignment) = (title, audio, alignment)
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    public static func html(title: String, subtitle: String, note: String?, samples: [Sample]) -> String {
        var body = ""
        for (i, s) in samples.enumerated() {
            body += "<section class=\"sample\" id=\"sample-\(i + 1)\">\n<h2>\(escape(s.title))</h2>\n"
            if let audio = s.audio {
                body += "<audio controls preload=\"metadata\" src=\"\(escape(audio))\"></audio>\n"
            } else {
                body += "<p class=\"note\">Not rendered to audio yet.</p>\n"
            }
            if s.alignment.lines.isEmpty {
                body += "<p class=\"note\">No lyrics are sung in this sample.</p>\n"
            } else {
                body += "<div class=\"lyrics\">\n"
                for line in s.alignment.lines {
                    body += String(format: "<p class=\"line\" data-start=\"%.3f\" data-end=\"%.3f\">", line.start, line.end)
                    body += line.words.map {
                        String(format: "<span class=\"word\" data-start=\"%.3f\" data-end=\"%.3f\">", $0.start, $0.end) + escape($0.text) + "</span>"
                    }.joined(separator: " ")
                    body += "</p>\n"
                }
                body += "</div>\n"
            }
            body += "</section>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body { font-family: sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em; background: #111; color: #eee; }
        h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; } .sub, .note { color: #999; }
        audio { width: 100%; }
        .line { font-size: 1.3em; margin: .3em 0; opacity: .35; transition: opacity .2s; }
        .line.sung { opacity: .7; } .line.current { opacity: 1; }
        .word.current { color: #ffd54a; text-decoration: underline; }
        </style></head><body>
        <h1>\(escape(title))</h1>
        <p class="sub">\(escape(subtitle))</p>
        \(note.map { "<p class=\"note\">\(escape($0))</p>" } ?? "")
        \(body)
        <script>
        // Lights the lines and words of one sample for playback time t (seconds).
        function light(section, t) {
          const lines = section.querySelectorAll('.line');
          lines.forEach((line, i) => {
            const start = +line.dataset.start;
            const next = i + 1 < lines.length ? +lines[i + 1].dataset.start : Infinity;
            line.classList.toggle('sung', start <= t);
            line.classList.toggle('current', start <= t && t < next);
          });
          section.querySelectorAll('.word').forEach(w => {
            w.classList.toggle('current', +w.dataset.start <= t && t < +w.dataset.end);
          });
        }
        document.querySelectorAll('.sample').forEach(section => {
          const audio = section.querySelector('audio');
          if (!audio) return;
          let frame = 0;
          const follow = () => { light(section, audio.currentTime); if (!audio.paused) frame = requestAnimationFrame(follow); };
          audio.addEventListener('play', () => { cancelAnimationFrame(frame); follow(); });
          audio.addEventListener('seeked', () => light(section, audio.currentTime));
          audio.addEventListener('timeupdate', () => light(section, audio.currentTime));
        });
        // #t=SECONDS: show that moment (and seek there).
        const moment = /^#t=([0-9.]+)$/.exec(location.hash);
        if (moment) {
          const t = parseFloat(moment[1]);
          document.querySelectorAll('.sample').forEach(section => {
            light(section, t);
            const audio = section.querySelector('audio');
            if (audio) audio.addEventListener('loadedmetadata', () => { audio.currentTime = t; }, { once: true });
          });
        }
        </script>
        </body></html>

        """
    }
}
