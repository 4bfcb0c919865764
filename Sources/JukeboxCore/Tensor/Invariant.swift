/// A check of the engine's own bookkeeping (shapes that must agree, ids inside a table) that holds
/// whatever the input, because inputs are validated with thrown errors where they enter. JukeboxCore
/// builds with -Ounchecked for its kernels' sake, which turns `precondition` into an assumption the
/// optimiser may act on; a broken invariant must stop the program with its message instead of reading
/// past a buffer, so these checks trap through `fatalError`, which -Ounchecked keeps. Each costs one
/// comparison per call, never per element.
@inline(__always)
package func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = "",
               file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
