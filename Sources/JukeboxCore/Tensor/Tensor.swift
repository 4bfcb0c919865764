import Foundation

/// Float32 memory that a tensor views: either owned (allocated here, freed on deinit) or
/// borrowed from a memory-mapped file that `owner` keeps alive.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let owner: AnyObject?

    /// Owned, zero-filled storage.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        owner = nil
    }

    /// Borrowed storage: `pointer` lives as long as `owner`.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    /// True when the memory belongs to a mapped file (weights loaded without a copy).
    public var isBorrowed: Bool { owner != nil }

    deinit {
        if owner == nil { pointer.deallocate() }
    }
}

/// A dense row-major float32 tensor. Storage is shared on copy (reference semantics for the
/// data, as in the reference's torch tensors); use `copy()` for an independent buffer.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let storage: TensorStorage

    public init(zeros shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    public init(shape: [Int], storage: TensorStorage) {
        invariant(shape.reduce(1, *) <= storage.count, "shape \(shape) exceeds storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], values: [Float]) {
        invariant(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: values.count) }
        }
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.pointer }
    public var description: String { "Tensor\(shape)" }

    public subscript(_ i: Int) -> Float {
        get { data[i] }
        nonmutating set { data[i] = newValue }
    }

    /// Same data viewed under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        invariant(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    public func copy() -> Tensor {
        let out = Tensor(zeros: shape)
        out.data.update(from: data, count: count)
        return out
    }

    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// Size of dimension `d`, negative counting from the end.
    public func dim(_ d: Int) -> Int { shape[d < 0 ? shape.count + d : d] }
}

/// Relative L2 error ‖a − b‖₂ / ‖b‖₂, the fixtures' float tolerance measure.
public func relativeError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
    var diff = 0.0, ref = 0.0
    for i in 0..<count {
        let d = Double(a[i]) - Double(b[i])
        diff += d * d
        ref += Double(b[i]) * Double(b[i])
    }
    return ref == 0 ? diff.squareRoot() : (diff / ref).squareRoot()
}

public func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    invariant(a.count == b.count, "relativeError: \(a.shape) vs \(b.shape)")
    return relativeError(a.data, b.data, count: a.count)
}
