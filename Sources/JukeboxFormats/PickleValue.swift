import Foundation

/// Element types of torch storages, named after the storage classes a checkpoint pickle names
/// (`torch.FloatStorage`, `torch.HalfStorage`, ...).
public enum TorchDType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// The dtype a storage class name stands for (`FloatStorage` → float32), nil if unknown.
    public init?(storageClass name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: true
        default: false
        }
    }
}

/// Raw bytes of a storage that arrived inside the pickle itself (`torch.storage._load_from_bytes`)
/// rather than in the file's storage section.
public final class InlineStorageBytes: @unchecked Sendable {
    package let pointer: UnsafeMutableRawPointer
    public let count: Int

    init(copying source: UnsafeRawBufferPointer) {
        count = source.count
        pointer = .allocate(byteCount: max(count, 1), alignment: 16)
        if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: count) }
    }

    deinit { pointer.deallocate() }
}

/// A storage as the pickle declares it: a key into the file's storage section, its dtype and
/// element count, and (for legacy storage views) the window of the root storage it covers.
public struct TorchStorageRef: Sendable, Equatable {
    public let key: String
    public let dtype: TorchDType
    /// Elements of the root storage the key names.
    public let rootCount: Int
    /// The window of the root storage this reference covers, in elements.
    public let viewOffset: Int
    public let viewCount: Int
    /// Set when the data travels inside the pickle instead of the storage section.
    public let inline: InlineStorageBytes?

    public static func == (a: TorchStorageRef, b: TorchStorageRef) -> Bool {
        a.key == b.key && a.dtype == b.dtype && a.rootCount == b.rootCount && a.viewOffset == b.viewOffset
            && a.viewCount == b.viewCount && a.inline === b.inline
    }
}

/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: nothing is read until asked.
/// `offset`, `size` and `stride` are in elements; the bounds were checked against the storage.
public struct TorchTensorRef: Sendable, Equatable {
    public let storage: TorchStorageRef
    public let offset: Int
    public let size: [Int]
    public let stride: [Int]

    public var count: Int { size.reduce(1, *) }
    public var dtype: TorchDType { storage.dtype }

    /// Row-major contiguous strides (what a plain `torch.save` of a parameter has).
    public var isContiguous: Bool {
        var expected = 1
        for d in stride.indices.reversed() {
            if size[d] != 1 && stride[d] != expected { return false }
            expected *= size[d]
        }
        return true
    }
}

/// What the restricted unpickler rebuilds: plain data, plus tensors and storages as references.
public indirect enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits, as little-endian two's complement bytes (the torch magic number).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// Dicts (and OrderedDicts) keep their insertion order.
    case dict([PickleDictEntry])
    case set([PickleValue])
    case storage(TorchStorageRef)
    case tensor(TorchTensorRef)

    /// The value under a string key, for dicts.
    public subscript(key: String) -> PickleValue? {
        guard case .dict(let entries) = self else { return nil }
        return entries.last(where: { $0.key == .string(key) })?.value
    }

    public var isDict: Bool { if case .dict = self { return true } else { return false } }

    public var dictEntries: [PickleDictEntry]? {
        if case .dict(let e) = self { return e }
        return nil
    }

    /// The items of a list or tuple.
    public var sequence: [PickleValue]? {
        switch self {
        case .list(let a), .tuple(let a): return a
        default: return nil
        }
    }

    public var intValue: Int? {
        switch self {
        case .int(let n): return n
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .list: "list"
        case .tuple: "tuple"
        case .dict: "dict"
        case .set: "set"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

public struct PickleDictEntry: Sendable, Equatable {
    public let key: PickleValue
    public let value: PickleValue
}
