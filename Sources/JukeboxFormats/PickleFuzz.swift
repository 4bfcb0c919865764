import Foundation

/// Fuzz entry point for the restricted unpickler: runs arbitrary bytes as a checkpoint pickle
/// (persistent ids and torch globals allowed). Must never crash, hang or leak; errors are expected.
public func fuzzPickle(_ data: UnsafeRawBufferPointer) {
    let policy = Unpickler.Policy(torch: true, loadFromBytes: { bytes in
        try TorchLegacy.loadStorageFromBytes(bytes, source: "<fuzz> (storage pickled by value)", nesting: 1)
    })
    _ = try? Unpickler.load(data, source: "<fuzz>", policy: policy)
}
