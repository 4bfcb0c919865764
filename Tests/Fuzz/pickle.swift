import JukeboxCore

/// libFuzzer target: arbitrary bytes as a .pth.tar checkpoint (legacy pickle layout or torch's zip),
/// through the restricted unpickler and every tensor read the converter does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    fuzzTorchCheckpoint(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
