/// The few pieces of Python's `str` behaviour that the reference's label code relies on,
/// reproduced on Unicode scalars (Python strings are sequences of code points, not graphemes,
/// so Swift's `Character` view would merge "\r\n" or "e\u{301}" where Python sees two).
package enum PythonText {
    /// `str.isspace()`: characters Python strips with `str.strip()`.
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `str.strip()` with no argument.
    static func strip(_ text: Substring) -> String {
        let scalars = Array(text.unicodeScalars)
        var lo = 0, hi = scalars.count
        while lo < hi, isSpace(scalars[lo]) { lo += 1 }
        while hi > lo, isSpace(scalars[hi - 1]) { hi -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[lo..<hi])
        return String(out)
    }

    /// `str.lower()`: full Unicode lowercase mapping per code point, plus the one context rule
    /// Python applies (capital sigma becomes final sigma at the end of a word).
    package static func lower(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        // Fast path: ASCII-only text (nearly every artist and genre name).
        if scalars.allSatisfy({ $0.isASCII }) {
            var out = String.UnicodeScalarView()
            for s in scalars {
                if s.value >= 0x41 && s.value <= 0x5A { out.append(Unicode.Scalar(UInt8(s.value + 32))) } else { out.append(s) }
            }
            return String(out)
        }
        var out = ""
        for (i, s) in scalars.enumerated() {
            if s.value == 0x03A3 {
                out.unicodeScalars.append(isFinalSigma(scalars, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out += s.properties.lowercaseMapping
            }
        }
        return out
    }

    /// Unicode's Final_Sigma condition: a cased letter before (skipping case-ignorables) and
    /// no cased letter after (skipping case-ignorables).
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        var j = index - 1
        while j >= 0, scalars[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, scalars[j].properties.isCased else { return false }
        var k = index + 1
        while k < scalars.count, scalars[k].properties.isCaseIgnorable { k += 1 }
        return !(k < scalars.count && scalars[k].properties.isCased)
    }
}
