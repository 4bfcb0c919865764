import JukeboxCore

/// Positions where two encodings of the same audio at `level` disagree although the encoder's output there is
/// not equally near both codes (within `tolerance`, relative): a different summation order may flip a tie, and
/// nothing else.
public func codesDifferingWithoutTie(_ model: VQVAE, audio: [Float], level: Int, _ a: [Int], _ b: [Int],
                                     tolerance: Float = 1e-4) throws -> [Int] {
    let h = try model.encoderOutput(Tensor(shape: [1, audio.count, 1], values: audio), level: level)
    let (t, width) = (h.shape[2], model.embWidth)
    let book = model.codebooks[level].codebook
    func distance(_ j: Int, _ code: Int) -> Float {
        (0..<width).reduce(0) { s, c in let d = h.data[c * t + j] - book.data[code * width + c]; return s + d * d }
    }
    return (0..<min(t, a.count, b.count)).filter { j in
        a[j] != b[j] && abs(distance(j, a[j]) - distance(j, b[j])) > tolerance * max(distance(j, a[j]), distance(j, b[j]), 1)
    }
}
