import StudioKit

/// libFuzzer target: arbitrary bytes as a studio preset and as a theme (TOML: our key and header checks, then
/// TOMLKit's toml++, then typed fields). Errors are expected; a crash, abort or leak is what is looked for.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Preset.parse(text, file: "fuzz.toml")
    _ = try? Theme.parse(text, file: "fuzz.toml")
    return 0
}
