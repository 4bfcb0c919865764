import CKernels
import Dispatch

/// Splits `0..<count` into contiguous chunks run on all cores; small jobs stay on the caller's thread
/// because dispatching costs more than the work.
public func parallelFor(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let workers = ProcessInfoCache.cores
    let chunks = min(workers, max(1, count / max(minChunk, 1)))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = count * c / chunks, hi = count * (c + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}

/// parallelFor for work between a sampling step's products: on the kernels' pool when it is free, whose
/// threads spin there between products (Dispatch's threads would compete with them for the same cores).
/// Elsewhere (the VQ-VAE, training) parallelFor's Dispatch threads are better: the pool's spinning worker
/// would compete with OpenBLAS's threads after each loop (measured: the VQ-VAE decode 1.2 times slower).
public func stepParallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
    let chunks = min(ProcessInfoCache.cores, count)
    if chunks <= 1 {
        body(0..<count)
        return
    }
    let pooled = withoutActuallyEscaping(body) { body in
        var loop = PoolLoop(count: count, chunks: chunks, body: body)
        return withUnsafeMutablePointer(to: &loop) { jk_try_parallel(poolLoopPart, $0) != 0 }
    }
    if !pooled { parallelFor(count, body) }
}

/// A parallelFor run on the pool: part p of the pool takes chunks p, p + parts, ….
private struct PoolLoop {
    let count: Int
    let chunks: Int
    let body: (Range<Int>) -> Void
}

private let poolLoopPart: jk_task = { context, part, parts in
    let loop = context!.assumingMemoryBound(to: PoolLoop.self).pointee
    var c = Int(part)
    while c < loop.chunks {
        let lo = loop.count * c / loop.chunks, hi = loop.count * (c + 1) / loop.chunks
        if lo < hi { loop.body(lo..<hi) }
        c += Int(parts)
    }
}

enum ProcessInfoCache {
    static let cores: Int = {
        #if canImport(Glibc)
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, n)
        #else
        return 1
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#endif
