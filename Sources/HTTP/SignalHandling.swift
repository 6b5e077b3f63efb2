import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps the signal handling installed by `installSignalHandlers` alive.
public final class SignalHandlers: @unchecked Sendable {
    let source: DispatchSourceRead
    init(source: DispatchSourceRead) { self.source = source }
}

/// Where a signal-initiated shutdown has got to; touched only on the signal queue.
private final class ShutdownProgress: @unchecked Sendable {
    let server: HTTPServer
    let onStopped: @Sendable () -> Void
    var signalled = false
    private var shuttingDown = false

    init(server: HTTPServer, onStopped: @escaping @Sendable () -> Void) {
        self.server = server
        self.onStopped = onStopped
    }

    func shutDown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        server.shutdown(completion: onStopped)
    }
}

/// The write end of the self-pipe the C signal handler writes to (async-signal-safe: one `write`).
private var signalPipeWriteFD: Int32 = -1
private var signalPipeReadFD: Int32 = -1

private func forwardSignal(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteFD, &byte, 1)
}

/// On the first SIGTERM or SIGINT: run `beforeShutdown` (e.g. flip readiness to 503), keep serving for
/// `delay` (so load balancers polling readiness stop sending traffic while connections are still accepted),
/// then shut `server` down gracefully and call `onStopped` (typically `exit(0)`). A second signal during the
/// delay cuts it short. With `onHangup`, SIGHUP calls it (e.g. reload the TLS certificate) and stops nothing.
/// Only the executable should call this: it changes the process's signal dispositions.
///
/// A `sigaction` handler feeding a self-pipe rather than a Dispatch signal source: whichever thread the
/// kernel picks runs the handler, whereas a Dispatch source on Linux only sees the signal if no other thread
/// receives (and, with `SIG_IGN`, drops) it first.
public func installSignalHandlers(
    for server: HTTPServer,
    signals: [Int32] = [SIGTERM, SIGINT],
    queue: DispatchQueue = DispatchQueue(label: "http.signals"),
    delay: Duration = .zero,
    beforeShutdown: @escaping @Sendable () -> Void,
    onStopped: @escaping @Sendable () -> Void,
    onHangup: (@Sendable () -> Void)? = nil
) -> SignalHandlers {
    // Responses go out with MSG_NOSIGNAL already; ignoring SIGPIPE also covers any other write a handler does.
    signal(SIGPIPE, SIG_IGN)
    if signalPipeReadFD < 0 {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        signalPipeReadFD = fds[0]
        signalPipeWriteFD = fds[1]
    }
    let progress = ShutdownProgress(server: server, onStopped: onStopped)
    let source = DispatchSource.makeReadSource(fileDescriptor: signalPipeReadFD, queue: queue)
    let hangup = UInt8(truncatingIfNeeded: SIGHUP)
    source.setEventHandler {
        var buffer = [UInt8](repeating: 0, count: 16)
        let received = read(signalPipeReadFD, &buffer, buffer.count)  // one byte per signal: its number
        guard received > 0 else { return }
        let numbers = buffer.prefix(received)
        if let onHangup, numbers.contains(hangup) { onHangup() }
        let stops = numbers.filter { $0 != hangup }.count
        guard stops > 0 else { return }
        if progress.signalled { return progress.shutDown() }
        progress.signalled = true
        beforeShutdown()
        if delay > .zero && stops < 2 {
            let nanoseconds = Int(delay.components.seconds) * 1_000_000_000 + Int(delay.components.attoseconds / 1_000_000_000)
            queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { progress.shutDown() }
        } else {
            progress.shutDown()
        }
    }
    source.resume()
    for number in signals + (onHangup == nil ? [] : [SIGHUP]) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = forwardSignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(number, &action, nil)
    }
    return SignalHandlers(source: source)
}
