import Foundation

/// The candidates of a round not yet decided (a co-composition's latest round, while none of it is kept),
/// in `candidates.safetensors` beside the codes: drawing them took the time, so they are kept like codes
/// and come back when the session is reopened. Each row is the kept line followed by the candidate's codes.
public struct PendingCandidates: Equatable, Sendable {
    public var level: Int
    /// One row per candidate: the kept line, then the new stretch.
    public var codes: LevelCodes
    /// Their ids in the session's history (the last record's candidates).
    public var ids: [Int]
    /// Where the new stretch starts (the kept line's length when they were drawn).
    public var start: Int

    public init(level: Int, codes: LevelCodes, ids: [Int], start: Int) {
        (self.level, self.codes, self.ids, self.start) = (level, codes, ids, start)
    }

    /// Whether these are the round `record` describes, drawn after `kept`: a file left by an earlier round (or
    /// one whose session.json was not written after it) describes another round, and is ignored.
    public func belong(to record: WindowRecord, kept: LevelCodes) -> Bool {
        record.kept == nil && record.level == level && record.candidates == ids && record.start == start
            && codes.n == ids.count && codes.t == start + record.length && kept.t == start
            && (0..<codes.n).allSatisfy { codes.row($0).prefix(start).elementsEqual(kept.values) }
    }
}

extension SessionFolder {
    public static let candidatesName = "candidates.safetensors"
    public var candidatesPath: String { (path as NSString).appendingPathComponent(Self.candidatesName) }

    /// Writes the undecided round (atomically), or removes the file when there is none.
    public func savePending(_ pending: PendingCandidates?) throws {
        guard let pending else {
            if FileManager.default.fileExists(atPath: candidatesPath) {
                do { try FileManager.default.removeItem(atPath: candidatesPath) } catch {
                    throw JukeboxError(candidatesPath, "cannot remove a decided round's candidates (\(error.localizedDescription))")
                }
            }
            return
        }
        try CodesFile.write([(name: "z\(pending.level)", codes: pending.codes)], to: candidatesPath,
                           metadata: ["ids": pending.ids.map(String.init).joined(separator: ","), "start": String(pending.start)])
    }

    /// The undecided round on disk, nil when there is none. A file that is there must be whole.
    public func loadPending() throws -> PendingCandidates? {
        guard FileManager.default.fileExists(atPath: candidatesPath) else { return nil }
        let file = try SafetensorsFile(path: candidatesPath)
        guard file.names.count == 1, let name = file.names.first, name.hasPrefix("z"), let level = Int(name.dropFirst()),
              level >= 0, level < 16 else {
            throw JukeboxError(candidatesPath, "should hold one tensor z{level} (it holds \(file.names.joined(separator: ", ")))")
        }
        let codes = try CodesFile.read(file, name)
        let idText = file.metadata["ids"] ?? ""
        let ids = idText.split(separator: ",").compactMap { Int($0) }
        guard ids.count == codes.n, ids.allSatisfy({ $0 >= 0 }), let start = file.metadata["start"].flatMap(Int.init),
              start >= 0, start <= codes.t else {
            throw JukeboxError(candidatesPath, "its ids (\(idText)) or start do not describe its \(codes.n) rows of \(codes.t) codes")
        }
        if let bad = codes.values.first(where: { $0 < 0 }) { throw JukeboxError(candidatesPath, "holds the negative code \(bad)") }
        return PendingCandidates(level: level, codes: codes, ids: ids, start: start)
    }
}
