import Foundation
import JukeboxCore

/// Giving a trained top prior a bar clock before fine-tuning it with one.
///
/// The clock is one more table in the label conditioner, looked up by where each code falls in its bar
/// and added to the timing signal. It starts at zero, so the prior begins exactly where it was and learns
/// from there what the position in the bar says about the next code.
public enum PriorBarClock {
    public static let tableKey = "y_emb." + LabelConditioner.barPosKey

    public static func add(hps: Hyperparameters, tensors: [String: Tensor], bins: Int) throws
        -> (hps: Hyperparameters, tensors: [String: Tensor]) {
        guard bins > 0 else { throw JukeboxError("--bar-clock-bins", "must be positive, got \(bins)") }
        let config = try PriorConfig(hps: hps)
        guard config.includeTimeSignal else {
            throw JukeboxError("--bar-clock-bins", "only a labelled top-level prior has the timing signal a bar clock joins")
        }
        guard config.barClockBins == 0 else {
            throw JukeboxError("--bar-clock-bins", "the prior already has a bar clock of \(config.barClockBins) bins")
        }
        var values = hps.values
        values["bar_clock_bins"] = bins
        let clocked = Hyperparameters(values, source: hps.source)
        _ = try PriorConfig(hps: clocked)
        var out = tensors
        out[tableKey] = Tensor(zeros: [bins, config.width])
        return (clocked, out)
    }
}
