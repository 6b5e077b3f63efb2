import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps request bodies from pinning memory after a burst of large uploads.
///
/// glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), so after the first
/// few multi-megabyte uploads every later body lands in the malloc arenas instead of its own mapping, and
/// the arenas keep those pages: measured here, 64 concurrent 15 MB uploads left `serve` at 0.83–1.05 GiB
/// resident for good (from 380 MiB). Setting the threshold explicitly turns that adjustment off, so blocks of
/// `largeBlockBytes` and more are mapped and unmapped on their own and resident memory returns to the
/// baseline after the burst. Typical JPEG bodies (well under 1 MiB) stay in the arenas.
enum MemoryPolicy {
    static let largeBlockBytes: Int32 = 1 << 20

    /// Applies the fixed threshold unless `GLIBC_TUNABLES` already sets one. Returns what was done, for the log.
    static func apply() -> String {
        #if canImport(Glibc)
            if let tunables = ProcessInfo.processInfo.environment["GLIBC_TUNABLES"], tunables.contains("malloc.mmap_threshold") {
                return "left to GLIBC_TUNABLES"
            }
            // Glibc's Swift module does not export mallopt; it is a plain exported symbol of libc.
            guard let symbol = dlsym(nil, "mallopt") else { return "mallopt unavailable" }
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in <malloc.h>
            return mallopt(mmapThreshold, largeBlockBytes) == 1 ? "mmap threshold \(largeBlockBytes) bytes" : "mallopt refused"
        #else
            return "not glibc"
        #endif
    }
}
