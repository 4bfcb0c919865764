import Foundation

public enum TorchFormat: String, Sendable {
    /// `_use_new_zipfile_serialization=False`: pickles and raw storages back to back.
    case legacy
    /// The zip archive torch writes by default since 1.6.
    case zip
}

/// A torch checkpoint (`.pth`, `.pth.tar`) opened without Python: the file is memory-mapped, its
/// pickle is rebuilt by the restricted unpickler, and tensors are references into the mapping
/// whose data is read (and converted) only when asked for, so a 10 GB file costs no more memory
/// than the tensors being converted at the moment.
public final class TorchCheckpoint: @unchecked Sendable {
    public let path: String
    public let format: TorchFormat
    /// The object `torch.save` stored, e.g. `{"hps": {...}, "model": {name: tensor}, "step": n}`.
    public let root: PickleValue
    private let region: MappedRegion
    private let locations: [String: StorageLocation]

    public convenience init(path: String) throws {
        try self.init(region: MappedRegion(path: path), name: path)
    }

    /// Parses checkpoint bytes already in memory (tests and the fuzz entry point).
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws {
        try self.init(region: MappedRegion(copying: bytes), name: name)
    }

    private init(region: MappedRegion, name: String) throws {
        path = name
        self.region = region
        let buf = region.buffer
        let layout: TorchLegacy.Layout
        if ZipDirectory.isZip(buf) {
            format = .zip
            layout = try TorchZip.parse(buf, source: name)
        } else if TorchLegacy.looksLegacy(buf) {
            format = .legacy
            layout = try TorchLegacy.parse(buf, source: name)
        } else if buf.count >= 262, Array(buf[257..<262]) == Array("ustar".utf8) {
            throw JukeboxError(name, "a tar-format torch checkpoint (torch before 0.4): not supported")
        } else {
            throw JukeboxError(name, "not a torch checkpoint (neither torch's legacy pickle format nor its zip format)")
        }
        root = layout.root
        locations = layout.locations
    }

    /// The first byte of a storage's root data; bounds were checked when the file was opened.
    private func base(_ s: TorchStorageRef) throws -> UnsafeRawPointer {
        if let inline = s.inline { return UnsafeRawPointer(inline.pointer) }
        guard let loc = locations[s.key] else { throw JukeboxError(path, "storage \(s.key) has no data in the file") }
        guard let start = region.buffer.baseAddress else { throw JukeboxError(path, "storage \(s.key) has no data in the file") }
        return start + loc.start
    }

    /// The safetensors dtype a tensor of this dtype is written as: float32 for every floating type
    /// (fp16/bf16 too unless `keepHalf`), int64 for every integer type.
    public static func outputType(for dtype: TorchDType, keepHalf: Bool = false) -> SafetensorsDType {
        switch dtype {
        case .float32, .float64: .f32
        case .float16: keepHalf ? .f16 : .f32
        case .bfloat16: keepHalf ? .bf16 : .f32
        case .int64, .int32, .int16, .int8, .uint8, .bool: .i64
        }
    }

    /// A floating-point tensor's values as float32, gathered into row-major order.
    public func tensor(_ t: TorchTensorRef) throws -> Tensor {
        guard t.dtype.isFloatingPoint else { throw JukeboxError(path, "tensor of \(t.dtype) is not floating point") }
        let out = Tensor(zeros: t.size)
        var filled = 0
        try stream(t, as: .f32) { chunk in
            guard let base = chunk.baseAddress, filled + chunk.count <= t.count * 4 else { return }
            (UnsafeMutableRawPointer(out.data) + filled).copyMemory(from: base, byteCount: chunk.count)
            filled += chunk.count
        }
        return out
    }

    /// Streams a tensor's elements in row-major order, converted to `dtype`, a chunk at a time
    /// (strided tensors are gathered). Chunks are at most `chunkElements` elements.
    public func stream(_ t: TorchTensorRef, as dtype: SafetensorsDType, chunkElements: Int = 1 << 20,
                       _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard ElementConversion.supported(t.dtype, dtype) else {
            throw JukeboxError(path, "cannot convert a \(t.dtype) tensor to \(dtype.rawValue)")
        }
        let count = t.count
        if count == 0 { return }
        let source = try base(t.storage)
        let inSize = t.dtype.byteSize, outSize = dtype.byteSize
        let capacity = max(1, min(chunkElements, count))
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: capacity * outSize, alignment: 16)
        defer { chunk.deallocate() }
        var used = 0
        func flush() throws {
            if used > 0 { try sink(UnsafeRawBufferPointer(start: chunk, count: used * outSize)) }
            used = 0
        }
        try TensorRuns.forEach(size: t.size, stride: t.stride, offset: t.offset) { start, stride, n in
            var done = 0
            while done < n {
                let take = min(n - done, capacity - used)
                ElementConversion.run(from: source + (start + done * stride) * inSize, stride: stride, count: take,
                                      source: t.dtype, to: chunk + used * outSize, dest: dtype)
                used += take
                done += take
                if used == capacity { try flush() }
            }
        }
        try flush()
    }
}


extension TorchCheckpoint {
    /// Drops the mapped pages of a tensor's storage from this process once it has been converted,
    /// so converting a checkpoint larger than RAM keeps a small resident set (the pages are re-read
    /// from the file if touched again).
    func evict(_ t: TorchTensorRef) {
        guard t.storage.inline == nil, let loc = locations[t.storage.key] else { return }
        region.evict(loc.start..<(loc.start + loc.byteCount))
    }
}

/// Walks a strided view as runs along its innermost (merged) dimension.
enum TensorRuns {
    static func forEach(size: [Int], stride: [Int], offset: Int,
                        _ body: (_ start: Int, _ stride: Int, _ count: Int) throws -> Void) rethrows {
        if size.contains(0) { return }
        // Drop unit dimensions and merge dimensions that are contiguous with the one inside them.
        var dims: [(n: Int, s: Int)] = []
        for (n, s) in zip(size, stride) where n != 1 {
            if let last = dims.last, last.s == n * s {
                dims[dims.count - 1] = (last.n * n, s)
            } else {
                dims.append((n, s))
            }
        }
        guard let inner = dims.popLast() else { return try body(offset, 1, 1) }
        var index = [Int](repeating: 0, count: dims.count)
        var start = offset
        while true {
            try body(start, inner.s, inner.n)
            var d = dims.count - 1
            while d >= 0 {
                index[d] += 1
                start += dims[d].s
                if index[d] < dims[d].n { break }
                start -= dims[d].s * dims[d].n
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}

/// Element conversions from torch storage types to the safetensors types we write.
enum ElementConversion {
    static func supported(_ from: TorchDType, _ to: SafetensorsDType) -> Bool {
        switch (from, to) {
        case (.float32, .f32), (.float16, .f32), (.bfloat16, .f32), (.float64, .f32), (.float16, .f16), (.bfloat16, .bf16): true
        case (.int64, .i64), (.int32, .i64), (.int16, .i64), (.int8, .i64), (.uint8, .i64), (.bool, .i64), (.int32, .i32): true
        default: false
        }
    }

    /// Converts `count` elements `stride` elements apart at `from` into consecutive elements at `to`.
    static func run(from src: UnsafeRawPointer, stride: Int, count: Int, source: TorchDType,
                    to dst: UnsafeMutableRawPointer, dest: SafetensorsDType) {
        let inSize = source.byteSize
        let step = stride * inSize
        if stride == 1, source.byteSize == dest.byteSize, sameKind(source, dest) {
            dst.copyMemory(from: src, byteCount: count * inSize)
            return
        }
        switch (source, dest) {
        case (.float32, .f32), (.int32, .i32):
            for i in 0..<count { dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i * step, as: UInt32.self), toByteOffset: 4 * i, as: UInt32.self) }
        case (.float16, .f16), (.bfloat16, .bf16):
            for i in 0..<count { dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i * step, as: UInt16.self), toByteOffset: 2 * i, as: UInt16.self) }
        case (.int64, .i64):
            for i in 0..<count { dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i * step, as: UInt64.self), toByteOffset: 8 * i, as: UInt64.self) }
        case (.float16, .f32):
            let out = dst.assumingMemoryBound(to: Float.self)
            for i in 0..<count { out[i] = HalfPrecision.f16ToF32(src.loadUnaligned(fromByteOffset: i * step, as: UInt16.self)) }
        case (.bfloat16, .f32):
            let out = dst.assumingMemoryBound(to: Float.self)
            for i in 0..<count { out[i] = HalfPrecision.bf16ToF32(src.loadUnaligned(fromByteOffset: i * step, as: UInt16.self)) }
        case (.float64, .f32):
            let out = dst.assumingMemoryBound(to: Float.self)
            for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: i * step, as: Double.self)) }
        case (.int32, .i64):
            for i in 0..<count { dst.storeBytes(of: Int64(src.loadUnaligned(fromByteOffset: i * step, as: Int32.self)), toByteOffset: 8 * i, as: Int64.self) }
        case (.int16, .i64):
            for i in 0..<count { dst.storeBytes(of: Int64(src.loadUnaligned(fromByteOffset: i * step, as: Int16.self)), toByteOffset: 8 * i, as: Int64.self) }
        case (.int8, .i64):
            for i in 0..<count { dst.storeBytes(of: Int64(src.load(fromByteOffset: i * step, as: Int8.self)), toByteOffset: 8 * i, as: Int64.self) }
        case (.uint8, .i64), (.bool, .i64):
            for i in 0..<count { dst.storeBytes(of: Int64(src.load(fromByteOffset: i * step, as: UInt8.self)), toByteOffset: 8 * i, as: Int64.self) }
        default:
            break  // excluded by `supported`
        }
    }

    private static func sameKind(_ a: TorchDType, _ b: SafetensorsDType) -> Bool {
        switch (a, b) {
        case (.float32, .f32), (.float16, .f16), (.bfloat16, .bf16), (.int64, .i64), (.int32, .i32): true
        default: false
        }
    }
}
