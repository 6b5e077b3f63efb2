import Foundation
import Testing

@testable import HTTP

#if canImport(Glibc)
    import Glibc
#endif

/// The event loop's two indexes: the deadline heap against a plain dictionary, epoll against a pipe.
struct EventLoopPartsTests {
    @Test func deadlineHeapAgreesWithANaiveModel() {
        let t0 = ContinuousClock.now
        var heap = DeadlineHeap()
        var model: [UInt64: ContinuousClock.Instant] = [:]
        var seed: UInt64 = 0x5EED
        func next(_ bound: UInt64) -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (seed >> 33) % bound
        }
        for step in 0..<20_000 {
            let id = next(300)
            switch next(10) {
            case 0..<6:
                let deadline = t0 + .milliseconds(Int(next(10_000)))
                heap.set(id, to: deadline)
                model[id] = deadline
            case 6..<8:
                heap.remove(id)
                model[id] = nil
            case 8:
                heap.set(id, to: nil)
                model[id] = nil
            default:
                let now = t0 + .milliseconds(Int(next(10_000)))
                if let popped = heap.popDue(at: now) {
                    let earliest = model.values.min()!
                    #expect(model[popped] == earliest && earliest <= now, "step \(step)")
                    model[popped] = nil
                } else {
                    #expect(model.values.allSatisfy { $0 > now }, "step \(step)")
                }
            }
            #expect(heap.count == model.count)
            #expect(heap.first?.deadline == model.values.min())
            #expect(heap.deadline(of: id) == model[id])
        }
        // Draining in order gives every deadline, earliest first.
        var drained: [ContinuousClock.Instant] = []
        while let id = heap.popDue(at: t0 + .seconds(100)) { drained.append(model.removeValue(forKey: id)!) }
        #expect(drained == drained.sorted() && model.isEmpty && heap.isEmpty)
    }

    @Test func pollerReportsReadinessAsRegisteredAndChanged() throws {
        let poller = try EventPoller()
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        func reports(_ timeout: Int32 = 0) -> [(UInt64, Int16)] {
            var seen: [(UInt64, Int16)] = []
            poller.wait(timeoutMilliseconds: timeout) { seen.append(($0, $1)) }
            return seen
        }
        #expect(poller.add(fds[0], events: Int16(POLLIN), token: 42))
        #expect(poller.add(fds[1], events: 0, token: 7))
        #expect(reports().isEmpty)
        var byte: UInt8 = 1
        #expect(write(fds[1], &byte, 1) == 1)
        // Level-triggered: reported on every wait until read.
        for _ in 0..<2 {
            let seen = reports(100)
            #expect(seen.count == 1 && seen.first?.0 == 42 && seen.first!.1 & Int16(POLLIN) != 0)
        }
        // Interest changed: the writable end reports POLLOUT, the unwatched reader nothing.
        #expect(poller.modify(fds[0], events: 0, token: 42))
        #expect(poller.modify(fds[1], events: Int16(POLLOUT), token: 7))
        let seen = reports(100)
        #expect(seen.count == 1 && seen.first?.0 == 7 && seen.first!.1 & Int16(POLLOUT) != 0)
        poller.remove(fds[1])
        #expect(reports().isEmpty)
        // The reader sees the writer's hang-up even with no events asked for.
        close(fds[1])
        fds[1] = -1
        let hangUp = reports(100)
        #expect(hangUp.count == 1 && hangUp.first?.0 == 42 && hangUp.first!.1 & Int16(POLLHUP) != 0)
    }
}

/// The descriptor limit fitted at start: raised to what the connections need, and the connections capped to what fits.
@Test func descriptorLimitIsRaisedToFitOrCapsTheConnections() {
    let fits = DescriptorLimit.raise(toServe: 100)
    #expect(!fits.capped && fits.connections == 100 && fits.after >= 100 + DescriptorLimit.reserved)
    #expect(fits.after >= fits.before && fits.after <= fits.hard)
    let tooMany = DescriptorLimit.raise(toServe: fits.hard + 1000)
    #expect(tooMany.capped && tooMany.connections == tooMany.after - DescriptorLimit.reserved)
    var limit = rlimit()
    #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 && Int(limit.rlim_cur) == tooMany.after)
}
