#if canImport(Glibc)
    import Glibc
#endif

/// Fits the process's descriptor limit (RLIMIT_NOFILE) to the connections the server is asked to hold, at start, so a
/// configured `maxConnections` never fails later on `accept` (EMFILE) with clients already waiting.
public enum DescriptorLimit {
    /// Descriptors kept for everything that is not a connection: the listener, the wake-up pipe, epoll, standard streams,
    /// the model's and the TLS files while (re)loading, OpenBLAS and Dispatch.
    public static let reserved = 64

    public struct Outcome: Sendable, Equatable {
        /// The soft limit before and after.
        public var before: Int
        public var after: Int
        /// The hard limit (the most an unprivileged process may raise the soft one to).
        public var hard: Int
        /// The connections that fit under `after`: the number asked for, or fewer when the hard limit is too low.
        public var connections: Int
        /// Whether `connections` is below what was asked.
        public var capped: Bool
    }

    /// Raises the soft limit to what `connections` need (never lowers it; up to the hard limit) and says how many fit.
    public static func raise(toServe connections: Int) -> Outcome {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            return Outcome(before: -1, after: -1, hard: -1, connections: connections, capped: false)
        }
        let before = clamp(limit.rlim_cur)
        let hard = clamp(limit.rlim_max)
        let needed = connections + reserved
        var after = before
        if needed > before {
            var raised = limit
            raised.rlim_cur = rlim_t(min(needed, hard))
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { after = Int(raised.rlim_cur) }
        }
        let fit = max(1, min(connections, after - reserved))
        return Outcome(before: before, after: after, hard: hard, connections: fit, capped: fit < connections)
    }

    /// RLIM_INFINITY (all bits set) and anything past Int32 read as Int32.max.
    private static func clamp(_ value: rlim_t) -> Int { value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value) }
}
