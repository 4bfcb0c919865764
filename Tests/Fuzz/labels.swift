import JukeboxCore

/// libFuzzer target: arbitrary bytes as a label id list (name;id lines) and the lookups made in it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLabels(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.labels(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
