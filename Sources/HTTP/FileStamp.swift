#if canImport(Glibc)
    import Glibc
#endif

/// What tells a reloadable file (TLS pair, tokens) changed: modification time, size and inode (a Kubernetes Secret
/// update swaps a symlink, so the inode changes even when the time does not). Nil when the file cannot be stat'ed.
struct FileStamp: Equatable, Sendable {
    var seconds: Int
    var nanoseconds: Int
    var size: Int
    var inode: UInt

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        seconds = info.st_mtim.tv_sec
        nanoseconds = info.st_mtim.tv_nsec
        size = Int(info.st_size)
        inode = UInt(info.st_ino)
    }
}
