import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxTraining

/// A 64-bit FNV-1a digest of bytes: names a cache entry after what it was made from. Not a security
/// measure (a cache read back is only features), just a cheap way to notice that the inputs changed.
public struct ContentDigest: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ bytes: Data) {
        var h = state
        // The length first, so two inputs split differently do not run together into one digest.
        for byte in withUnsafeBytes(of: UInt64(bytes.count).littleEndian, Array.init) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        bytes.withUnsafeBytes { raw in
            for byte in raw { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        state = h
    }

    public var hex: String { String(format: "%016llx", state) }
}
