import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the signal sources installed by `installSignalHandlers`; release it to uninstall them.
public final class SignalHandlers: @unchecked Sendable {
    let sources: [DispatchSourceSignal]
    init(sources: [DispatchSourceSignal]) { self.sources = sources }
    deinit { sources.forEach { $0.cancel() } }
}

/// On the first SIGTERM or SIGINT: run `beforeShutdown` (e.g. flip readiness to 503), shut `server` down
/// gracefully, then call `onStopped` (typically `exit(0)`). Only the executable should call this: it
/// changes the process's signal dispositions.
public func installSignalHandlers(for server: HTTPServer,
                                  signals: [Int32] = [SIGTERM, SIGINT],
                                  queue: DispatchQueue = DispatchQueue(label: "http.signals"),
                                  beforeShutdown: @escaping @Sendable () -> Void,
                                  onStopped: @escaping @Sendable () -> Void) -> SignalHandlers {
    // Responses go out with MSG_NOSIGNAL already; ignoring SIGPIPE also covers any other write a handler does.
    signal(SIGPIPE, SIG_IGN)
    var started = false
    let sources = signals.map { number -> DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler {
            guard !started else { return }
            started = true
            beforeShutdown()
            server.shutdown(completion: onStopped)
        }
        source.resume()
        return source
    }
    return SignalHandlers(sources: sources)
}
