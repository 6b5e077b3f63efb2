import COpenSSL

#if canImport(Glibc)
    import Glibc
#endif

/// What one read or write on a connection achieved.
enum TransportOutcome: Equatable {
    case progress(Int)
    /// Nothing now; poll for `ConnectionTransport.interest` and try again.
    case wouldBlock
    case eof
    /// The connection is unusable (reset, TLS alert, protocol error): drop it.
    case failure
}

/// How a connection's bytes travel: in clear over the socket, or through TLS. The event loop reads and writes
/// through it and asks it which poll events to wait for; the state machine above never knows the difference.
protocol ConnectionTransport: AnyObject {
    func read(_ buffer: UnsafeMutableRawBufferPointer) -> TransportOutcome
    func write(_ bytes: UnsafeRawBufferPointer) -> TransportOutcome
    /// The poll events to wait for, given whether the connection wants input and has output pending.
    func interest(wantsRead: Bool, wantsWrite: Bool) -> Int16
    /// Input the transport already holds, which poll cannot see (TLS records decrypted ahead).
    var hasBufferedInput: Bool { get }
    /// Whether application data flows yet (false while a TLS handshake is in progress).
    var isEstablished: Bool { get }
    /// No more output from us: close_notify for TLS, then the TCP FIN.
    func finishSending()
    /// Frees the transport's own state (the server closes the descriptor).
    func close()
    /// For the access log: the TLS version and the verified client certificate's subject.
    var securityDetails: (version: String, clientSubject: String?)? { get }
}

/// Plain TCP.
final class PlainTransport: ConnectionTransport {
    let fd: Int32

    init(fd: Int32) { self.fd = fd }

    func read(_ buffer: UnsafeMutableRawBufferPointer) -> TransportOutcome {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { return .progress(n) }
        if n == 0 { return .eof }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? .wouldBlock : .failure
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportOutcome {
        while true {
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n > 0 { return .progress(n) }
            if n < 0 && errno == EINTR { continue }
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? .wouldBlock : .failure
        }
    }

    func interest(wantsRead: Bool, wantsWrite: Bool) -> Int16 {
        (wantsRead ? Int16(POLLIN) : 0) | (wantsWrite ? Int16(POLLOUT) : 0)
    }

    var hasBufferedInput: Bool { false }
    var isEstablished: Bool { true }
    func finishSending() { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    func close() {}
    var securityDetails: (version: String, clientSubject: String?)? { nil }
}

/// TLS over a non-blocking socket, driven by the event loop: the handshake advances on whichever event OpenSSL
/// asked for, and reads and writes report which one they need next (a TLS read may need to write and vice versa).
final class TLSTransport: ConnectionTransport {
    private let fd: Int32
    private var ssl: OpaquePointer?
    private(set) var isEstablished = false
    /// The event the last OpenSSL call that could not progress is waiting for.
    private var handshakeWants = Int16(POLLIN)
    private var readWants = Int16(POLLIN)
    private var writeWants = Int16(POLLOUT)
    private var details: (version: String, clientSubject: String?)?
    /// What a plain HTTP request gets instead of a handshake (a whole response, `Connection: close`).
    private let plainHTTPRefusal: () -> [UInt8]
    private var firstByteSeen = false

    init(fd: Int32, ssl: OpaquePointer, plainHTTPRefusal: @escaping () -> [UInt8]) {
        self.fd = fd
        self.ssl = ssl
        self.plainHTTPRefusal = plainHTTPRefusal
    }

    /// A TLS connection starts with a handshake record (0x16); one that starts with an upper-case letter is a plain
    /// HTTP request line (`GET /…`): it is answered with a plain-text 400 saying to use https://, then closed.
    private func refusePlainHTTP() -> TransportOutcome? {
        guard !firstByteSeen else { return nil }
        var first: UInt8 = 0
        let n = recv(fd, &first, 1, Int32(MSG_PEEK))
        if n == 0 { return .eof }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                handshakeWants = Int16(POLLIN)
                return .wouldBlock
            }
            return .failure
        }
        firstByteSeen = true
        guard (65...90).contains(first) else { return nil }
        // Read what has arrived (the socket is non-blocking: this stops at EAGAIN), so the close that follows is a FIN
        // and not a reset that could discard the answer before the client reads it.
        var sink = [UInt8](repeating: 0, count: 4096)
        while recv(fd, &sink, sink.count, 0) > 0 {}
        _ = plainHTTPRefusal().withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        return .failure
    }

    /// Advances the handshake: nil once application data can flow, else what the caller should report.
    private func handshake() -> TransportOutcome? {
        guard let ssl, !isEstablished else { return nil }
        if let refused = refusePlainHTTP() { return refused }
        let result = cos_handshake(ssl)
        guard result == 1 else { return outcome(Int(result), wants: &handshakeWants) }
        isEstablished = true
        var subject = [CChar](repeating: 0, count: 512)
        let hasSubject = cos_peer_subject(ssl, &subject, subject.count) == 1
        details = (
            String(cString: cos_version(ssl)),
            hasSubject ? String(cString: subject) : nil
        )
        return nil
    }

    /// A byte count, or what an OpenSSL call that could not progress is waiting for (noted in `wants`).
    private func outcome(_ result: Int, wants: inout Int16) -> TransportOutcome {
        if result > 0 { return .progress(result) }
        switch Int32(result) {
        case Int32(COS_WANT_READ):
            wants = Int16(POLLIN)
            return .wouldBlock
        case Int32(COS_WANT_WRITE):
            wants = Int16(POLLOUT)
            return .wouldBlock
        case Int32(COS_EOF): return .eof
        default: return .failure
        }
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer) -> TransportOutcome {
        guard let ssl else { return .failure }
        if let pending = handshake() { return pending }
        return outcome(cos_read(ssl, buffer.baseAddress, buffer.count), wants: &readWants)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportOutcome {
        guard let ssl else { return .failure }
        if let pending = handshake() { return pending }
        return outcome(cos_write(ssl, bytes.baseAddress, bytes.count), wants: &writeWants)
    }

    func interest(wantsRead: Bool, wantsWrite: Bool) -> Int16 {
        guard isEstablished else { return handshakeWants }
        return (wantsRead ? readWants : 0) | (wantsWrite ? writeWants : 0)
    }

    var hasBufferedInput: Bool { isEstablished && ssl.map { cos_pending($0) > 0 } == true }

    func finishSending() {
        if let ssl { cos_shutdown(ssl) }
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    func close() {
        if let ssl { cos_free(ssl) }
        ssl = nil
    }

    var securityDetails: (version: String, clientSubject: String?)? { details }
}
