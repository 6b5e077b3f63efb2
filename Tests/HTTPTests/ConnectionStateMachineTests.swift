import Foundation
import Testing

@testable import HTTP

/// The connection logic driven directly: bytes and instants in, actions out. No sockets, no sleeping.
struct MachineHarness {
    typealias Instant = ContinuousClock.Instant
    var machine: ConnectionStateMachine
    let t0: Instant

    static func router() -> Router {
        var router = Router()
        router.add(.get, "/hello") { _, respond in respond(.text("hi")) }
        router.add(.post, "/echo") { request, respond in respond(HTTPResponse(body: request.body)) }
        router.add(.post, "/nobody", readsBody: false) { _, respond in respond(.text("skipped")) }
        router.add(
            .post, "/images",
            headCheck: { head in
                head.headers["Content-Type"]?.hasPrefix("image/") == true ? nil : .text("send an image", status: .unsupportedMediaType)
            }
        ) { request, respond in respond(.text("got \(request.body.count)")) }
        return router
    }

    init(
        errorResponder: @escaping (HTTPServerError) -> HTTPResponse = HTTPResponse.defaultError,
        bodyBudget: BodyBudget = BodyBudget(limit: 1000)
    ) {
        var limits = RequestParser.Limits()
        limits.maxBodyBytes = 100
        var timeouts = ConnectionTimeouts()
        timeouts.headerRead = .seconds(10)
        timeouts.bodyIdle = .seconds(5)
        timeouts.keepAliveIdle = .seconds(60)
        timeouts.write = .seconds(30)
        timeouts.linger = .seconds(2)
        let context = ConnectionContext(
            router: Self.router(), limits: limits, bodyBudget: bodyBudget, timeouts: timeouts,
            errorResponder: errorResponder, date: { "Sat, 28 Nov 2026 00:00:00 GMT" })
        t0 = ContinuousClock.now
        machine = ConnectionStateMachine(context: context, remoteAddress: "127.0.0.1:5555", now: t0)
    }

    func at(_ seconds: Double) -> Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    mutating func receive(_ text: String, at seconds: Double = 0) -> Actions {
        Actions(machine.received(Array(text.utf8), now: at(seconds)))
    }

    /// Runs the dispatched handler synchronously and feeds its response back.
    mutating func answer(_ actions: Actions, at seconds: Double = 0) -> Actions {
        guard let (route, request) = actions.dispatches.first else { return Actions([]) }
        // The test routes answer synchronously; the box carries the response out of the @Sendable callback.
        let box = ResponseBox()
        route.handler(request) { box.set($0) }
        return Actions(machine.handlerResponded(box.get()!, now: at(seconds)))
    }

    /// Ticks at `seconds`, checking the promise the server's `DeadlineHeap` relies on: `tick` acts exactly when
    /// `nextDeadline` is due (acting earlier would never happen in the server; doing nothing when due would spin it).
    mutating func tick(_ seconds: Double) -> Actions {
        let now = at(seconds)
        let due = machine.nextDeadline.map { now >= $0 } ?? false
        let actions = Actions(machine.tick(now: now))
        #expect(due == !actions.all.isEmpty, "at \(seconds) s: nextDeadline due \(due), tick acted \(!actions.all.isEmpty)")
        return actions
    }
}

final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var response: HTTPResponse?
    func set(_ value: HTTPResponse) { lock.withLock { response = value } }
    func get() -> HTTPResponse? { lock.withLock { response } }
}

struct Actions {
    let all: [ConnectionStateMachine.Action]
    init(_ all: [ConnectionStateMachine.Action]) { self.all = all }
    var writes: [String] { all.compactMap { if case .write(let b) = $0 { return String(decoding: b, as: UTF8.self) } else { return nil } } }
    var dispatches: [(Route, HTTPRequest)] { all.compactMap { if case .dispatch(let r, let q) = $0 { return (r, q) } else { return nil } } }
    var logs: [ResponseLog] { all.compactMap { if case .log(let l) = $0 { return l } else { return nil } } }
    var closes: Bool { all.contains { if case .close = $0 { return true } else { return false } } }
    var closesNow: Bool { all.contains { if case .closeNow = $0 { return true } else { return false } } }
    var isEmpty: Bool { all.isEmpty }
}

@Test func getIsDispatchedAndAnsweredWithFramingHeaders() throws {
    var h = MachineHarness()
    let a = h.receive("GET /hello?x=1 HTTP/1.1\r\nHost: a\r\nX-Request-ID: r1\r\n\r\n")
    #expect(a.dispatches.count == 1)
    #expect(a.dispatches.first?.1.query["x"] == "1")
    #expect(a.dispatches.first?.1.remoteAddress == "127.0.0.1:5555")
    #expect(!h.machine.wantsRead)
    let r = h.answer(a, at: 0.25)
    let response = try #require(r.writes.first)
    #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(response.contains("Content-Length: 2\r\n"))
    #expect(response.contains("Date: Sat, 28 Nov 2026 00:00:00 GMT\r\n"))
    #expect(!response.contains("Connection:"))
    #expect(response.hasSuffix("\r\n\r\nhi"))
    let log = try #require(r.logs.first)
    #expect(log.method == "GET" && log.path == "/hello" && log.route == "/hello" && log.status == 200)
    #expect(log.bytesOut == response.utf8.count)
    #expect(log.bytesIn == "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\nX-Request-ID: r1\r\n\r\n".utf8.count)
    #expect(log.duration == .milliseconds(250))
    #expect(log.requestHeaders["x-request-id"] == "r1")
    #expect(!r.closes && !r.closesNow)
    #expect(h.machine.wantsRead)
}

@Test func headUsesTheGetRouteWithoutBody() throws {
    var h = MachineHarness()
    let r = h.answer(h.receive("HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"))
    let response = try #require(r.writes.first)
    #expect(response.contains("Content-Length: 2\r\n"))
    #expect(response.hasSuffix("\r\n\r\n"))
}

@Test func unknownPathIs404AndKeepsTheConnection() throws {
    var h = MachineHarness()
    let a = h.receive("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
    let response = try #require(a.writes.first)
    #expect(response.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
    #expect(response.contains("\"code\":\"not_found\""))
    #expect(!a.closes)
    #expect(a.logs.first?.route == nil && a.logs.first?.errorCode == "not_found")
}

@Test func wrongMethodIs405WithAllow() throws {
    var h = MachineHarness()
    let a = h.receive("DELETE /hello HTTP/1.1\r\nHost: a\r\n\r\n")
    let response = try #require(a.writes.first)
    #expect(response.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
    #expect(response.contains("Allow: GET, HEAD\r\n"))
}

@Test func routeErrorWithABodyAnswersAtOnceAndCloses() throws {
    var h = MachineHarness()
    let a = h.receive("POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\nabc")
    #expect(try #require(a.writes.first).hasPrefix("HTTP/1.1 404"))
    #expect(a.writes.first!.contains("Connection: close\r\n"))
    #expect(a.closes)
}

@Test func expectContinueIsSentOnlyWhenTheRouteReadsTheBody() throws {
    var h = MachineHarness()
    let a = h.receive("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    #expect(a.writes == ["HTTP/1.1 100 Continue\r\n\r\n"])
    let b = h.receive("hello", at: 0.1)
    #expect(b.dispatches.first?.1.body == Array("hello".utf8))
    let r = h.answer(b)
    #expect(try #require(r.writes.first).hasSuffix("hello"))
}

@Test func expectContinueIsSkippedWhenTheBodyAlreadyArrived() {
    var h = MachineHarness()
    let a = h.receive("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello")
    #expect(a.writes.isEmpty)
    #expect(a.dispatches.count == 1)
}

@Test(arguments: [
    ("POST /nope HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", "HTTP/1.1 404"),
    ("PUT /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", "HTTP/1.1 405"),
    ("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n", "HTTP/1.1 413"),
])
func expectContinueGetsTheFinalStatusAtOnce(_ request: String, _ status: String) throws {
    var h = MachineHarness()
    let a = h.receive(request)
    #expect(a.writes.count == 1)
    #expect(try #require(a.writes.first).hasPrefix(status))
    #expect(!a.writes.contains("HTTP/1.1 100 Continue\r\n\r\n"))
    #expect(a.closes)
}

@Test func expectContinueOnARouteThatIgnoresTheBodyAnswersWithoutIt() throws {
    var h = MachineHarness()
    let a = h.receive("POST /nobody HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    #expect(a.writes.isEmpty)
    #expect(a.dispatches.first?.1.body == [])
    let r = h.answer(a)
    #expect(try #require(r.writes.first).contains("Connection: close\r\n"))
    #expect(r.closes)
}

@Test func oversizedContentLengthIs413WithoutReadingTheBody() throws {
    var h = MachineHarness()
    let a = h.receive("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nxxxx")
    let response = try #require(a.writes.first)
    #expect(response.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
    #expect(response.contains("\"code\":\"payload_too_large\""))
    #expect(a.closes)
    #expect(h.receive("more body", at: 0.1).isEmpty)
}

@Test func malformedRequestIs400AndCloses() throws {
    var h = MachineHarness()
    let a = h.receive("GET / HTTP/1.1\r\nHost : a\r\n\r\n")
    let response = try #require(a.writes.first)
    #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
    #expect(response.contains("Connection: close\r\n"))
    #expect(a.closes)
    #expect(a.logs.first?.errorCode == "whitespace_before_colon")
    #expect(a.logs.first?.method == "GET" && a.logs.first?.path == "/")
}

@Test func errorRenderingIsInjected() throws {
    var h = MachineHarness(errorResponder: { error in .text("custom \(error.code.rawValue)", status: error.status) })
    let a = h.receive("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(try #require(a.writes.first).hasSuffix("custom not_found"))
}

@Test func slowHeadTimesOutWith408() throws {
    var h = MachineHarness()
    #expect(h.receive("GET / HTTP/1.1\r\n", at: 1).isEmpty)
    #expect(h.receive("Host: a\r\n", at: 9).isEmpty)
    #expect(h.tick(10.9).isEmpty)
    let a = h.tick(11)
    #expect(try #require(a.writes.first).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    #expect(a.closes)
    #expect(a.logs.first?.errorCode == "request_timeout")
}

@Test func silentNewConnectionIsClosedAfterTheHeaderTimeout() {
    var h = MachineHarness()
    #expect(h.tick(9.9).isEmpty)
    let a = h.tick(10)
    #expect(a.closesNow && a.writes.isEmpty)
}

@Test func bodyIdleTimeoutCountsFromTheLastBytes() throws {
    var h = MachineHarness()
    _ = h.receive("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab", at: 0)
    _ = h.receive("cd", at: 4)
    #expect(h.tick(8.9).isEmpty)
    let a = h.tick(9)
    #expect(try #require(a.writes.first).hasPrefix("HTTP/1.1 408"))
}

@Test func idleKeepAliveConnectionClosesSilently() {
    var h = MachineHarness()
    _ = h.answer(h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"), at: 1)
    #expect(h.tick(60.9).isEmpty)
    let a = h.tick(61)
    #expect(a.closesNow && a.writes.isEmpty)
}

@Test func clientThatDoesNotReadIsCutOffByTheWriteTimeout() {
    var h = MachineHarness()
    _ = h.answer(h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"))
    h.machine.outputChanged(pending: true, progressed: false, now: h.at(1))
    h.machine.outputChanged(pending: true, progressed: true, now: h.at(20))
    #expect(h.tick(49.9).isEmpty)
    #expect(h.tick(50).closesNow)
}

@Test func pipelinedRequestsAreAnsweredInOrder() throws {
    var h = MachineHarness()
    let a = h.receive(
        "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    #expect(a.dispatches.count == 1)
    let b = h.answer(a)
    #expect(b.writes.first?.hasSuffix("hi") == true)
    #expect(b.dispatches.first?.1.body == Array("abc".utf8))
    let c = h.answer(b)
    #expect(c.writes.count == 2)
    #expect(c.writes[0].hasSuffix("abc"))
    #expect(c.writes[1].hasPrefix("HTTP/1.1 404"))
}

@Test func http10KeepAliveIsAcknowledged() throws {
    var h = MachineHarness()
    let r = h.answer(h.receive("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    #expect(try #require(r.writes.first).contains("Connection: keep-alive\r\n"))
    let r2 = h.answer(h.receive("GET /hello HTTP/1.0\r\n\r\n"))
    #expect(try #require(r2.writes.first).contains("Connection: close\r\n"))
    #expect(r2.closes)
}

@Test func shutdownClosesIdleConnectionsAndFinishesInFlightOnes() throws {
    var idle = MachineHarness()
    #expect(idle.machine.beginShutdown(now: idle.at(0)).count == 1)

    var busy = MachineHarness()
    let a = busy.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(busy.machine.beginShutdown(now: busy.at(0)).isEmpty)
    let r = busy.answer(a)
    #expect(try #require(r.writes.first).contains("Connection: close\r\n"))
    #expect(r.closes)
}

/// While the server is leaving (the shutdown delay), idle connections stay open and every response closes its
/// connection: keep-alive clients reconnect instead of racing the drain's close of an idle connection.
@Test func leavingClosesAfterEachResponseButNothingIdle() throws {
    var h = MachineHarness()
    let first = h.answer(h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"))
    #expect(!first.closes)
    h.machine.beginLeaving()
    #expect(h.tick(1).isEmpty, "an idle connection is not closed by leaving")
    let second = h.answer(h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", at: 2), at: 2)
    #expect(try #require(second.writes.first).contains("Connection: close\r\n"))
    #expect(second.closes)
}

@Test func halfClosedClientStillGetsItsResponse() throws {
    var h = MachineHarness()
    let a = h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(h.machine.peerClosed(now: h.at(0)).isEmpty)
    let r = h.answer(a)
    #expect(try #require(r.writes.first).hasSuffix("hi"))
    #expect(r.closes)
}

@Test func lingerStartsWhenTheLastResponseIsWritten() {
    var h = MachineHarness()
    let a = h.receive("GET / HTTP/1.1\r\nHost : a\r\n\r\n")
    #expect(a.closes)
    h.machine.outputChanged(pending: true, progressed: false, now: h.at(0))
    #expect(h.tick(5).isEmpty)
    h.machine.outputChanged(pending: false, progressed: true, now: h.at(6))
    #expect(h.tick(7.9).isEmpty)
    #expect(h.tick(8).closesNow)
}

@Test func peerDisconnectMidBodyClosesWithoutAResponse() {
    var h = MachineHarness()
    _ = h.receive("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab")
    let a = Actions(h.machine.peerClosed(now: h.at(1)))
    #expect(a.closesNow && a.writes.isEmpty)
}

@Test func headCheckRefusesBeforeTheBodyIsRead() throws {
    var h = MachineHarness()
    let refused = h.receive(
        "POST /images HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nExpect: 100-continue\r\nContent-Length: 50\r\n\r\n")
    #expect(refused.writes.count == 1)
    #expect(try #require(refused.writes.first).hasPrefix("HTTP/1.1 415 Unsupported Media Type\r\n"))
    #expect(refused.closes)
    #expect(refused.logs.first?.route == "/images")

    var ok = MachineHarness()
    let accepted = ok.receive(
        "POST /images HTTP/1.1\r\nHost: a\r\nContent-Type: image/jpeg\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    #expect(accepted.writes == ["HTTP/1.1 100 Continue\r\n\r\n"])
    let r = ok.answer(ok.receive("abc"))
    #expect(try #require(r.writes.first).hasSuffix("got 3"))

    var empty = MachineHarness()
    let noBody = empty.receive("POST /images HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
    #expect(try #require(noBody.writes.first).hasPrefix("HTTP/1.1 415"))
    #expect(!noBody.closes)
}

@Test func bodyDeadlineEndsATrickleThatKeepsInsideTheIdleTimeout() throws {
    var h = MachineHarness()
    _ = h.receive("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 90\r\n\r\n", at: 0)
    var t = 0.0
    while t + 4 < 60 {
        t += 4  // one byte every 4 s: never idle for the 5 s bodyIdle timeout
        _ = h.receive("x", at: t)
        #expect(h.tick(t + 0.5).isEmpty)
    }
    let a = h.tick(60)
    #expect(try #require(a.writes.first).hasPrefix("HTTP/1.1 408"))
    #expect(a.closes)
}

@Test func bodiesShareOneBudgetAcrossConnections() throws {
    let budget = BodyBudget(limit: 150)
    var first = MachineHarness(bodyBudget: budget)
    var second = MachineHarness(bodyBudget: budget)
    // Bytes count as they arrive: a head alone holds nothing, so heads cannot lock uploads out.
    #expect(first.receive("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n").writes.isEmpty)
    #expect(budget.reserved == 0)
    #expect(first.receive(String(repeating: "a", count: 90), at: 0.1).writes.isEmpty)
    #expect(budget.reserved == 90)
    // A declared length that cannot fit beside what is held now: 503 + Retry-After from the head alone,
    // no 100 Continue, connection closed.
    let refused = second.receive("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 70\r\n\r\n")
    let response = try #require(refused.writes.first)
    #expect(refused.writes.count == 1 && response.hasPrefix("HTTP/1.1 503"))
    #expect(response.contains("Retry-After: 1\r\n") && response.contains("\"code\":\"too_many_uploads\""))
    #expect(refused.closes && budget.reserved == 90)
    // Once the first is answered its bytes are given back and the same upload fits.
    let done = first.answer(first.receive(String(repeating: "a", count: 10), at: 0.2))
    #expect(try #require(done.writes.first).hasPrefix("HTTP/1.1 200"))
    #expect(budget.reserved == 0)
    var third = MachineHarness(bodyBudget: budget)
    #expect(
        third.receive("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 70\r\n\r\n" + String(repeating: "b", count: 60)).writes.isEmpty)
    #expect(budget.reserved == 60)
    // A connection that goes away mid-body gives its reservation back through the server.
    _ = third.machine.peerClosed(now: third.at(1))
    third.machine.releaseBodyBudget()
    #expect(budget.reserved == 0)
}

@Test func bodiesThatOutgrowTheBudgetAreRefusedMidway() throws {
    let budget = BodyBudget(limit: 150)
    var holder = MachineHarness(bodyBudget: budget)
    _ = holder.receive("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + String(repeating: "a", count: 100))
    #expect(budget.reserved == 100)
    // Chunked: counted as it grows.
    var chunked = MachineHarness(bodyBudget: budget)
    #expect(
        chunked.receive(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + String(repeating: "b", count: 40) + "\r\n"
        ).writes.isEmpty)
    #expect(budget.reserved == 140)
    let over = chunked.receive("14\r\n" + String(repeating: "c", count: 20) + "\r\n")
    #expect(try #require(over.writes.first).hasPrefix("HTTP/1.1 503"))
    #expect(over.closes && budget.reserved == 100)
    // A whole chunked body in one read is counted too (the parser has handed it over by then).
    var whole = MachineHarness(bodyBudget: budget)
    let refused = whole.receive(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3C\r\n" + String(repeating: "d", count: 60) + "\r\n0\r\n\r\n")
    #expect(try #require(refused.writes.first).hasPrefix("HTTP/1.1 503") && refused.dispatches.isEmpty)
    #expect(budget.reserved == 100)
    // Refusals that do not read the body are not the budget's business: 404 stays 404.
    var lost = MachineHarness(bodyBudget: BodyBudget(limit: 0))
    #expect(
        try #require(lost.receive("POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").writes.first).hasPrefix(
            "HTTP/1.1 404"))
}

@Test func readTimersStandStillWhileResponsesAreQueued() throws {
    var h = MachineHarness()
    let a = h.answer(h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"))
    #expect(a.writes.count == 1)
    // The client reads slowly: the response stays queued, and the server stops reading it.
    h.machine.outputChanged(pending: true, progressed: false, now: h.at(0))
    _ = h.receive("GET /hello HTTP/1.1\r\nHo", at: 0.5)
    #expect(h.tick(20).isEmpty)  // no 408 for a head the server itself did not read (header timeout 10 s)
    h.machine.outputChanged(pending: true, progressed: true, now: h.at(20))
    h.machine.outputChanged(pending: false, progressed: true, now: h.at(25))
    // The head arrived after reading stopped, so its 10 s run from when reading resumed.
    #expect(h.tick(34.9).isEmpty)
    #expect(try #require(h.tick(35).writes.first).hasPrefix("HTTP/1.1 408"))
}

@Test func halfCloseAfterPipelinedRequestsStillDeliversQueuedResponses() throws {
    var h = MachineHarness()
    let a = h.answer(h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"))
    #expect(a.writes.count == 1)
    // The response is still queued in the socket layer when the client's FIN arrives.
    h.machine.outputChanged(pending: true, progressed: true, now: h.at(0))
    let closed = Actions(h.machine.peerClosed(now: h.at(0.1)))
    #expect(closed.closes && !closed.closesNow)
    #expect(!h.machine.wantsRead)
    #expect(h.tick(0.2).isEmpty)
    // Written out: nothing to linger for, the next tick closes.
    h.machine.outputChanged(pending: false, progressed: true, now: h.at(0.3))
    #expect(h.tick(0.35).closesNow)
}

@Test func aClientReadingByteByByteIsCutOffByTheDrainTimeout() {
    var h = MachineHarness()
    _ = h.answer(h.receive("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"))
    h.machine.outputChanged(pending: true, progressed: false, now: h.at(0))
    _ = h.receive("GET /hello HTTP/1.1\r\nHo", at: 0.5)  // a next request started (its timer stands still meanwhile)
    // A byte read every 25 s keeps inside the 30 s write timeout...
    var t = 0.0
    while t + 25 < 120 {
        t += 25
        h.machine.outputChanged(pending: true, progressed: true, now: h.at(t))
        #expect(h.tick(t + 1).isEmpty)
    }
    // ...but not past the 120 s drain timeout.
    #expect(h.tick(120).closesNow)
}
