import Foundation

/// The only globals a checkpoint pickle may name. Each is rebuilt by our own code; none is a
/// Python function that runs.
enum PickleCallable: Equatable {
    case orderedDict
    /// A dict subclass holding only data (the reference's `Hyperparams`): rebuilt as a plain dict.
    case dictClass
    case rebuildTensorV2, rebuildTensor, rebuildParameter
    case loadFromBytes
    case storageClass(TorchDType)

    init?(global name: String, torch: Bool) {
        switch name {
        case "collections.OrderedDict": self = .orderedDict
        // jukebox.hparams.Hyperparams, or the same class pickled from a script (__main__.Hyperparams).
        case _ where name.hasSuffix(".Hyperparams"): self = .dictClass
        case _ where !torch: return nil
        case "torch._utils._rebuild_tensor_v2": self = .rebuildTensorV2
        case "torch._utils._rebuild_tensor": self = .rebuildTensor
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state": self = .rebuildParameter
        case "torch.storage._load_from_bytes": self = .loadFromBytes
        default:
            guard name.hasPrefix("torch."), let dtype = TorchDType(storageClass: String(name.dropFirst(6))) else { return nil }
            self = .storageClass(dtype)
        }
    }
}

extension Unpickler {
    func tupleItems(_ v: PV, _ what: String) throws -> [PV] {
        guard case .box(let b) = v, b.kind == .tuple else { throw fail("\(what) expects a tuple of arguments") }
        return b.items
    }

    mutating func call(_ callee: PV, _ argsValue: PV) throws -> PV {
        guard case .callable(let callable, let name) = callee else { throw fail("REDUCE on something that is not a global") }
        let args = try tupleItems(argsValue, name)
        switch callable {
        case .orderedDict, .dictClass:
            let d = box(.dict)
            guard case .box(let b) = d else { return d }
            guard let source = args.first else { return d }
            guard args.count == 1, case .box(let items) = source else { throw fail("\(name) takes one iterable of pairs") }
            switch items.kind {
            case .dict:
                for (k, v) in zip(items.keys, items.items) { try b.set(key: k, keyHash: hashKey(k, depth: 0), value: v) }
            case .list, .tuple:
                for pair in items.items {
                    guard case .box(let p) = pair, p.kind == .list || p.kind == .tuple, p.items.count == 2 else {
                        throw fail("\(name) takes (key, value) pairs")
                    }
                    try b.set(key: p.items[0], keyHash: hashKey(p.items[0], depth: 0), value: p.items[1])
                }
            case .set: throw fail("\(name) takes (key, value) pairs")
            }
            return d
        case .rebuildTensorV2, .rebuildTensor:
            guard args.count >= 4, args.count <= 7 else { throw fail("\(name) takes 4 to 7 arguments, got \(args.count)") }
            return .tensor(try rebuildTensor(args, name))
        case .rebuildParameter:
            guard args.count >= 1, case .tensor(let t) = args[0] else { throw fail("\(name) expects a tensor") }
            return .tensor(t)
        case .loadFromBytes:
            guard args.count == 1, case .bytes(let data) = args[0] else { throw fail("\(name) expects bytes") }
            guard let load = policy.loadFromBytes else { throw refused(name) }
            let ref = try load(data)
            return .storage(ref)
        case .storageClass:
            throw fail("\(name) may only appear inside a storage's persistent id")
        }
    }

    mutating func newObject(_ cls: PV, _ argsValue: PV) throws -> PV {
        guard case .callable(let callable, let name) = cls else { throw fail("NEWOBJ on something that is not a class") }
        guard callable == .orderedDict || callable == .dictClass else { throw fail("NEWOBJ of \(name) is not supported") }
        _ = try tupleItems(argsValue, name)
        return box(.dict)
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    /// The view must lie inside the storage; no data is touched.
    func rebuildTensor(_ args: [PV], _ name: String) throws -> TorchTensorRef {
        guard case .storage(let storage) = args[0] else { throw fail("\(name): first argument is not a storage") }
        guard case .int(let offset) = args[1], offset >= 0 else { throw fail("\(name): bad storage offset") }
        let size = try intTuple(args[2], "\(name) size")
        let stride = try intTuple(args[3], "\(name) stride")
        guard size.count == stride.count, size.count <= 16 else { throw fail("\(name): size \(size) and stride \(stride) do not match") }
        var count = 1, span = 0
        for (n, s) in zip(size, stride) {
            guard n >= 0, s >= 0 else { throw fail("\(name): negative size or stride") }
            let (c, o1) = count.multipliedReportingOverflow(by: n)
            guard !o1, c < 1 << 40 else { throw fail("\(name): size \(size) is too large") }
            count = c
            if n > 0 {
                let (step, o2) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o3) = span.addingReportingOverflow(step)
                guard !o2, !o3, sum < 1 << 48 else { throw fail("\(name): stride \(stride) is too large") }
                span = sum
            }
        }
        // Views that repeat elements (stride 0 from expand) never occur in a state dict; refusing them
        // bounds the work and output of a conversion by the size of the file.
        guard count <= storage.viewCount else {
            throw fail("\(name): tensor of size \(size) has more elements than its storage (\(storage.viewCount)); overlapping views are not supported")
        }
        if count > 0 {
            let (last, o) = offset.addingReportingOverflow(span)
            guard !o, last < storage.viewCount else {
                throw fail("\(name): tensor of size \(size) stride \(stride) at offset \(offset) overruns its storage of \(storage.viewCount) elements")
            }
        }
        return TorchTensorRef(storage: storage, offset: storage.viewOffset + offset, size: size, stride: stride)
    }

    func intTuple(_ v: PV, _ what: String) throws -> [Int] {
        guard case .box(let b) = v, b.kind == .tuple || b.kind == .list else { throw fail("\(what) is not a tuple") }
        return try b.items.map {
            guard case .int(let n) = $0 else { throw fail("\(what) holds a non-integer") }
            return n
        }
    }

    /// `('storage', torch.<Type>Storage, key, location, numel[, view_metadata])` → a storage reference.
    mutating func persistentLoad(_ pid: PV) throws -> PV {
        guard policy.torch else { throw fail("a persistent id in a pickle that should hold plain data") }
        let items = try tupleItems(pid, "persistent id")
        guard let first = items.first, case .string(let tag) = first else { throw fail("persistent id without a type tag") }
        guard tag == "storage" else {
            throw fail("persistent id of type \(tag) (the checkpoint pickles a whole module, not a state dict?)")
        }
        guard items.count == 5 || items.count == 6 else { throw fail("storage persistent id has \(items.count) fields") }
        guard case .callable(.storageClass(let dtype), _) = items[1] else { throw fail("storage persistent id without a storage type") }
        let key: String
        switch items[2] {
        case .string(let s): key = s
        case .int(let n): key = String(n)
        default: throw fail("storage key is not a string")
        }
        guard case .string = items[3] else { throw fail("storage location is not a string") }
        guard case .int(let count) = items[4], count >= 0, count < 1 << 40 else { throw fail("storage \(key) has a bad size") }
        let decl = StorageDecl(dtype: dtype, count: count)
        if let known = storageDecls[key] {
            guard known == decl else {
                throw fail("storage \(key) declared twice with different types or sizes (\(known.dtype) × \(known.count), \(dtype) × \(count))")
            }
        } else {
            storageDecls[key] = decl
            storageOrder.append(key)
        }
        var viewOffset = 0, viewCount = count
        if items.count == 6, case .box = items[5] {
            // Legacy storage views: (view_key, offset, size) within the root storage.
            let view = try tupleItems(items[5], "storage view")
            guard view.count == 3, case .int(let o) = view[1], case .int(let n) = view[2], o >= 0, n >= 0,
                  o <= count, n <= count - o else { throw fail("storage \(key) has a bad view") }
            viewOffset = o
            viewCount = n
        } else if items.count == 6, case .none = items[5] {
        } else if items.count == 6 {
            throw fail("storage \(key) has a bad view")
        }
        return .storage(TorchStorageRef(key: key, dtype: dtype, rootCount: count, viewOffset: viewOffset,
                                        viewCount: viewCount, inline: nil))
    }
}
