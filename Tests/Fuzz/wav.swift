import JukeboxCore

/// libFuzzer target: arbitrary bytes as an audio file (the path `jukebox encode` reads through).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudio(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzEntry.audio(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
