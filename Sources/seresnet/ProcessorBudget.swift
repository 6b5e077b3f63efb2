import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How many CPUs this process may really use: the affinity mask, capped by a cgroup CPU quota
/// (containers get a quota, not the host's core count).
enum ProcessorBudget {
    static func available() -> Int {
        var count = affinityCount() ?? ProcessInfo.processInfo.activeProcessorCount
        if let quota = cgroupQuota() { count = min(count, quota) }
        return max(1, count)
    }

    /// CPUs in this process's affinity mask: the `Cpus_allowed` hex mask of /proc/self/status (Glibc's module
    /// does not export `sched_getaffinity`, which needs _GNU_SOURCE).
    private static func affinityCount() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("Cpus_allowed:") {
            let mask = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
            let count = mask.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
            return count > 0 ? count : nil
        }
        return nil
    }

    /// ceil(quota / period) from cgroup v2 `cpu.max` ("max 100000" means none) or v1 `cpu.cfs_quota_us`.
    private static func cgroupQuota() -> Int? {
        func read(_ path: String) -> String? {
            (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let line = read("/sys/fs/cgroup/cpu.max") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), period > 0 else { return nil }
            return Int((quota / period).rounded(.up))
        }
        if let quotaText = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), let quota = Double(quotaText), quota > 0,
            let periodText = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"), let period = Double(periodText), period > 0
        {
            return Int((quota / period).rounded(.up))
        }
        return nil
    }
}
