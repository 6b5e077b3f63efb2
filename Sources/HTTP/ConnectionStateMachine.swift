/// Timeouts a connection enforces; all are measured on the monotonic clock the caller passes in.
public struct ConnectionTimeouts: Sendable, Equatable {
    /// From the first byte of a request (or the accept, for a new connection) to the end of its head → 408.
    public var headerRead: Duration = .seconds(10)
    /// Longest gap between two reads of a request body → 408.
    public var bodyIdle: Duration = .seconds(30)
    /// From the end of a request's head to the end of its body, however steadily it trickles in → 408.
    public var body: Duration = .seconds(60)
    /// How long an idle keep-alive connection stays open between requests.
    public var keepAliveIdle: Duration = .seconds(60)
    /// Longest time a pending response may make no progress (a client that does not read) → closed.
    public var write: Duration = .seconds(30)
    /// Longest time queued responses may take to drain completely, progress or not (a client reading a byte
    /// at a time just inside `write` would otherwise hold its connection indefinitely) → closed.
    public var drain: Duration = .seconds(120)
    /// After the final response of a connection, how long unread request bytes are drained before
    /// closing, so the client sees the response rather than a reset.
    public var linger: Duration = .seconds(2)
    public init() {}
}

/// Request-body bytes held in memory across all of a server's connections, against one limit, so that many
/// concurrent uploads cannot add up past the memory the service was given (each is also bounded by
/// `maxBodyBytes`). A body's bytes count as they arrive (so only bytes really sent can fill it: heads alone
/// cannot lock uploads out) until its response is delivered, since the handler holds the body until then. A
/// head whose Content-Length would not fit beside what is held now is refused at once, before its body is
/// sent. Event-loop thread only.
final class BodyBudget {
    /// May change while bodies are held (`HTTPServer.setBufferedBodyLimit`): a lower limit refuses new bodies until
    /// enough of the held ones are released.
    var limit: Int
    private(set) var reserved = 0

    init(limit: Int) { self.limit = limit }

    /// Takes `bytes` from the budget if they fit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes <= limit - reserved else { return false }
        reserved += bytes
        return true
    }

    /// Whether `bytes` more would fit now.
    func fits(_ bytes: Int) -> Bool { bytes <= limit - reserved }

    func release(_ bytes: Int) {
        reserved -= bytes
        assert(reserved >= 0)
    }
}

/// What a connection's state machine needs from its server: routes, limits, timeouts, error rendering.
struct ConnectionContext {
    let router: Router
    let limits: RequestParser.Limits
    let bodyBudget: BodyBudget
    let timeouts: ConnectionTimeouts
    let errorResponder: (HTTPServerError) -> HTTPResponse
    /// The `Date` header value for now (the server caches it per second).
    let date: () -> String
}

/// The logic of one connection: bytes and events in, actions out. It owns the parser and the timers;
/// the socket layer only carries out the actions, so every behaviour is testable without sockets or sleeping.
struct ConnectionStateMachine {
    typealias Instant = ContinuousClock.Instant

    enum Action {
        /// Queue these bytes for writing, in order.
        case write([UInt8])
        /// Run the route's handler; report its response with `handlerResponded`.
        case dispatch(Route, HTTPRequest)
        /// A response was produced.
        case log(ResponseLog)
        /// Finish writing, stop sending (`shutdown(SHUT_WR)`), drain input until EOF or the linger deadline.
        case close
        /// Close the socket at once; nothing more can be said to the peer.
        case closeNow
    }

    enum State: Equatable {
        /// Between requests (or before the first), nothing of the next request received.
        case idle(since: Instant)
        case readingHead(since: Instant)
        case readingBody(lastProgress: Instant, deadline: Instant)
        case awaitingResponse
        case closing(deadline: Instant)
        case closed
    }

    private struct InFlight {
        var head: HTTPRequestHead
        var route: Route?
        /// A response decided from the head alone (404, 405, a route's head check), sent once the
        /// (empty) body is complete.
        var earlyResponse: (response: HTTPResponse, error: HTTPServerError?)?
    }

    let context: ConnectionContext
    let remoteAddress: String
    private(set) var state: State
    private var parser: RequestParser
    private var inFlight: InFlight?
    private var requestStart: Instant
    private var requestBytesIn = 0
    private var pendingInput: [UInt8] = []
    private var closeAfterResponse = false
    private var peerHalfClosed = false
    private var shuttingDown = false
    /// The server is leaving (SIGTERM's shutdown delay): every response closes its connection, so keep-alive
    /// clients reconnect (to another instance) instead of meeting the drain's close of an idle connection.
    private var leaving = false
    private(set) var writeDeadline: Instant?
    private(set) var requestsServed = 0
    /// This connection's share of the server's `BodyBudget`, given back with the response (or by the server,
    /// via `releaseBodyBudget`, when the connection goes away).
    private(set) var reservedBodyBytes = 0
    /// A handler is running for this connection's request (it holds the body until it responds).
    private(set) var handlerRunning = false
    /// Since when output has been queued without draining; read-side timers stand still meanwhile (the server
    /// stops reading a connection whose responses pile up, so the client cannot be blamed for a slow request).
    private var outputPendingSince: Instant?

    init(context: ConnectionContext, remoteAddress: String, now: Instant) {
        self.context = context
        self.remoteAddress = remoteAddress
        self.state = .idle(since: now)
        self.parser = RequestParser(limits: context.limits)
        self.requestStart = now
    }

    /// Whether the socket should be read: not while a handler runs (pipelined requests wait in the
    /// kernel buffer, which bounds memory), and not once closed.
    var wantsRead: Bool {
        if peerHalfClosed { return false }  // nothing more will come, and EOF would wake the loop forever
        switch state {
        case .awaitingResponse, .closed: return false
        default: return true
        }
    }

    /// Bytes arrived from the peer.
    mutating func received(_ bytes: UnsafeBufferPointer<UInt8>, now: Instant) -> [Action] {
        switch state {
        case .closing, .closed:
            return []
        case .awaitingResponse:
            pendingInput.append(contentsOf: bytes)
            return []
        case .idle, .readingHead, .readingBody:
            return process(bytes, now: now)
        }
    }

    /// Convenience for tests and pending input.
    mutating func received(_ bytes: [UInt8], now: Instant) -> [Action] {
        bytes.withUnsafeBufferPointer { received($0, now: now) }
    }

    /// The handler of the request in flight produced its response.
    mutating func handlerResponded(_ response: HTTPResponse, now: Instant) -> [Action] {
        guard state == .awaitingResponse else { return [] }
        handlerRunning = false
        var actions = respond(response, now: now, forceClose: false, error: nil)
        if case .idle = state, !pendingInput.isEmpty {
            let input = pendingInput
            pendingInput = []
            actions += received(input, now: now)
        }
        return actions
    }

    /// The peer closed its sending side (read returned 0).
    mutating func peerClosed(now: Instant) -> [Action] {
        switch state {
        case .awaitingResponse:
            // The request is complete; answer it, then close (a half-closed client may still read).
            peerHalfClosed = true
            return []
        case .closed:
            return []
        default:
            if writeDeadline != nil {
                // Responses are still queued (pipelined requests, then a half-close): deliver them, then close.
                peerHalfClosed = true
                if case .closing = state {} else { state = .closing(deadline: now + context.timeouts.linger) }
                return [.close]
            }
            state = .closed
            return [.closeNow]
        }
    }

    /// The socket layer's write buffer changed: `pending` bytes remain, `progressed` if some were written.
    mutating func outputChanged(pending: Bool, progressed: Bool, now: Instant) {
        if !pending {
            writeDeadline = nil
            if let pauseStart = outputPendingSince {
                // Reading resumes: the read-side timers go on from where they stood when it stopped.
                outputPendingSince = nil
                func resumed(_ start: Instant) -> Instant { now - max(.zero, pauseStart - start) }
                switch state {
                case .readingHead(let start): state = .readingHead(since: resumed(start))
                case .readingBody(let last, let deadline):
                    state = .readingBody(lastProgress: resumed(last), deadline: deadline + (now - pauseStart))
                default: break
                }
            }
            // The linger period of a closing connection starts once its last response is out.
            // (Nothing to linger for once the peer has closed its side.)
            if case .closing = state { state = .closing(deadline: peerHalfClosed ? now : now + context.timeouts.linger) }
        } else if progressed || writeDeadline == nil {
            if outputPendingSince == nil { outputPendingSince = now }
            writeDeadline = now + context.timeouts.write
        }
    }

    /// From now on every response carries `Connection: close` and ends the connection; nothing is closed now.
    mutating func beginLeaving() { leaving = true }

    /// Graceful shutdown began: idle connections close now, others close after their current response.
    mutating func beginShutdown(now: Instant) -> [Action] {
        shuttingDown = true
        if case .idle = state {
            state = .closed
            return [.closeNow]
        }
        return []
    }

    /// The earliest instant at which `tick` can act, nil when no timer runs (a handler is working, nothing queued).
    /// `tick` before it does nothing; the server files it in its `DeadlineHeap` after every event on the connection.
    var nextDeadline: Instant? {
        var earliest = writeDeadline
        func consider(_ instant: Instant) { earliest = min(earliest ?? instant, instant) }
        if let since = outputPendingSince { consider(since + context.timeouts.drain) }
        switch state {
        case .idle(let since):
            consider(since + (requestsServed == 0 ? context.timeouts.headerRead : context.timeouts.keepAliveIdle))
        case .readingHead(let since):
            if outputPendingSince == nil { consider(since + context.timeouts.headerRead) }
        case .readingBody(let last, let deadline):
            if outputPendingSince == nil { consider(min(last + context.timeouts.bodyIdle, deadline)) }
        case .closing(let deadline):
            if writeDeadline == nil { consider(deadline) }
        case .awaitingResponse, .closed:
            break
        }
        return earliest
    }

    /// Applies whichever timeout has expired at `now`.
    mutating func tick(now: Instant) -> [Action] {
        if let writeDeadline, now >= writeDeadline {
            state = .closed
            return [.closeNow]
        }
        if let since = outputPendingSince, now >= since + context.timeouts.drain {
            state = .closed
            return [.closeNow]
        }
        switch state {
        case .idle(let since):
            let limit = requestsServed == 0 ? context.timeouts.headerRead : context.timeouts.keepAliveIdle
            if now >= since + limit {
                state = .closed
                return [.closeNow]
            }
        case .readingHead(let since):
            if outputPendingSince == nil && now >= since + context.timeouts.headerRead {
                return respondToError(.requestTimeout, now: now)
            }
        case .readingBody(let last, let deadline):
            if outputPendingSince == nil && (now >= last + context.timeouts.bodyIdle || now >= deadline) {
                return respondToError(.requestTimeout, now: now)
            }
        case .closing(let deadline):
            if now >= deadline && writeDeadline == nil {
                state = .closed
                return [.closeNow]
            }
        case .awaitingResponse, .closed:
            break
        }
        return []
    }

    // MARK: - Request processing

    private mutating func process(_ input: UnsafeBufferPointer<UInt8>, now: Instant) -> [Action] {
        var actions: [Action] = []
        var offset = 0
        while true {
            if case .idle = state, offset < input.count {
                state = .readingHead(since: now)
                requestStart = now
            }
            let result = parser.parse(UnsafeBufferPointer(rebasing: input[offset...]))
            switch result {
            case .needMoreData:
                requestBytesIn += input.count - offset
                if case .readingBody(_, let deadline) = state {
                    state = .readingBody(lastProgress: now, deadline: deadline)
                    if !reserveBody(upTo: parser.bufferedBodyBytes) {
                        return actions + respondToError(.tooManyUploads(limit: context.bodyBudget.limit), now: now)
                    }
                }
                return actions

            case .head(let head, let consumed):
                requestBytesIn += consumed
                offset += consumed
                let bodyAlreadyArrived = offset < input.count
                if !startRequest(head, bodyAlreadyArrived: bodyAlreadyArrived, now: now, actions: &actions) {
                    return actions
                }

            case .complete(let body, let consumed):
                requestBytesIn += consumed
                offset += consumed
                // (The parser has handed the body over and holds nothing now: count what it returned.)
                if !reserveBody(upTo: body.count) {
                    return actions + respondToError(.tooManyUploads(limit: context.bodyBudget.limit), now: now)
                }
                guard let current = inFlight else { return actions }
                if let early = current.earlyResponse {
                    actions += respond(early.response, now: now, forceClose: false, error: early.error)
                    if case .idle = state { continue }
                    return actions
                }
                guard let route = current.route else { return actions }
                state = .awaitingResponse
                handlerRunning = true
                pendingInput = Array(input[offset...])
                actions.append(.dispatch(route, HTTPRequest(head: current.head, body: body, remoteAddress: remoteAddress)))
                return actions

            case .failed(let error):
                requestBytesIn += input.count - offset
                actions += respondToError(error, now: now)
                return actions
            }
        }
    }

    /// Grows the reservation to `held` body bytes received.
    private mutating func reserveBody(upTo held: Int) -> Bool {
        guard held > reservedBodyBytes else { return true }
        guard context.bodyBudget.reserve(held - reservedBodyBytes) else { return false }
        reservedBodyBytes = held
        return true
    }

    /// Gives this connection's body reservation back to the server's budget.
    mutating func releaseBodyBudget() {
        context.bodyBudget.release(reservedBodyBytes)
        reservedBodyBytes = 0
    }

    /// Routes a request whose head just arrived; returns false when processing of this input must stop.
    private mutating func startRequest(_ head: HTTPRequestHead, bodyAlreadyArrived: Bool, now: Instant, actions: inout [Action]) -> Bool {
        inFlight = InFlight(head: head, route: nil, earlyResponse: nil)
        if case .contentLength(let n) = head.framing, n > context.limits.maxBodyBytes {
            actions += respondToError(.payloadTooLarge(limit: context.limits.maxBodyBytes), now: now)
            return false
        }
        var early: (response: HTTPResponse, error: HTTPServerError?)?
        var sendContinue = false
        switch context.router.decide(head, errorResponder: context.errorResponder) {
        case .respond(let response, let error, let route):
            inFlight?.route = route
            early = (response, error)
        case .run(let route):
            inFlight?.route = route
            if head.expectsContinue && head.framing.hasBody {
                if route.readsBody {
                    sendContinue = !bodyAlreadyArrived
                } else {
                    // The handler does not want the body: answer without it, and close since it stays unread.
                    closeAfterResponse = true
                    state = .awaitingResponse
                    handlerRunning = true
                    actions.append(.dispatch(route, HTTPRequest(head: head, body: [], remoteAddress: remoteAddress)))
                    return false
                }
            }
        }
        if let early {
            if head.framing.hasBody {
                // Refuse at once rather than read a body nobody wants; the connection closes after.
                actions += respond(early.response, now: now, forceClose: true, error: early.error)
                return false
            }
            inFlight?.earlyResponse = early
        }
        // A body that will be read and cannot fit beside what is held now is refused before it is sent (and
        // before any 100 Continue); its bytes are counted as they arrive.
        if case .contentLength(let n) = head.framing, !context.bodyBudget.fits(n) {
            actions += respondToError(.tooManyUploads(limit: context.bodyBudget.limit), now: now)
            return false
        }
        if sendContinue { actions.append(.write(ResponseSerializer.continueBytes)) }
        if head.framing.hasBody { state = .readingBody(lastProgress: now, deadline: now + context.timeouts.body) }
        return true
    }

    private mutating func respondToError(_ error: HTTPServerError, now: Instant) -> [Action] {
        var error = error
        if error.requestPath == nil { error.requestPath = inFlight?.head.path }
        return respond(context.errorResponder(error), now: now, forceClose: error.closesConnection, error: error)
    }

    /// Serializes a response, logs it, and moves to idle or closing.
    private mutating func respond(_ response: HTTPResponse, now: Instant, forceClose: Bool, error: HTTPServerError?) -> [Action] {
        let head = inFlight?.head
        var response = response
        if let cors = context.router.cors, let head { cors.decorate(&response, for: head) }
        let close =
            forceClose || shuttingDown || leaving || closeAfterResponse || peerHalfClosed
            || !(head?.keepAlive ?? false)
            || response.headers.containsToken("close", in: "Connection")
        let bytes = ResponseSerializer.serialize(
            response, method: head?.method, close: close,
            keepAliveHTTP10: !close && head?.version.minor == 0,
            date: context.date())
        let requestLine = head == nil ? parser.requestLine : nil
        let log = ResponseLog(
            method: head?.method.rawValue ?? requestLine?.method,
            path: head?.path ?? requestLine?.target,
            route: inFlight?.route?.path,
            status: response.status.code,
            errorCode: error?.code.rawValue,
            bytesIn: requestBytesIn,
            bytesOut: bytes.count,
            duration: now - requestStart,
            remoteAddress: remoteAddress,
            requestHeaders: head?.headers ?? HTTPHeaders(),
            responseHeaders: response.headers)
        requestsServed += 1
        inFlight = nil
        requestBytesIn = 0
        releaseBodyBudget()
        closeAfterResponse = false
        if close {
            state = .closing(deadline: now + context.timeouts.linger)
            pendingInput = []
            // Nothing more is parsed on this connection; a failed request's partial body goes now, not at close.
            parser = RequestParser(limits: context.limits)
            return [.write(bytes), .log(log), .close]
        }
        state = .idle(since: now)
        requestStart = now
        return [.write(bytes), .log(log)]
    }
}
