import Foundation

/// A set's optional `alignment_prior`: a copy of its top prior taught to follow the sung words
/// (`train prior --align-layer`), read only for the lyrics' timing. The sampling prior keeps its weights (and
/// every figure measured with them), while karaoke, LRC files and the listening page come from a head that
/// learnt where the words fall. It reads the same windows of codes and labels as the top prior, so it must
/// agree with it on everything a window is made of.
public enum AlignmentPrior {
    public static let folderName = "alignment_prior"

    /// The member's config checked against the set's top prior, without loading weights; nil when the set has none.
    static func inspect(setFolder: String, top: ModelConfig) throws -> ModelConfig? {
        let member = (setFolder as NSString).appendingPathComponent(folderName)
        guard FileManager.default.fileExists(atPath: member) else { return nil }
        let source = member + "/config.json"
        let config = try ModelConfig.load(folder: member)
        guard config.kind == .prior else { throw JukeboxError(source, "kind is \(config.kind.rawValue), expected prior") }
        let mine = try PriorConfig(hps: config.hps), theirs = try PriorConfig(hps: top.hps)
        let differences = [
            ("level", mine.level != theirs.level), ("l_bins", mine.lBins != theirs.lBins), ("n_ctx", mine.nCtx != theirs.nCtx),
            ("n_tokens", mine.nTokens != theirs.nTokens), ("n_vocab", mine.nVocab != theirs.nVocab),
            ("labels", mine.labels != theirs.labels || mine.labelsV3 != theirs.labelsV3),
            ("y_bins", mine.yBins != theirs.yBins), ("t_bins", mine.tBins != theirs.tBins),
            ("label layout", mine.labelLayout != theirs.labelLayout),
        ].filter(\.1).map(\.0)
        guard differences.isEmpty else {
            throw JukeboxError(source, "differs from the set's top prior in \(differences.joined(separator: ", ")): "
                               + "an alignment prior reads the top prior's own windows (make it with `train prior --init` from it)")
        }
        guard mine.nTokens > 0 else { throw JukeboxError(source, "reads no lyrics (n_tokens 0), so it cannot time them") }
        guard try config.hps.optionalInt("alignment_layer") != nil, try config.hps.optionalInt("alignment_head") != nil else {
            throw JukeboxError(source, "names no alignment_layer and alignment_head (`jukebox train alignment --prior \(member)` chooses them)")
        }
        if mine.labels {
            // Same ids for the same names: the resolver's labels are made from the top prior's lists.
            let topFolder = (setFolder as NSString).appendingPathComponent(ModelSet.priorFolderName(level: theirs.level))
            for list in [LabelVocabulary.artistsFileName, LabelVocabulary.genresFileName] {
                let a = FileManager.default.contents(atPath: (member as NSString).appendingPathComponent(list))
                let b = FileManager.default.contents(atPath: (topFolder as NSString).appendingPathComponent(list))
                guard a == b else { throw JukeboxError(member + "/" + list, "differs from the top prior's \(list)") }
            }
        }
        return config
    }

    /// The member loaded (weights memory-mapped); `inspect` has checked its config.
    static func load(setFolder: String) throws -> PriorModel {
        let model = try PriorModel.load(folder: (setFolder as NSString).appendingPathComponent(folderName))
        let layer = try model.hps.int("alignment_layer")
        guard model.prior.lyricLayers.contains(layer) else {
            throw JukeboxError(model.folder + "/config.json",
                               "alignment_layer \(layer) does not read the lyrics; these do: \(model.prior.lyricLayers.map(String.init).joined(separator: ", "))")
        }
        return model
    }
}

extension ModelSet {
    /// The prior whose attention times the lyrics: the set's alignment prior when it has one, else its top prior.
    public func lyricTimingPrior() throws -> PriorModel {
        try alignmentPrior ?? prior(level: topLevel)
    }
}
