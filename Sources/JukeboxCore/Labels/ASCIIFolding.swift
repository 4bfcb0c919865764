import Foundation

/// An approximation of the `unidecode` transliteration the reference applies to lyrics before
/// cleaning, for the cases lyrics meet most: Latin letters with diacritics (compatibility
/// decomposition, marks removed), Latin letters that do not decompose, and typographic
/// punctuation. Scripts that unidecode romanises (Greek, Cyrillic, CJK, ...) are not covered:
/// their characters stay unknown and are dropped.
enum ASCIIFolding {
    /// What the model would see for `scalar` (non-ASCII), or nil when there is nothing to offer.
    static func fold(_ scalar: Unicode.Scalar) -> String? {
        if scalar.isASCII { return nil }
        if let special = table[scalar.value] { return special }
        let decomposed = String(Character(scalar)).decomposedStringWithCompatibilityMapping
        var ascii = String.UnicodeScalarView()
        for s in decomposed.unicodeScalars where s.isASCII { ascii.append(s) }
        return ascii.isEmpty ? nil : String(ascii)
    }

    /// Letters and punctuation with no ASCII decomposition.
    private static let table: [UInt32: String] = [
        0x00DF: "ss", 0x00E6: "ae", 0x00C6: "AE", 0x00F8: "o", 0x00D8: "O", 0x0153: "oe", 0x0152: "OE",
        0x0111: "d", 0x0110: "D", 0x00F0: "d", 0x00D0: "D", 0x00FE: "th", 0x00DE: "Th", 0x0142: "l",
        0x0141: "L", 0x0131: "i", 0x0127: "h", 0x0126: "H", 0x014B: "ng", 0x014A: "NG", 0x0167: "t",
        0x0166: "T", 0x0192: "f", 0x00A1: "!", 0x00BF: "?", 0x00D7: "x",
        0x2018: "'", 0x2019: "'", 0x201A: ",", 0x201B: "'", 0x2032: "'", 0x02BC: "'", 0x00B4: "'",
        0x201C: "\"", 0x201D: "\"", 0x201E: ",,", 0x201F: "\"", 0x2033: "\"",
        0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2014: "--", 0x2015: "--", 0x2212: "-",
    ]
}
