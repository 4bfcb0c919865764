import Foundation

/// Fuzz entry point for the restricted unpickler: runs arbitrary bytes as a checkpoint pickle
/// (persistent ids and torch globals allowed). Must never crash, hang or leak; errors are expected.
public func fuzzPickle(_ data: UnsafeRawBufferPointer) {
    let policy = Unpickler.Policy(torch: true, loadFromBytes: { bytes in
        try TorchLegacy.loadStorageFromBytes(bytes, source: "<fuzz> (storage pickled by value)", nesting: 1)
    })
    _ = try? Unpickler.load(data, source: "<fuzz>", policy: policy)
}

/// Fuzz entry point for whole checkpoint files (legacy or zip): parses the bytes and reads every
/// tensor's data the way the converter does.
public func fuzzTorchCheckpoint(_ data: UnsafeRawBufferPointer) {
    guard let checkpoint = try? TorchCheckpoint(bytes: Array(data), name: "<fuzz>") else { return }
    var tensors: [TorchTensorRef] = []
    func collect(_ v: PickleValue) {
        switch v {
        case .tensor(let t): tensors.append(t)
        case .list(let items), .tuple(let items), .set(let items): items.forEach(collect)
        case .dict(let entries): entries.forEach { collect($0.key); collect($0.value) }
        default: break
        }
    }
    collect(checkpoint.root)
    for t in tensors {
        _ = try? checkpoint.stream(t, as: TorchCheckpoint.outputType(for: t.dtype)) { _ in }
    }
}
