import Foundation

/// A restricted unpickler for the pickles `torch.save` writes (protocol 2; protocols 3-5 opcodes too).
///
/// A pickle is a program for a stack machine whose GLOBAL/REDUCE opcodes can call any Python
/// function. Here nothing is ever called: the few globals a checkpoint needs (tensor and storage
/// rebuilds, OrderedDict) are recognised by name and rebuilt by our own code; any other global is
/// refused with an error naming it. Every read is bounds-checked, so malformed input gives a
/// one-line JukeboxError, never a crash.
package struct Unpickler {
    /// What a pickle may use beyond plain data.
    package struct Policy {
        /// Persistent ids for storages and the torch rebuild globals (the main checkpoint pickle).
        var torch: Bool
        /// Rebuilds a storage pickled by value (`torch.storage._load_from_bytes`); nil refuses it.
        var loadFromBytes: ((_ bytes: [UInt8]) throws -> TorchStorageRef)?

        static let plain = Policy(torch: false, loadFromBytes: nil)
    }

    /// A storage key's dtype and size as the persistent ids declare it.
    struct StorageDecl: Equatable {
        let dtype: TorchDType
        let count: Int
    }

    struct Result {
        package let value: PickleValue
        /// Offset just past the STOP opcode.
        let end: Int
        /// Storages the pickle refers to by key, in first-use order.
        let storages: [(key: String, decl: StorageDecl)]
    }

    static let maxDepth = 100

    let bytes: UnsafeRawBufferPointer
    var pos: Int
    let source: String
    let policy: Policy

    var stack: [PV] = []
    var marks: [Int] = []
    var memo: [Int: PV] = [:]
    /// Every container created, so teardown can break cycles and deep chains without recursion.
    var arena: [PBox] = []
    var storageOrder: [String] = []
    var storageDecls: [String: StorageDecl] = [:]
    var opPos = 0

    init(bytes: UnsafeRawBufferPointer, start: Int, source: String, policy: Policy) {
        self.bytes = bytes
        self.pos = start
        self.source = source
        self.policy = policy
    }

    /// Runs the pickle at `start` up to its STOP opcode.
    static func load(_ bytes: UnsafeRawBufferPointer, start: Int = 0, source: String,
                     policy: Policy = .plain) throws -> Result {
        var machine = Unpickler(bytes: bytes, start: start, source: source, policy: policy)
        defer { machine.teardown() }
        return try machine.run()
    }

    // MARK: - Errors and reading

    func fail(_ why: String) -> JukeboxError {
        JukeboxError(source, "corrupt or unsupported pickle: \(why) (opcode at byte \(opPos))")
    }

    mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - pos else {
            throw JukeboxError(source, "truncated pickle: needs \(n) bytes at byte \(pos), file has \(bytes.count)")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)])
        pos += n
        return slice
    }

    mutating func u8() throws -> Int { Int(try take(1)[0]) }

    mutating func uintLE(_ n: Int) throws -> UInt64 {
        let b = try take(n)
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(b[i]) << (8 * UInt64(i)) }
        return v
    }

    /// A length field, checked against what is left so a huge value cannot allocate.
    mutating func length(_ width: Int) throws -> Int {
        let v = try uintLE(width)
        guard v <= UInt64(bytes.count - pos) else {
            throw JukeboxError(source, "truncated pickle: a \(v)-byte item at byte \(pos) runs past the end (\(bytes.count) bytes)")
        }
        return Int(v)
    }

    mutating func line() throws -> String {
        var end = pos
        while end < bytes.count, bytes[end] != 0x0A {
            end += 1
            guard end - pos <= 1000 else { throw fail("GLOBAL name longer than 1000 bytes") }
        }
        guard end < bytes.count else { throw JukeboxError(source, "truncated pickle: unterminated GLOBAL name at byte \(pos)") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[pos..<end]), as: UTF8.self)
        pos = end + 1
        return s
    }

    mutating func utf8(_ n: Int) throws -> String {
        let b = try take(n)
        guard let s = String(bytes: b, encoding: .utf8) else { throw fail("string is not valid UTF-8") }
        return s
    }

    // MARK: - Stack

    mutating func push(_ v: PV) { stack.append(v) }

    mutating func pop() throws -> PV {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        if let m = marks.last, stack.count < m { throw fail("stack underflow past a MARK") }
        return v
    }

    func top() throws -> PV {
        guard let v = stack.last else { throw fail("stack underflow") }
        if let m = marks.last, stack.count <= m { throw fail("stack underflow past a MARK") }
        return v
    }

    /// The items pushed since the last MARK, removing them and the mark.
    mutating func popMark() throws -> [PV] {
        guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK on the stack") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func box(_ kind: PBox.Kind, _ items: [PV] = []) -> PV {
        let b = PBox(kind, items)
        arena.append(b)
        return .box(b)
    }

    mutating func dictBox(_ pairs: ArraySlice<PV>) throws -> PV {
        let d = box(.dict)
        guard case .box(let b) = d else { return d }
        try setItems(b, pairs)
        return d
    }

    func setItems(_ b: PBox, _ flat: ArraySlice<PV>) throws {
        guard flat.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
        var i = flat.startIndex
        while i < flat.endIndex {
            try b.set(key: flat[i], keyHash: hashKey(flat[i], depth: 0), value: flat[i + 1])
            i += 2
        }
    }

    func hashKey(_ v: PV, depth: Int) throws -> PKey {
        switch v {
        case .none: return .none
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let n): return .int(n)
        case .big(let b): return .big(b)
        case .float(let d):
            if d == d.rounded(), abs(d) < 9e18 { return .int(Int(d)) }
            return .float(d.bitPattern)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .box(let b) where b.kind == .tuple && depth < 32:
            return .tuple(try b.items.map { try hashKey($0, depth: depth + 1) })
        default: throw fail("unhashable dict key")
        }
    }

    func listBox(_ v: PV, _ what: String) throws -> PBox {
        guard case .box(let b) = v, b.kind == .list else { throw fail("\(what) on something that is not a list") }
        return b
    }

    // MARK: - The machine

    mutating func run() throws -> Result {
        while true {
            opPos = pos
            let op = try u8()
            switch op {
            case 0x80:  // PROTO
                let p = try u8()
                guard p >= 2, p <= 5 else { throw fail("pickle protocol \(p) (only 2 to 5 are read)") }
            case 0x95: _ = try take(8)  // FRAME: a hint for buffered readers
            case 0x2E:  // STOP
                let v = try pop()
                let value = try convert(v)
                let order = storageOrder.compactMap { key in storageDecls[key].map { (key, $0) } }
                return Result(value: value, end: pos, storages: order)
            case 0x28: marks.append(stack.count)  // MARK
            case 0x30:  // POP
                if let m = marks.last, m == stack.count { marks.removeLast() } else { _ = try pop() }
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: push(try top())  // DUP
            case 0x4E: push(.none)  // NONE
            case 0x88: push(.bool(true))  // NEWTRUE
            case 0x89: push(.bool(false))  // NEWFALSE
            case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try uintLE(4)))))  // BININT
            case 0x4B: push(.int(try u8()))  // BININT1
            case 0x4D: push(.int(Int(try uintLE(2))))  // BININT2
            case 0x8A: push(try long(length(1)))  // LONG1
            case 0x8B:  // LONG4
                let n = Int32(truncatingIfNeeded: try uintLE(4))
                guard n >= 0, Int(n) <= bytes.count - pos else { throw fail("LONG4 length \(n) runs past the end") }
                push(try long(Int(n)))
            case 0x47:  // BINFLOAT: big-endian double
                let b = try take(8)
                var bits: UInt64 = 0
                for i in 0..<8 { bits = bits << 8 | UInt64(b[i]) }
                push(.float(Double(bitPattern: bits)))
            case 0x58: push(.string(try utf8(length(4))))  // BINUNICODE
            case 0x8C: push(.string(try utf8(length(1))))  // SHORT_BINUNICODE
            case 0x8D: push(.string(try utf8(length(8))))  // BINUNICODE8
            case 0x54, 0x55:  // BINSTRING, SHORT_BINSTRING (Python 2 str): bytes as Latin-1
                let n = op == 0x55 ? try length(1) : try length(4)
                push(.string(String(try take(n).map { Character(Unicode.Scalar($0)) })))
            case 0x42: push(.bytes(Array(try take(length(4)))))  // BINBYTES
            case 0x43: push(.bytes(Array(try take(length(1)))))  // SHORT_BINBYTES
            case 0x8E, 0x96: push(.bytes(Array(try take(length(8)))))  // BINBYTES8, BYTEARRAY8
            case 0x5D: push(box(.list))  // EMPTY_LIST
            case 0x29: push(box(.tuple))  // EMPTY_TUPLE
            case 0x7D: push(box(.dict))  // EMPTY_DICT
            case 0x8F: push(box(.set))  // EMPTY_SET
            case 0x61:  // APPEND
                let v = try pop()
                try listBox(try top(), "APPEND").items.append(v)
            case 0x65:  // APPENDS
                let items = try popMark()
                try listBox(try top(), "APPENDS").items.append(contentsOf: items)
            case 0x6C: push(box(.list, try popMark()))  // LIST
            case 0x74: push(box(.tuple, try popMark()))  // TUPLE
            case 0x85: let a = try pop(); push(box(.tuple, [a]))  // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); push(box(.tuple, [a, b]))  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); push(box(.tuple, [a, b, c]))  // TUPLE3
            case 0x64: push(try dictBox(ArraySlice(try popMark())))  // DICT
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                guard case .box(let d) = try top(), d.kind == .dict else { throw fail("SETITEM on something that is not a dict") }
                try d.set(key: k, keyHash: hashKey(k, depth: 0), value: v)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard case .box(let d) = try top(), d.kind == .dict else { throw fail("SETITEMS on something that is not a dict") }
                try setItems(d, ArraySlice(items))
            case 0x90:  // ADDITEMS
                let items = try popMark()
                guard case .box(let s) = try top(), s.kind == .set else { throw fail("ADDITEMS on something that is not a set") }
                s.items.append(contentsOf: items)
            case 0x91: push(box(.set, try popMark()))  // FROZENSET
            case 0x63:  // GLOBAL
                let module = try line(), name = try line()
                push(try resolveGlobal(module, name))
            case 0x93:  // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                push(try resolveGlobal(module, name))
            case 0x52:  // REDUCE
                let args = try pop(), callee = try pop()
                push(try call(callee, args))
            case 0x81:  // NEWOBJ
                let args = try pop(), cls = try pop()
                push(try newObject(cls, args))
            case 0x92:  // NEWOBJ_EX
                _ = try pop()
                let args = try pop(), cls = try pop()
                push(try newObject(cls, args))
            case 0x62:  // BUILD: sets an object's state; dicts and tensors need none of it
                _ = try pop()
                switch try top() {
                case .box(let b) where b.kind == .dict: break
                case .tensor: break
                default: throw fail("BUILD on an object that is not a dict or tensor")
                }
            case 0x51: push(try persistentLoad(try pop()))  // BINPERSID
            case 0x68: push(try memoGet(try u8()))  // BINGET
            case 0x6A: push(try memoGet(Int(try uintLE(4))))  // LONG_BINGET
            case 0x71: memo[try u8()] = try top()  // BINPUT
            case 0x72: memo[Int(try uintLE(4))] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x69:  // INST: names a class and calls it
                let module = try line(), name = try line()
                throw refused("\(module).\(name)")
            default:
                throw fail("opcode 0x\(String(op, radix: 16)) is not supported (torch.save does not write it)")
            }
        }
    }

    mutating func long(_ n: Int) throws -> PV {
        let b = try take(n)
        if n == 0 { return .int(0) }
        let negative = b[n - 1] & 0x80 != 0
        // Fits in 64 bits if every byte beyond the 8th is pure sign extension.
        var fits = true
        if n > 8 {
            for i in 8..<n where b[i] != (negative ? 0xFF : 0) { fits = false; break }
            if fits, (b[7] & 0x80 != 0) != negative { fits = false }
        }
        guard fits else { return .big(Array(b)) }
        var v: UInt64 = negative ? ~0 : 0
        for i in 0..<min(n, 8) {
            v &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            v |= UInt64(b[i]) << (8 * UInt64(i))
        }
        return .int(Int(Int64(bitPattern: v)))
    }

    func memoGet(_ index: Int) throws -> PV {
        guard let v = memo[index] else { throw fail("memo index \(index) was never stored") }
        return v
    }

    func refused(_ name: String) -> JukeboxError {
        JukeboxError(source, "refused global \(name) (opcode at byte \(opPos)): a checkpoint pickle may only "
                     + "rebuild tensors, storages and plain containers; nothing in it is ever run")
    }

    func resolveGlobal(_ module: String, _ name: String) throws -> PV {
        let full = "\(module).\(name)"
        if let callable = PickleCallable(global: full, torch: policy.torch) { return .callable(callable, full) }
        throw refused(full)
    }

    // MARK: - Conversion to the public tree

    /// Copies the internal graph into value types, bounding depth and size so shared or cyclic
    /// containers in a hostile pickle cannot blow the stack or the memory.
    func convert(_ root: PV) throws -> PickleValue {
        // A real pickle has about one value per two bytes; sharing in a hostile one could mean 2^n.
        let maxNodes = 1_000_000 + bytes.count
        var nodes = 0
        func go(_ v: PV, _ depth: Int) throws -> PickleValue {
            nodes += 1
            guard nodes <= maxNodes else { throw fail("more than \(maxNodes) values (shared containers?)") }
            guard depth <= Unpickler.maxDepth else { throw fail("containers nested deeper than \(Unpickler.maxDepth)") }
            switch v {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let n): return .int(n)
            case .big(let b): return .bigInt(b)
            case .float(let d): return .float(d)
            case .string(let s): return .string(s)
            case .bytes(let b): return .bytes(b)
            case .storage(let s): return .storage(s)
            case .tensor(let t): return .tensor(t)
            case .callable(_, let name): throw fail("the result holds the global \(name) itself")
            case .box(let b):
                let items = try b.items.map { try go($0, depth + 1) }
                switch b.kind {
                case .list: return .list(items)
                case .tuple: return .tuple(items)
                case .set: return .set(items)
                case .dict:
                    let keys = try b.keys.map { try go($0, depth + 1) }
                    return .dict(zip(keys, items).map { PickleDictEntry(key: $0, value: $1) })
                }
            }
        }
        return try go(root, 0)
    }

    /// Empties every container (the arena still holds them all, so no release recurses), then lets go.
    mutating func teardown() {
        stack.removeAll()
        memo.removeAll()
        for b in arena { b.clear() }
        arena.removeAll()
    }
}

/// The unpickler's working values: plain data, or references to containers that may still change.
enum PV {
    case none, bool(Bool), int(Int), big([UInt8]), float(Double), string(String), bytes([UInt8])
    case box(PBox)
    case callable(PickleCallable, String)
    case storage(TorchStorageRef)
    case tensor(TorchTensorRef)
}

/// Hashable form of a dict key (Python's equality: 1, 1.0 and True are the same key).
enum PKey: Hashable {
    case none, int(Int), big([UInt8]), float(UInt64), string(String), bytes([UInt8]), tuple([PKey])
}

/// A mutable container: list, tuple, set or dict (dict values in `items`, keys in `keys`).
final class PBox {
    enum Kind { case list, tuple, dict, set }
    let kind: Kind
    var items: [PV]
    var keys: [PV] = []
    var index: [PKey: Int] = [:]

    init(_ kind: Kind, _ items: [PV]) {
        self.kind = kind
        self.items = items
    }

    func set(key: PV, keyHash: PKey, value: PV) throws {
        if let i = index[keyHash] {
            items[i] = value
        } else {
            index[keyHash] = items.count
            keys.append(key)
            items.append(value)
        }
    }

    func clear() {
        items.removeAll()
        keys.removeAll()
        index.removeAll()
    }
}
