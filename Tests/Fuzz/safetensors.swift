import JukeboxCore

/// libFuzzer target: arbitrary bytes as a safetensors file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.safetensors(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
