import Foundation
import JukeboxCore

extension LabelConditioner {
    /// Backward of callAsFunction: dYCond [batch, width] (the start token's gradient) goes to the artist row
    /// and each genre row of the bag (empty slots, −1, get nothing); dTiming [batch, nTime, width] to the
    /// total-length, absolute- and relative-position rows (and the bar clock's) each step used.
    func backward(_ y: [Int], batch: Int, stride: Int, dYCond: UnsafePointer<Float>, dTiming: Tensor?,
                  grads: Gradients) throws {
        let w = width
        let dGenre = grads.of(bowGenreEmb), dArtist = grads.of(artistEmb)
        for n in 0..<batch {
            let row = Array(y[(n * stride)..<(n * stride + labelCount)])
            let d = dYCond + n * w
            for g in row[layout.genres] where g >= 0 { Ops.addInPlace(dGenre + g * w, d, w) }
            Ops.addInPlace(dArtist + y[n * stride + 3] * w, d, w)
        }
        guard let dTiming, let totalLengthEmb, let absolutePosEmb, let relativePosEmb else { return }
        let dTotal = grads.of(totalLengthEmb), dAbs = grads.of(absolutePosEmb), dRel = grads.of(relativePosEmb)
        for n in 0..<batch {
            let (totalBin, absBins, relBins) = try timingBins(y, item: n, stride: stride)
            for t in 0..<nTime {
                let d = dTiming.data + (n * nTime + t) * w
                Ops.addInPlace(dTotal + totalBin[0] * w, d, w)
                Ops.addInPlace(dAbs + absBins[t] * w, d, w)
                Ops.addInPlace(dRel + relBins[t] * w, d, w)
            }
            if let barPosEmb, let barBins = try barClockBins(y, item: n, stride: stride) {
                let dBar = grads.of(barPosEmb)
                for t in 0..<nTime { Ops.addInPlace(dBar + barBins[t] * w, dTiming.data + (n * nTime + t) * w, w) }
            }
        }
    }
}
