import COpenSSL
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for health checks (e.g. a container HEALTHCHECK without curl) and for exporting
/// traces: connects, sends one request, and returns the status code of the response; over TLS when asked.
public enum HTTPProbe {
    /// How to talk to an HTTPS server.
    public enum TLS: Sendable {
        /// Verify its certificate against this CA bundle (nil: the system's) and the host name.
        case verify(caFile: String?)
        /// Encrypt, but accept any certificate (a probe of one's own pod, whose certificate names the Service).
        case insecure
    }

    /// The status code `GET path` returns, or throws `SocketError` when nothing answers within `timeout`
    /// (or `TLSConfigurationError` when the TLS handshake or the certificate fails).
    public static func status(host: String, port: Int, path: String, timeout: Duration = .seconds(2), tls: TLS? = nil) throws -> Int {
        try send("GET", host: host, port: port, path: path, timeout: timeout, tls: tls)
    }

    /// The status code of `method path` with `headers` and `body` (`Content-Length` is added), on a fresh connection
    /// that closes afterwards; throws as `status` does. `timeout` bounds the whole exchange after name resolution: each
    /// socket call gets what is left of it.
    public static func send(
        _ method: String, host: String, port: Int, path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(2), tls: TLS? = nil
    ) throws -> Int {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw SocketError(operation: "getaddrinfo(\(host))", errno: EINVAL)
        }
        defer { freeaddrinfo(list) }
        let deadline = ContinuousClock.now + timeout
        /// Sets the socket's send and receive timeouts to what is left before the deadline; false once it has passed.
        func limitToDeadline(_ fd: Int32) -> Bool {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return false }
            var limit = timeval(tv_sec: Int(left.components.seconds), tv_usec: max(1, Int(left.components.attoseconds / 1_000_000_000_000)))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            return true
        }
        var lastErrno: Int32 = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else {
                lastErrno = errno
                continue
            }
            defer { close(fd) }
            guard limitToDeadline(fd) else { throw SocketError(operation: "connect to \(host):\(port)", errno: ETIMEDOUT) }
            guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                lastErrno = errno
                continue
            }
            var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\nConnection: close\r\n"
            head += "User-Agent: \(method == "GET" ? "seresnet-probe" : "seresnet")\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
            let request = Array((head + "\r\n").utf8) + body
            var session: OpaquePointer?
            if let tls {
                var error = [CChar](repeating: 0, count: 512)
                let caFile: String? = if case .verify(let file) = tls { file } else { nil }
                let insecure: Int32 = if case .insecure = tls { 1 } else { 0 }
                session = cos_connect(fd, host, caFile, insecure, &error, error.count)
                guard session != nil else { throw TLSConfigurationError(description: String(cString: error)) }
            }
            defer { session.map { cos_free($0) } }
            // Until every byte is written (a large body can take several writes) or the deadline passes.
            var sent = 0
            while sent < request.count {
                guard limitToDeadline(fd) else { throw SocketError(operation: "send", errno: ETIMEDOUT) }
                let n = request.withUnsafeBytes { bytes in
                    session.map { cos_write($0, bytes.baseAddress! + sent, bytes.count - sent) }
                        ?? Glibc.send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                }
                if n < 0 && session == nil && errno == EINTR { continue }
                guard n > 0 else {
                    // A failed TLS write leaves no errno of its own.
                    if session != nil { throw TLSConfigurationError(description: "TLS write to \(host):\(port) failed") }
                    throw SocketError(operation: "send", errno: errno)
                }
                sent += n
            }
            var response = [UInt8](repeating: 0, count: 512)
            var received = 0
            while received < 12 {
                guard limitToDeadline(fd) else { throw SocketError(operation: "recv", errno: ETIMEDOUT) }
                let n = response.withUnsafeMutableBytes { buffer in
                    session.map { cos_read($0, buffer.baseAddress! + received, buffer.count - received) }
                        ?? recv(fd, buffer.baseAddress! + received, buffer.count - received, 0)
                }
                guard n > 0 else {
                    if session != nil, n < 0 { throw TLSConfigurationError(description: "TLS read from \(host):\(port) failed") }
                    throw SocketError(operation: "recv", errno: n == 0 ? ECONNRESET : errno)
                }
                received += n
            }
            // "HTTP/1.1 200 …": the three digits after the first space.
            guard let space = response.prefix(received).firstIndex(of: 0x20), space + 3 < received,
                let code = Int(String(decoding: response[space + 1...space + 3], as: UTF8.self))
            else {
                throw SocketError(operation: "parse status line", errno: EPROTO)
            }
            return code
        }
        throw SocketError(operation: "connect to \(host):\(port)", errno: lastErrno)
    }
}
