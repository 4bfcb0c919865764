import Foundation
import JukeboxCore

/// A trained prior given embedding rows for artists and genres it has never heard, before fine-tuning on
/// their music.
///
/// Each new row starts as a copy of row 0, "unknown": the prior learnt that row from the songs whose labels
/// it was made to forget (p_unk), so it means "any artist", and the grown prior predicts a new artist's music
/// exactly as the original predicts it with unknown labels. Training then moves the new rows away from it.
public enum PriorLabelGrowth {
    static let genreKey = "y_emb.bow_genre_emb.emb.weight"
    static let artistKey = "y_emb.artist_emb.emb.weight"

    /// The prior's hps with `yBins` ([genres, artists]) and its tensors with the embedding tables grown.
    public static func grow(hps: Hyperparameters, tensors: [String: Tensor], yBins: [Int]) throws
        -> (hps: Hyperparameters, tensors: [String: Tensor]) {
        let config = try PriorConfig(hps: hps)
        guard config.labels else { throw JukeboxError(hps.source, "the prior has no labels to grow") }
        var out = tensors
        for (key, rows) in [(genreKey, yBins[0]), (artistKey, yBins[1])] {
            guard let table = tensors[key], table.rank == 2 else { throw JukeboxError(hps.source, "weights lack \(key)") }
            let (old, width) = (table.shape[0], table.shape[1])
            guard rows >= old else { throw JukeboxError(key, "cannot shrink from \(old) rows to \(rows)") }
            let grown = Tensor(zeros: [rows, width])
            grown.data.update(from: table.data, count: old * width)
            for r in old..<rows { (grown.data + r * width).update(from: table.data, count: width) }
            out[key] = grown
        }
        var values = hps.values
        values["y_bins"] = yBins
        let grownHps = Hyperparameters(values, source: hps.source)
        _ = try PriorConfig(hps: grownHps)
        return (grownHps, out)
    }

    /// Writes `folder`'s prior grown to `growth`'s lists into `output` (config, weights, the grown lists).
    /// A prior to be trained must be float32 (training widens nothing back); one only read (a set's alignment
    /// prior, carried into a fine-tuned set) keeps its format: its other tensors are copied byte for byte, and
    /// only the two embedding tables are grown (written as float32, as every format keeps them).
    public static func write(prior folder: String, growth: LabelVocabularyGrowth, to output: String,
                             keepingFormat: Bool = false) throws {
        let model = try ModelConfig.load(folder: folder)
        guard model.kind == .prior else { throw JukeboxError(folder, "is a \(model.kind.rawValue), not a prior") }
        guard model.weightFormat == .f32 || keepingFormat else {
            throw JukeboxError(folder, "stores \(model.weightFormat.rawValue) weights; fine-tuning needs the float32 set it was made from")
        }
        let file = try SafetensorsFile(path: (folder as NSString).appendingPathComponent("weights.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in [genreKey, artistKey] { tensors[name] = try file.tensor(name) }
        let (hps, grown) = try grow(hps: model.hps, tensors: tensors, yBins: growth.yBins)
        var writer = SafetensorsWriter()
        writer.metadata = file.metadata
        for name in file.names {
            if let table = grown[name] { writer.add(name, table); continue }
            guard keepingFormat else { writer.add(name, try file.tensor(name)); continue }  // widened for training
            let entry = try file.entry(name)
            writer.add(name, dtype: entry.dtype, shape: entry.shape, bytes: Array(try file.rawBytes(name)))
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try writer.write(to: (output as NSString).appendingPathComponent("weights.safetensors"))
        try ModelConfig(kind: .prior, hps: hps, weightFormat: model.weightFormat).write(folder: output)
        try growth.write(into: output)
    }
}
