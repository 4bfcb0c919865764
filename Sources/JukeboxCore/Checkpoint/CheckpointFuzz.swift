import Foundation

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
