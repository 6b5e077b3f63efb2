import Foundation
import Imaging
import TestSupport
import Testing

@testable import Service

/// The memory budget: the cgroup limit found as the kernel lays it out, the split of what the model leaves, and the
/// decode reservations that split feeds.
struct MemoryBudgetTests {
    /// A fake /proc/self/cgroup and cgroup mount under a temporary directory.
    static func layout(_ cgroup: String, files: [String: String]) throws -> (proc: String, root: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)")
        for (path, value) in files {
            let url = base.appendingPathComponent("sys" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try value.write(to: url, atomically: false, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let proc = base.appendingPathComponent("cgroup").path
        try cgroup.write(toFile: proc, atomically: false, encoding: .utf8)
        return (proc, base.appendingPathComponent("sys").path)
    }

    @Test func readsTheTightestLimitOverTheGroupAndItsAncestors() throws {
        // v1, as on this kind of machine: the group's own limit unset (2^63 rounded to pages), a parent's set.
        let v1 = try Self.layout(
            "9:name=systemd:/\n4:memory:/pods/p1\n0::/\n",
            files: [
                "/memory/pods/p1/memory.limit_in_bytes": "9223372036854771712\n", "/memory/pods/memory.limit_in_bytes": "734003200\n",
                "/memory/memory.limit_in_bytes": "9223372036854771712\n",
            ])
        let limit = try #require(MemoryBudget.cgroupLimit(procSelfCgroup: v1.proc, root: v1.root))
        #expect(limit.bytes == 734_003_200 && limit.source.hasSuffix("/memory/pods/memory.limit_in_bytes"))
        // v2 inside a container's cgroup namespace: "0::/" and the limit at the mount's root; "max" is none.
        let v2 = try Self.layout("0::/\n", files: ["/memory.max": "2147483648\n"])
        #expect(MemoryBudget.cgroupLimit(procSelfCgroup: v2.proc, root: v2.root)?.bytes == 2_147_483_648)
        let unlimited = try Self.layout("0::/service\n", files: ["/service/memory.max": "max\n", "/memory.max": "max\n"])
        #expect(MemoryBudget.cgroupLimit(procSelfCgroup: unlimited.proc, root: unlimited.root) == nil)
        #expect(MemoryBudget.cgroupLimit(procSelfCgroup: "/nonexistent", root: v2.root) == nil)
    }

    @Test func theSplitGivesOneMaxSizeDecodeRoomThenBodies() {
        let mib = 1 << 20
        let plan = MemoryBudget.plan(
            limit: 700 * mib, resident: 300 * mib, maxBodyBytes: 16 * mib, configuredBodies: 512 * mib, maxPixels: 50_000_000,
            queuedTensors: 64, tensorBytes: 602_112)
        #expect(plan.headroom == 48 * mib + 35 * mib + 64 * 602_112)
        #expect(plan.bodies + plan.decodes + plan.headroom + plan.resident == plan.limit)
        #expect(plan.decodes >= 175_000_000 && plan.largestBaselinePixels >= 50_000_000 && plan.bodies >= 16 * mib)
        // Plenty of memory: bodies get what was configured, decodes the rest.
        let roomy = MemoryBudget.plan(
            limit: 8192 * mib, resident: 300 * mib, maxBodyBytes: 16 * mib, configuredBodies: 512 * mib, maxPixels: 50_000_000,
            queuedTensors: 64, tensorBytes: 602_112)
        #expect(roomy.bodies == 512 * mib && roomy.decodes == roomy.limit - roomy.resident - roomy.headroom - roomy.bodies)
        // The model alone fills the limit: one body still fits, decodes get nothing (every image is refused, said at start).
        let full = MemoryBudget.plan(
            limit: 400 * mib, resident: 390 * mib, maxBodyBytes: 16 * mib, configuredBodies: 512 * mib, maxPixels: 50_000_000,
            queuedTensors: 64, tensorBytes: 602_112)
        #expect(full.bodies == 16 * mib && full.decodes == 0 && full.largestBaselinePixels == 0)
    }

    @Test func decodeReservationsWaitForRoomAndRefuseWhatNeverFits() async throws {
        let memory = DecodeMemory(limit: 100)
        #expect(memory.reserve(60, wait: .zero) == .reserved)
        #expect(memory.reserve(101, wait: .seconds(5)) == .neverFits)
        #expect(memory.reserve(50, wait: .milliseconds(20)) == .timedOut)
        // A waiting reservation goes through once room comes back.
        let waiter = Task.detached { memory.reserve(50, wait: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(50))
        memory.release(60)
        #expect(await waiter.value == .reserved)
        #expect(memory.usage == (held: 50, peak: 60))
        memory.limit = 40  // lowered below what is held: new reservations wait until enough is released
        #expect(memory.reserve(1, wait: .milliseconds(10)) == .timedOut)
        memory.release(50)
        #expect(memory.reserve(40, wait: .zero) == .reserved)
    }

    @Test func decodeFootprintsFollowTheHeader() throws {
        func footprint(_ name: String, scale: Int? = nil) throws -> DecodeFootprint {
            var seen: DecodeFootprint?
            _ = try decodeJPEG(try Fixtures.image(name), targetShorterSide: scale) { seen = $0 }
            return try #require(seen)
        }
        let baseline = try footprint("cat-444.jpg")
        let progressive = try footprint("coffee-progressive.jpg")
        #expect(baseline.bytes >= baseline.width * baseline.height * 3)
        // Progressive files keep every coefficient: at least 2 bytes a sample more than the frame.
        #expect(progressive.bytes >= progressive.width * progressive.height * (3 + 2))
        let large = try footprint("astronaut-large-4096x4096.jpg")
        let scaled = try footprint("astronaut-large-4096x4096.jpg", scale: 256)
        #expect(scaled.width < large.width && scaled.bytes < large.bytes / 4)
    }
}
