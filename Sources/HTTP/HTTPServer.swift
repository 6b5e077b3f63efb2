import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A socket call failed while starting the server (bad host, port in use, out of descriptors).
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32
    public var description: String { "\(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// An HTTP/1.1 server on BSD sockets: one event-loop thread does all socket I/O and runs each connection's state
/// machine; handlers run on a concurrent Dispatch queue and hand their responses back through a mailbox and a
/// wake-up pipe. A turn of the loop costs what happened, not what is open: readiness comes from epoll
/// (`EventPoller`, registrations changed only when a connection's wants change) and timeouts from a heap of each
/// connection's next deadline (`DeadlineHeap`), so idle keep-alive connections cost nothing until they expire.
public final class HTTPServer: @unchecked Sendable {
    /// Everything tunable; defaults suit a public-facing service.
    public struct Configuration: Sendable {
        /// Address to bind: `127.0.0.1`, `0.0.0.0`, `::` (all IPv6 and, on Linux, IPv4-mapped) or a name.
        public var host = "127.0.0.1"
        /// Port to bind; 0 picks a free one (see `start()`'s result).
        public var port = 8080
        public var maxBodyBytes = 16 * 1024 * 1024
        /// Request-body bytes held in memory at once, summed over all connections and counted as they arrive; an
        /// upload that cannot fit gets 503 + Retry-After (see `BodyBudget`). At least `maxBodyBytes`.
        public var maxBufferedBodyBytes = 512 * 1024 * 1024
        public var maxHeaderBytes = 16 * 1024
        public var maxHeaderCount = 100
        public var maxTargetBytes = 8 * 1024
        public var headerReadTimeout: Duration = .seconds(10)
        public var bodyIdleTimeout: Duration = .seconds(30)
        /// From the end of a request's head to the end of its body → 408 (a trickling upload cannot hold a
        /// connection for hours by sending a byte just inside `bodyIdleTimeout`).
        public var bodyTimeout: Duration = .seconds(60)
        public var keepAliveIdleTimeout: Duration = .seconds(60)
        public var writeTimeout: Duration = .seconds(30)
        /// Longest time a connection's queued responses may take to drain, however slowly they progress.
        public var drainTimeout: Duration = .seconds(120)
        /// How long a closing connection drains unread request bytes so the client sees the response.
        public var lingerTimeout: Duration = .seconds(2)
        /// Connections beyond this are answered 503 and closed at once. Each holds a descriptor: see
        /// `DescriptorLimit.raise(toServe:)` for fitting RLIMIT_NOFILE to it.
        public var maxConnections = 10_000
        /// How long graceful shutdown waits for in-flight requests before closing everything.
        public var shutdownDeadline: Duration = .seconds(30)
        public var listenBacklog: Int32 = 1024
        /// HTTPS: every accepted connection speaks TLS with the store's current certificate; nil: plain HTTP.
        public var tls: TLSContextStore?
        public init() {}

        var limits: RequestParser.Limits {
            var limits = RequestParser.Limits()
            limits.maxBodyBytes = maxBodyBytes
            limits.maxHeaderBytes = maxHeaderBytes
            limits.maxHeaderCount = maxHeaderCount
            limits.maxTargetBytes = maxTargetBytes
            return limits
        }

        var timeouts: ConnectionTimeouts {
            var timeouts = ConnectionTimeouts()
            timeouts.headerRead = headerReadTimeout
            timeouts.bodyIdle = bodyIdleTimeout
            timeouts.body = bodyTimeout
            timeouts.keepAliveIdle = keepAliveIdleTimeout
            timeouts.write = writeTimeout
            timeouts.drain = drainTimeout
            timeouts.linger = lingerTimeout
            return timeouts
        }
    }

    public let configuration: Configuration
    private let router: Router
    private let errorResponder: @Sendable (HTTPServerError) -> HTTPResponse
    private let onResponse: (@Sendable (ResponseLog) -> Void)?
    private let handlerQueue: DispatchQueue

    // Shared with other threads, guarded by `lock`.
    private let lock = NSLock()
    private var mailbox: [(id: UInt64, sequence: UInt64, response: HTTPResponse)] = []
    private var shutdownCompletions: [@Sendable () -> Void] = []
    private var pendingBodyLimit: Int?
    private var shutdownRequested = false
    private var leavingRequested = false
    private var loopRunning = false
    private var openConnections = 0
    private var acceptedConnections = 0
    private var boundPort: Int?

    // Owned by the event-loop thread.
    private var wakeReadFD: Int32 = -1
    private var wakeWriteFD: Int32 = -1
    private var listening = false
    private var listenFD: Int32 = -1
    private var poller: EventPoller!
    private var connections: [UInt64: Connection] = [:]
    /// Connections whose interest, deadline or buffered input may have changed this turn (`touch`), brought up to
    /// date in `refresh` at the turn's end.
    private var touched: [Connection] = []
    private var deadlines = DeadlineHeap()
    /// TLS connections holding decrypted input epoll cannot see: served next turn without waiting.
    private var bufferedInput: [UInt64] = []
    private var ready: [(token: UInt64, events: Int16)] = []
    private var nextConnectionID: UInt64 = 2
    private var httpDate = HTTPDate()
    private var context: ConnectionContext!
    private var stopping = false
    private var leaving = false
    private var shutdownDeadline: ContinuousClock.Instant?
    private var acceptPausedUntil: ContinuousClock.Instant?
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Body reservations of connections that closed while their handler still runs (it still holds the body),
    /// given back when that handler's response arrives.
    private var orphanedBodyBytes: [UInt64: Int] = [:]

    private static let listenerID: UInt64 = 0
    private static let wakeID: UInt64 = 1
    private static let outputHighWater = 1 << 20
    /// The longest the loop sleeps with nothing due (a bound, not a tick: nothing runs per connection on waking).
    private static let longestWait: Duration = .seconds(1)

    /// A server answering `router`'s routes. `errorResponder` renders every error response (parse errors,
    /// timeouts, 404/405, 413…); `onResponse` sees one record per response, on the event-loop thread, so it
    /// must be quick. Handlers run on `handlerQueue`.
    public init(
        configuration: Configuration = Configuration(),
        router: Router,
        errorResponder: @escaping @Sendable (HTTPServerError) -> HTTPResponse = { HTTPResponse.defaultError($0) },
        onResponse: (@Sendable (ResponseLog) -> Void)? = nil,
        handlerQueue: DispatchQueue = DispatchQueue(label: "http.handlers", attributes: .concurrent)
    ) {
        self.configuration = configuration
        self.router = router
        self.errorResponder = errorResponder
        self.onResponse = onResponse
        self.handlerQueue = handlerQueue
    }

    /// Changes the request-body budget (`Configuration.maxBufferedBodyBytes`) of a running server, e.g. once the
    /// memory the loaded model leaves is known; never below `maxBodyBytes`. Applied on the event loop's next turn.
    public func setBufferedBodyLimit(_ bytes: Int) {
        lock.withLock { pendingBodyLimit = max(bytes, configuration.maxBodyBytes) }
        wake()
    }

    /// Connections currently open (including ones draining before close).
    public var connectionCount: Int { lock.withLock { openConnections } }

    /// Connections accepted since start, including refused ones.
    public var acceptedConnectionCount: Int { lock.withLock { acceptedConnections } }

    /// The bound port once started.
    public var port: Int? { lock.withLock { boundPort } }

    /// Binds, listens and starts the event loop; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        if lock.withLock({ loopRunning || boundPort != nil }) {
            throw SocketError(operation: "start (the server was already started once)", errno: EALREADY)
        }
        let listener = try Self.makeListener(host: configuration.host, port: configuration.port, backlog: configuration.listenBacklog)
        let port = try Self.localPort(listener)
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            close(listener.fd)
            throw SocketError(operation: "pipe", errno: errno)
        }
        Self.makeNonBlocking(pipeFDs[0])
        Self.makeNonBlocking(pipeFDs[1])
        do {
            poller = try EventPoller()
        } catch {
            close(listener.fd)
            close(pipeFDs[0])
            close(pipeFDs[1])
            throw error
        }
        poller.add(pipeFDs[0], events: Int16(POLLIN), token: Self.wakeID)
        poller.add(listener.fd, events: Int16(POLLIN), token: Self.listenerID)
        wakeReadFD = pipeFDs[0]
        wakeWriteFD = pipeFDs[1]
        listenFD = listener.fd
        listening = true
        context = ConnectionContext(
            router: router,
            limits: configuration.limits,
            bodyBudget: BodyBudget(limit: max(configuration.maxBufferedBodyBytes, configuration.maxBodyBytes)),
            timeouts: configuration.timeouts,
            errorResponder: errorResponder,
            date: { [unowned self] in self.httpDate.now() })
        lock.withLock {
            loopRunning = true
            boundPort = port
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "http-event-loop"
        thread.start()
        return port
    }

    /// Graceful shutdown: stop accepting, close idle connections, let in-flight requests finish (their
    /// responses carry `Connection: close`) until `shutdownDeadline`, then close the rest and call `completion`.
    public func shutdown(completion: @escaping @Sendable () -> Void) {
        let running: Bool = lock.withLock {
            guard loopRunning else { return false }
            shutdownCompletions.append(completion)
            shutdownRequested = true
            return true
        }
        if running { wake() } else { completion() }
    }

    /// The first step of leaving (SIGTERM, before the shutdown delay's end): keep accepting and serving, but answer
    /// every request with `Connection: close`, so keep-alive clients reconnect (through their load balancer, to
    /// another instance) after each response rather than reuse a connection the drain will close under them.
    public func beginLeaving() {
        let running: Bool = lock.withLock {
            leavingRequested = true
            return loopRunning
        }
        if running { wake() }
    }

    // MARK: - Event loop

    private final class Connection {
        let id: UInt64
        let fd: Int32
        let transport: any ConnectionTransport
        var machine: ConnectionStateMachine
        var output: [UInt8] = []
        var outputOffset = 0
        var closeRequested = false
        var sentFIN = false
        var dispatchSequence: UInt64 = 0
        var closed = false
        /// What epoll watches this connection for.
        var registeredEvents: Int16
        /// Listed in the server's `touched` this turn.
        var touched = false

        init(id: UInt64, fd: Int32, transport: any ConnectionTransport, machine: ConnectionStateMachine, registeredEvents: Int16) {
            self.id = id
            self.fd = fd
            self.transport = transport
            self.machine = machine
            self.registeredEvents = registeredEvents
        }

        var pendingOutput: Int { output.count - outputOffset }
    }

    private func run() {
        while true {
            poller.wait(timeoutMilliseconds: bufferedInput.isEmpty ? waitMilliseconds(now: .now) : 0) { token, events in
                ready.append((token, events))
            }
            let now = ContinuousClock.now
            let buffered = bufferedInput
            bufferedInput.removeAll(keepingCapacity: true)
            for id in buffered {
                if let connection = connections[id], connection.machine.wantsRead { readAvailable(connection, now: now) }
            }
            for (token, events) in ready {
                switch token {
                case Self.listenerID: acceptConnections(now: now)
                case Self.wakeID:
                    var drain = [UInt8](repeating: 0, count: 64)
                    _ = read(wakeReadFD, &drain, drain.count)
                default:
                    guard let connection = connections[token] else { continue }
                    handle(events, on: connection, now: now)
                }
            }
            ready.removeAll(keepingCapacity: true)
            deliverResponses(now: now)
            let (leavingAsked, shutdownAsked, bodyLimit) = lock.withLock {
                defer { pendingBodyLimit = nil }
                return (leavingRequested, shutdownRequested, pendingBodyLimit)
            }
            if let bodyLimit { context.bodyBudget.limit = bodyLimit }
            if leavingAsked && !leaving {
                leaving = true
                for connection in connections.values { connection.machine.beginLeaving() }
            }
            if shutdownAsked && !stopping { beginShutdown(now: now) }
            while let id = deadlines.popDue(at: now) {
                guard let connection = connections[id] else { continue }
                execute(connection.machine.tick(now: now), on: connection, now: now)
            }
            if let until = acceptPausedUntil, now >= until, !stopping {
                acceptPausedUntil = nil
                listening = true
                poller.modify(listenFD, events: Int16(POLLIN), token: Self.listenerID)
            }
            if stopping, let deadline = shutdownDeadline, now >= deadline {
                for connection in Array(connections.values) { destroy(connection) }
            }
            refresh()
            if stopping && connections.isEmpty { break }
        }
        let completions: [@Sendable () -> Void] = lock.withLock {
            loopRunning = false
            close(wakeWriteFD)
            return shutdownCompletions
        }
        close(wakeReadFD)
        for completion in completions { DispatchQueue.global().async(execute: completion) }
    }

    /// Milliseconds until the earliest thing due (a connection's deadline, the listener's pause, the shutdown
    /// deadline), rounded up so the loop never wakes before it; at most `longestWait`.
    private func waitMilliseconds(now: ContinuousClock.Instant) -> Int32 {
        var until = now + Self.longestWait
        if let first = deadlines.first { until = min(until, first.deadline) }
        if let paused = acceptPausedUntil, !stopping { until = min(until, paused) }
        if stopping, let deadline = shutdownDeadline { until = min(until, deadline) }
        guard until > now else { return 0 }
        let (seconds, attoseconds) = (until - now).components
        return Int32(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    /// Marks a connection for `refresh` at the end of the turn.
    private func touch(_ connection: Connection) {
        guard !connection.touched else { return }
        connection.touched = true
        touched.append(connection)
    }

    /// Brings the touched connections' epoll interest, deadline and buffered-input listing up to date.
    private func refresh() {
        for connection in touched {
            connection.touched = false
            guard !connection.closed else { continue }
            let events = interest(connection)
            if events != connection.registeredEvents {
                poller.modify(connection.fd, events: events, token: connection.id)
                connection.registeredEvents = events
            }
            deadlines.set(connection.id, to: connection.machine.nextDeadline)
            if connection.transport.hasBufferedInput && connection.machine.wantsRead { bufferedInput.append(connection.id) }
        }
        touched.removeAll(keepingCapacity: true)
    }

    private func beginShutdown(now: ContinuousClock.Instant) {
        stopping = true
        acceptPausedUntil = nil  // the listener closes below: its pause must not keep the loop awake
        shutdownDeadline = now + configuration.shutdownDeadline
        // A client may have connected and sent its request in this very loop turn: take the connections still queued on
        // the listener and read what has arrived, so a request already sent is served (with Connection: close) rather
        // than reset with the idle connections closed below.
        acceptConnections(now: now)
        listening = false
        poller.remove(listenFD)
        close(listenFD)
        for connection in Array(connections.values) where connection.machine.wantsRead {
            readAvailable(connection, now: now)
        }
        for connection in Array(connections.values) {
            execute(connection.machine.beginShutdown(now: now), on: connection, now: now)
        }
    }

    private func acceptConnections(now: ContinuousClock.Instant) {
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listenFD, $0, &length) }
            }
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop accepting briefly instead of spinning on the ready listener.
                    listening = false
                    poller.modify(listenFD, events: 0, token: Self.listenerID)
                    acceptPausedUntil = now + .milliseconds(100)
                    return
                default: return
                }
            }
            Self.makeNonBlocking(fd)
            let remote = Self.describe(address)
            if connections.count >= configuration.maxConnections {
                lock.withLock { acceptedConnections += 1 }
                refuse(fd, remote: remote, now: now)
                continue
            }
            let transport: any ConnectionTransport
            if let tls = configuration.tls {
                guard let session = tls.session(fd: fd) else {
                    close(fd)
                    continue
                }
                transport = TLSTransport(fd: fd, ssl: session) { [unowned self] in plainHTTPRefusal() }
            } else {
                transport = PlainTransport(fd: fd)
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let id = nextConnectionID
            nextConnectionID += 1
            let connection = Connection(
                id: id, fd: fd, transport: transport, machine: ConnectionStateMachine(context: context, remoteAddress: remote, now: now),
                registeredEvents: 0)
            if leaving { connection.machine.beginLeaving() }
            connection.registeredEvents = interest(connection)
            guard poller.add(fd, events: connection.registeredEvents, token: id) else {
                connection.transport.close()
                close(fd)
                continue
            }
            connections[id] = connection
            deadlines.set(id, to: connection.machine.nextDeadline)
            lock.withLock {
                acceptedConnections += 1
                openConnections += 1
            }
        }
    }

    /// The plain-text answer to a plain HTTP request on the TLS port (on the event-loop thread, when one arrives).
    private func plainHTTPRefusal() -> [UInt8] {
        ResponseSerializer.serialize(
            errorResponder(.plainHTTPOnTLSPort), method: nil, close: true, keepAliveHTTP10: false, date: httpDate.now())
    }

    /// Over the connection limit: a best-effort 503 without reading anything, then close (over TLS, just the
    /// close: a response needs a handshake, which is what the limit refuses to spend).
    private func refuse(_ fd: Int32, remote: String, now: ContinuousClock.Instant) {
        let error = HTTPServerError.tooManyConnections
        let response = errorResponder(error)
        var sent = 0
        if configuration.tls == nil {
            let bytes = ResponseSerializer.serialize(response, method: nil, close: true, keepAliveHTTP10: false, date: httpDate.now())
            sent = bytes.withUnsafeBytes { max(0, send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))) }
        }
        close(fd)
        onResponse?(
            ResponseLog(
                method: nil, path: nil, route: nil, status: response.status.code, errorCode: error.code.rawValue,
                bytesIn: 0, bytesOut: sent, duration: .zero, remoteAddress: remote, requestHeaders: HTTPHeaders()))
    }

    private func handle(_ events: Int16, on connection: Connection, now: ContinuousClock.Instant) {
        if !connection.transport.isEstablished {
            // The TLS handshake advances on either event; reading drives it (and reads what follows it).
            return readAvailable(connection, now: now)
        }
        // Each direction runs on the event its transport asked poll for: TLS can need to write to read (a key update
        // answered while the send buffer is full) or to read to write, and dispatching on the raw events would then
        // never retry the blocked call while poll kept reporting the event at once.
        let writeEvents = connection.pendingOutput > 0 ? connection.transport.interest(wantsRead: false, wantsWrite: true) : 0
        let wantsRead = connection.machine.wantsRead && connection.pendingOutput < Self.outputHighWater
        let readEvents = wantsRead ? connection.transport.interest(wantsRead: true, wantsWrite: false) : 0
        if events & writeEvents != 0 {
            flush(connection, now: now)
            if connection.closed { return }
        }
        if events & readEvents != 0 {
            readAvailable(connection, now: now)
        } else if events & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
            // Both directions are gone (HUP cannot be masked, so it would spin): nothing can be delivered.
            destroy(connection)
        }
    }

    private func readAvailable(_ connection: Connection, now: ContinuousClock.Instant) {
        touch(connection)
        // A TLS transport may hold more decrypted input than one read takes; poll would not report it.
        for _ in 0..<16 {
            switch readBuffer.withUnsafeMutableBytes({ connection.transport.read($0) }) {
            case .progress(let n):
                let actions = readBuffer.withUnsafeBufferPointer {
                    connection.machine.received(UnsafeBufferPointer(rebasing: $0[0..<n]), now: now)
                }
                execute(actions, on: connection, now: now)
            case .eof:
                return execute(connection.machine.peerClosed(now: now), on: connection, now: now)
            case .wouldBlock:
                return
            case .failure:
                return destroy(connection)
            }
            guard !connection.closed, connection.transport.hasBufferedInput, connection.machine.wantsRead else { return }
        }
    }

    private func execute(_ actions: [ConnectionStateMachine.Action], on connection: Connection, now: ContinuousClock.Instant) {
        guard !connection.closed else { return }
        touch(connection)
        for action in actions {
            switch action {
            case .write(let bytes):
                if connection.pendingOutput == 0 {
                    connection.output = bytes
                    connection.outputOffset = 0
                } else {
                    connection.output.append(contentsOf: bytes)
                }
            case .dispatch(let route, let request):
                connection.dispatchSequence += 1
                let id = connection.id
                let sequence = connection.dispatchSequence
                handlerQueue.async { [self] in
                    route.handler(request) { response in self.post(id: id, sequence: sequence, response: response) }
                }
            case .log(var log):
                if let details = connection.transport.securityDetails {
                    log.tlsVersion = details.version
                    log.clientCertificateSubject = details.clientSubject
                }
                onResponse?(log)
            case .close:
                connection.closeRequested = true
            case .closeNow:
                destroy(connection)
                return
            }
        }
        if connection.pendingOutput > 0 {
            flush(connection, now: now)
            if connection.closed { return }
        } else if connection.closeRequested && !connection.sentFIN {
            finishSending(connection, now: now)
        }
    }

    private func flush(_ connection: Connection, now: ContinuousClock.Instant) {
        touch(connection)
        guard connection.transport.isEstablished else {
            // Output before the TLS handshake finished (a timeout's response): nobody can read it.
            return destroy(connection)
        }
        var progressed = false
        sending: while connection.pendingOutput > 0 {
            let outcome = connection.output.withUnsafeBytes {
                connection.transport.write(UnsafeRawBufferPointer(rebasing: $0[connection.outputOffset...]))
            }
            switch outcome {
            case .progress(let n):
                connection.outputOffset += n
                progressed = true
            case .wouldBlock:
                break sending
            case .eof, .failure:
                return destroy(connection)
            }
        }
        if connection.pendingOutput == 0 {
            connection.output = []
            connection.outputOffset = 0
            connection.machine.outputChanged(pending: false, progressed: progressed, now: now)
            if connection.closeRequested && !connection.sentFIN { finishSending(connection, now: now) }
        } else {
            connection.machine.outputChanged(pending: true, progressed: progressed, now: now)
        }
    }

    /// After the final response: send FIN, keep reading (and discarding) until the peer closes or lingers out.
    private func finishSending(_ connection: Connection, now: ContinuousClock.Instant) {
        connection.sentFIN = true
        guard connection.transport.isEstablished else { return destroy(connection) }
        connection.transport.finishSending()
    }

    /// Read while the machine wants input and the output backlog is small; write while output is pending.
    private func interest(_ connection: Connection) -> Int16 {
        connection.transport.interest(
            wantsRead: connection.machine.wantsRead && connection.pendingOutput < Self.outputHighWater,
            wantsWrite: connection.pendingOutput > 0)
    }

    private func destroy(_ connection: Connection) {
        guard !connection.closed else { return }
        connection.closed = true
        if connection.machine.handlerRunning, connection.machine.reservedBodyBytes > 0 {
            orphanedBodyBytes[connection.id] = connection.machine.reservedBodyBytes
        } else {
            connection.machine.releaseBodyBudget()
        }
        connection.transport.close()
        poller.remove(connection.fd)
        close(connection.fd)
        connections[connection.id] = nil
        deadlines.remove(connection.id)
        lock.withLock { openConnections -= 1 }
    }

    // MARK: - Cross-thread hand-off

    private func post(id: UInt64, sequence: UInt64, response: HTTPResponse) {
        let needsWake: Bool = lock.withLock {
            guard loopRunning else { return false }
            mailbox.append((id, sequence, response))
            return mailbox.count == 1
        }
        if needsWake { wake() }
    }

    private func wake() {
        lock.withLock {
            guard loopRunning else { return }
            var one: UInt8 = 1
            _ = write(wakeWriteFD, &one, 1)
        }
    }

    private func deliverResponses(now: ContinuousClock.Instant) {
        let delivered = lock.withLock {
            let items = mailbox
            mailbox.removeAll(keepingCapacity: true)
            return items
        }
        for item in delivered {
            if let orphaned = orphanedBodyBytes.removeValue(forKey: item.id) { context.bodyBudget.release(orphaned) }
            guard let connection = connections[item.id], connection.dispatchSequence == item.sequence else { continue }
            execute(connection.machine.handlerResponded(item.response, now: now), on: connection, now: now)
        }
    }

    // MARK: - Sockets

    private static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    private static func makeListener(host: String, port: Int, backlog: Int32) throws -> (fd: Int32, family: Int32) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let info = result else {
            throw SocketError(operation: "getaddrinfo(\(host)): \(String(cString: gai_strerror(status)))", errno: EINVAL)
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", errno: errno) }
        makeNonBlocking(fd)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if info.pointee.ai_family == AF_INET6 {
            // `::` serves IPv4 too (as mapped addresses), whatever net.ipv6.bindv6only says.
            var zero: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let e = errno
            close(fd)
            throw SocketError(operation: "bind(\(host):\(port))", errno: e)
        }
        guard listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw SocketError(operation: "listen", errno: e)
        }
        return (fd, info.pointee.ai_family)
    }

    private static func localPort(_ listener: (fd: Int32, family: Int32)) throws -> Int {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener.fd, $0, &length) }
        }
        guard status == 0 else { throw SocketError(operation: "getsockname", errno: errno) }
        return Self.addressAndPort(address).port
    }

    private static func addressAndPort(_ storage: sockaddr_storage) -> (host: String, port: Int, v6: Bool) {
        var storage = storage
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        if Int32(storage.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var addr = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
                    return (String(cString: buffer), Int(UInt16(bigEndian: sin6.pointee.sin6_port)), true)
                }
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var addr = sin.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
                return (String(cString: buffer), Int(UInt16(bigEndian: sin.pointee.sin_port)), false)
            }
        }
    }

    private static func describe(_ storage: sockaddr_storage) -> String {
        let (host, port, v6) = addressAndPort(storage)
        return v6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
