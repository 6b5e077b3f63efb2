import CEpoll

#if canImport(Glibc)
    import Glibc
#endif

/// The event loop's readiness source: epoll, level-triggered, one registration per descriptor changed only when what
/// the loop wants from it changes, so a turn costs what is ready, not what is open (10,000 idle keep-alive connections
/// cost nothing per turn; `poll` rebuilt and scanned all of them on every wake-up).
///
/// Level- rather than edge-triggered: a connection that stops reading with input left (the output high-water mark, a
/// request handed to a handler, the per-turn read cap that keeps one client from starving the others) is reported again
/// on the next turn by the kernel itself. Edge-triggered would save the interest changes but oblige every such stop to
/// remember to come back, and a missed one hangs a connection; the changes cost one `epoll_ctl` each, about twice per
/// request.
final class EventPoller {
    /// What a registration is watched for and what a report says, in poll(2)'s bits (`POLLIN`, `POLLOUT`; reports
    /// add `POLLERR`, `POLLHUP`).
    typealias Events = Int16

    private let fd: Int32
    private var reports: [cep_event]

    /// A new epoll instance; `SocketError` when the kernel refuses one (out of descriptors or memory).
    init(capacity: Int = 256) throws {
        fd = cep_create()
        guard fd >= 0 else { throw SocketError(operation: "epoll_create1", errno: errno) }
        reports = [cep_event](repeating: cep_event(), count: capacity)
    }

    deinit { close(fd) }

    /// Starts watching `descriptor` for `events`, reported with `token`. False (errno set) when the kernel refuses.
    @discardableResult
    func add(_ descriptor: Int32, events: Events, token: UInt64) -> Bool {
        cep_add(fd, descriptor, UInt32(UInt16(bitPattern: events)), token) == 0
    }

    /// Changes what `descriptor` is watched for.
    @discardableResult
    func modify(_ descriptor: Int32, events: Events, token: UInt64) -> Bool {
        cep_modify(fd, descriptor, UInt32(UInt16(bitPattern: events)), token) == 0
    }

    /// Stops watching `descriptor`; call before closing it.
    func remove(_ descriptor: Int32) { _ = cep_remove(fd, descriptor) }

    /// Waits up to `timeoutMilliseconds` (0: just look) and calls `body` with each ready registration's token and
    /// events. A signal's interruption counts as a timeout.
    func wait(timeoutMilliseconds: Int32, _ body: (UInt64, Events) -> Void) {
        let capacity = Int32(reports.count)
        let n = reports.withUnsafeMutableBufferPointer { cep_wait(fd, $0.baseAddress, capacity, timeoutMilliseconds) }
        for i in 0..<max(0, Int(n)) {
            body(reports[i].token, Events(truncatingIfNeeded: reports[i].events))
        }
    }
}
