import Foundation

/// Sizes what the service buffers from the memory limit the container is given, so the worst case of what clients
/// send fits beside the loaded model instead of getting the process OOM-killed: read the cgroup limit at start, measure
/// what the loaded model holds, and split what is left between request bodies (the HTTP server's body budget, 503
/// `too_many_uploads` beyond it) and decodes (`DecodeMemory`, 503 `memory_exhausted` beyond it).
public enum MemoryBudget {
    /// The memory limit of this process's cgroup and the file it came from.
    public struct Limit: Equatable, Sendable {
        public var bytes: Int
        public var source: String
    }

    /// The tightest memory limit over this process's cgroup and its ancestors: v2 `memory.max`, v1
    /// `memory.limit_in_bytes` (the v1 "no limit" value, near 2⁶³, is no limit). Nil without one.
    public static func cgroupLimit(procSelfCgroup: String = "/proc/self/cgroup", root: String = "/sys/fs/cgroup") -> Limit? {
        guard let text = try? String(contentsOfFile: procSelfCgroup, encoding: .utf8) else { return nil }
        var candidates: [(directory: String, file: String)] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let path = String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                candidates += ancestors(of: path).map { (root + $0, "memory.max") }
                candidates += ancestors(of: path).map { (root + "/unified" + $0, "memory.max") }
            } else if fields[1].split(separator: ",").contains("memory") {
                candidates += ancestors(of: path).map { (root + "/memory" + $0, "memory.limit_in_bytes") }
            }
        }
        var tightest: Limit?
        for (directory, file) in candidates {
            let path = directory + "/" + file
            guard let value = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                let bytes = Int(value), bytes < 1 << 62
            else { continue }
            if bytes < tightest?.bytes ?? Int.max { tightest = Limit(bytes: bytes, source: path) }
        }
        return tightest
    }

    /// "/a/b" → ["/a/b", "/a", ""] (the last is the mount's root: inside a container's cgroup namespace the own group).
    private static func ancestors(of path: String) -> [String] {
        var parts = path.split(separator: "/").map(String.init)
        var result: [String] = []
        while true {
            result.append(parts.isEmpty ? "" : "/" + parts.joined(separator: "/"))
            if parts.isEmpty { break }
            parts.removeLast()
        }
        return result
    }

    /// This process's resident set (VmRSS), in bytes.
    public static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        return nil
    }

    public struct Plan: Equatable, Sendable {
        public var limit: Int
        /// Held by the loaded model, engines and runtime when the plan was made.
        public var resident: Int
        /// Kept free for what the budgets do not count: queued input tensors, responses, allocator slack, stacks.
        public var headroom: Int
        /// Request bodies in flight.
        public var bodies: Int
        /// Decodes in flight.
        public var decodes: Int
        /// The largest image (pixels) whose baseline decode fits `decodes`.
        public var largestBaselinePixels: Int
    }

    /// Splits `limit` − `resident` − headroom: decodes first get room for one baseline image of `maxPixels` (its RGB
    /// frame and preprocessing), bodies what is left (at least one body at `maxBodyBytes`, at most `configuredBodies`),
    /// decodes the rest.
    public static func plan(
        limit: Int, resident: Int, maxBodyBytes: Int, configuredBodies: Int, maxPixels: Int, queuedTensors: Int, tensorBytes: Int
    ) -> Plan {
        let headroom = 48 << 20 + limit / 20 + queuedTensors * tensorBytes
        let free = max(0, limit - resident - headroom)
        let oneDecode = maxPixels * 3 + maxPixels / 2
        let bodies = max(maxBodyBytes, min(configuredBodies, free - min(free, oneDecode)))
        let decodes = max(0, free - bodies)
        return Plan(
            limit: limit, resident: resident, headroom: headroom, bodies: bodies, decodes: decodes,
            largestBaselinePixels: decodes * 2 / 7)
    }
}
