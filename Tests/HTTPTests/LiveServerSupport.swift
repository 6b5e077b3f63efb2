import Dispatch
import Foundation

@testable import HTTP

#if canImport(Glibc)
    import Glibc
#endif

/// A parsed response as a test client sees it.
struct ClientResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking TCP client on raw sockets, so tests control every byte and every timing.
final class RawClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1", receiveTimeout: Double = 5) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let info else {
            throw SocketError(operation: "getaddrinfo", errno: EINVAL)
        }
        defer { freeaddrinfo(info) }
        fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SocketError(operation: "connect", errno: e)
        }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Whether response bytes are already waiting to be read (buffered or in the socket), without blocking.
    func hasPendingData() -> Bool {
        if !buffer.isEmpty { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// Stops sending (the server reads EOF) but keeps reading.
    func finishSending() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Reads more bytes; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// Reads one response (Content-Length framed, or up to EOF without one); nil on EOF or timeout first.
    /// `headRequest` means no body follows whatever Content-Length says.
    func readResponse(headRequest: Bool = false) -> ClientResponse? {
        while true {
            if let response = takeResponse(headRequest: headRequest) { return response }
            if !fill() { return takeResponse(headRequest: headRequest, atEOF: true) }
        }
    }

    private func takeResponse(headRequest: Bool, atEOF: Bool = false) -> ClientResponse? {
        guard let end = MultipartFormData.find(Array("\r\n\r\n".utf8), in: buffer, from: 0) else { return nil }
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let bodyStart = end + 4
        var length = Int(headers["Content-Length"] ?? "") ?? (atEOF ? buffer.count - bodyStart : -1)
        if headRequest || (100..<200).contains(status) || status == 204 { length = 0 }
        guard length >= 0, buffer.count - bodyStart >= length else { return nil }
        let body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeFirst(bodyStart + length)
        return ClientResponse(status: status, headers: headers, body: body)
    }

    /// Every response until the server closes (or the read times out).
    func readAllResponses() -> [ClientResponse] {
        var responses: [ClientResponse] = []
        while let response = readResponse() { responses.append(response) }
        return responses
    }

    /// Whether the server closed the connection (EOF) within the receive timeout, discarding data.
    func waitForClose() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// Collects response logs from the server's hook.
final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var logs: [ResponseLog] = []
    func append(_ log: ResponseLog) { lock.withLock { logs.append(log) } }
    var all: [ResponseLog] { lock.withLock { logs } }
}

/// A response the test sends when it chooses: a handler that is "slow" for exactly as long as the test
/// needs, with no sleeps whose length a busy machine could outrun.
final class HeldResponse: @unchecked Sendable {
    private let lock = NSLock()
    private var respond: (@Sendable (HTTPResponse) -> Void)?

    func hold(_ respond: @escaping @Sendable (HTTPResponse) -> Void) { lock.withLock { self.respond = respond } }
    var isHeld: Bool { lock.withLock { respond != nil } }
    func release(_ response: HTTPResponse) { lock.withLock { respond }?(response) }
}

/// Routes the live tests use; `GET /held` answers only when the test releases `held`.
func testRouter(held: HeldResponse? = nil) -> Router {
    var router = Router()
    router.add(.get, "/hello") { _, respond in respond(.text("hello")) }
    router.add(.post, "/echo") { request, respond in
        var response = HTTPResponse(body: request.body)
        response.headers.add(name: "X-Body-Bytes", value: String(request.body.count))
        respond(response)
    }
    router.add(.get, "/slow") { request, respond in
        let ms = Int(request.query["ms"] ?? "300") ?? 300
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) { respond(.text("slow")) }
    }
    if let held {
        router.add(.get, "/held") { _, respond in held.hold(respond) }
    }
    router.add(.get, "/big") { _, respond in respond(HTTPResponse(body: [UInt8](repeating: 65, count: 32 << 20))) }
    router.add(.get, "/query") { request, respond in
        respond(.text(request.query.map { "\($0.name)=\($0.value)" }.joined(separator: ";")))
    }
    return router
}

/// Starts a server on a free loopback port with short timeouts, runs `body`, then shuts it down.
func withLiveServer(
    host: String = "127.0.0.1",
    router: Router = testRouter(),
    _ configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    _ body: (HTTPServer, Int, LogCollector) throws -> Void
) throws {
    var configuration = HTTPServer.Configuration()
    configuration.host = host
    configuration.port = 0
    configuration.headerReadTimeout = .seconds(3)
    configuration.bodyIdleTimeout = .seconds(3)
    configuration.keepAliveIdleTimeout = .seconds(5)
    configuration.writeTimeout = .seconds(3)
    configuration.lingerTimeout = .milliseconds(500)
    configuration.shutdownDeadline = .seconds(3)
    configure(&configuration)
    let logs = LogCollector()
    let server = HTTPServer(configuration: configuration, router: router, onResponse: { logs.append($0) })
    let port = try server.start()
    defer {
        let done = DispatchSemaphore(value: 0)
        server.shutdown { done.signal() }
        done.wait()
    }
    try body(server, port, logs)
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Runs an executable and returns (exit status, stdout, stderr).
@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: Data? = nil) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    if let stdin {
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
    } else {
        try process.run()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
