/// How a request's body is delimited (RFC 9112 §6.3).
public enum BodyFraming: Equatable, Sendable {
    case none
    case contentLength(Int)
    case chunked

    /// Whether any body bytes may follow the head.
    public var hasBody: Bool {
        switch self {
        case .none: return false
        case .contentLength(let n): return n > 0
        case .chunked: return true
        }
    }
}

/// Decoded query parameters in order, with lookup by name.
public struct QueryParameters: Sequence, Equatable, Sendable {
    /// One `name=value` pair, both percent- and `+`-decoded.
    public struct Parameter: Equatable, Sendable {
        public var name: String
        public var value: String
    }
    public private(set) var parameters: [Parameter]
    public init(_ parameters: [(String, String)] = []) { self.parameters = parameters.map { Parameter(name: $0.0, value: $0.1) } }
    public var isEmpty: Bool { parameters.isEmpty }
    public var count: Int { parameters.count }
    public func makeIterator() -> IndexingIterator<[Parameter]> { parameters.makeIterator() }
    /// The first value for `name`.
    public subscript(name: String) -> String? { parameters.first { $0.name == name }?.value }
    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] { parameters.filter { $0.name == name }.map(\.value) }
}

/// A request's method, target, version and header fields: everything before the body.
public struct HTTPRequestHead: Equatable, Sendable {
    public var method: HTTPMethod
    /// The request target exactly as sent.
    public var target: String
    /// The percent-decoded path (`*` for asterisk-form, the authority for CONNECT).
    public var path: String
    public var query: QueryParameters
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// How the body is delimited.
    public var framing: BodyFraming
    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// Whether the client sent `Expect: 100-continue` and waits before sending the body.
    public var expectsContinue: Bool
    /// Values bound by the route's `{name}` segments, as its head check sees them (empty for exact-path routes).
    public var pathParameters: [String: String] = [:]

    public init(
        method: HTTPMethod, target: String, path: String, query: QueryParameters, version: HTTPVersion,
        headers: HTTPHeaders, framing: BodyFraming, keepAlive: Bool, expectsContinue: Bool
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// A complete request as handlers see it.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// The peer's address as `ip:port` (`[ip]:port` for IPv6).
    public var remoteAddress: String
    /// Values bound by the route's `{name}` segments (empty for exact-path routes).
    public var pathParameters: [String: String] = [:]
    /// What the application's own wrapping handler hands the route's handler with the request (the service: the
    /// request's trace). The server never sets or reads it.
    public var attachment: (any Sendable)?

    public init(head: HTTPRequestHead, body: [UInt8] = [], remoteAddress: String = "") {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// A request as the server would hand it to a handler, for calling handlers in-process (tests, tools):
    /// `target` is split and percent-decoded exactly as the parser does; throws `invalid_target` otherwise.
    public init(
        method: HTTPMethod, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        remoteAddress: String = "127.0.0.1:0"
    ) throws {
        let (path, query) = try RequestTarget.decode(Array(target.utf8)[...], method: method).get()
        self.init(
            head: HTTPRequestHead(
                method: method, target: target, path: path, query: query, version: .http1_1,
                headers: headers, framing: body.isEmpty ? .none : .contentLength(body.count),
                keepAlive: true, expectsContinue: false),
            body: body, remoteAddress: remoteAddress)
    }

    public var method: HTTPMethod { head.method }
    public var path: String { head.path }
    public var target: String { head.target }
    public var query: QueryParameters { head.query }
    public var version: HTTPVersion { head.version }
    public var headers: HTTPHeaders { head.headers }
}

/// Splits and decodes request targets (RFC 9112 §3.2, RFC 3986).
enum RequestTarget {
    /// Returns the decoded path and query of a target, or the reason it is invalid.
    static func decode(_ target: ArraySlice<UInt8>, method: HTTPMethod) -> Swift.Result<(String, QueryParameters), HTTPServerError> {
        var bytes = target
        // A fragment is never part of a request target; clients should not send one, we ignore it.
        if let hash = bytes.firstIndex(of: ASCII.hash) { bytes = bytes[bytes.startIndex..<hash] }
        if bytes.first == ASCII.slash {
            // origin-form
        } else if bytes.elementsEqual("*".utf8) {
            return .success(("*", QueryParameters()))
        } else if let schemeEnd = findSchemeSeparator(bytes) {
            // absolute-form: skip scheme://authority; the path starts at the next "/" or "?".
            let afterAuthority = bytes[(schemeEnd + 3)...]
            let pathStart = afterAuthority.firstIndex { $0 == ASCII.slash || $0 == ASCII.question } ?? afterAuthority.endIndex
            if schemeEnd + 3 == pathStart { return .failure(.invalidTarget("absolute-form without a host")) }
            var rest = Array(bytes[pathStart...])
            if rest.first != ASCII.slash { rest.insert(ASCII.slash, at: 0) }
            bytes = rest[...]
        } else if method == .connect {
            // authority-form, only for CONNECT; reported as the path so the router can refuse it.
            guard let s = String(validating: bytes, as: UTF8.self) else { return .failure(.invalidTarget("not UTF-8")) }
            return .success((s, QueryParameters()))
        } else {
            return .failure(.invalidTarget("it must start with `/`"))
        }
        let question = bytes.firstIndex(of: ASCII.question)
        let rawPath = bytes[bytes.startIndex..<(question ?? bytes.endIndex)]
        guard let path = percentDecode(rawPath, plusIsSpace: false) else {
            return .failure(.invalidTarget("bad percent-encoding in the path"))
        }
        var query = QueryParameters()
        if let question {
            guard let parsed = decodeQuery(bytes[(question + 1)...]) else {
                return .failure(.invalidTarget("bad percent-encoding in the query"))
            }
            query = parsed
        }
        return .success((path, query))
    }

    static func findSchemeSeparator(_ bytes: ArraySlice<UInt8>) -> Int? {
        var i = bytes.startIndex
        guard i < bytes.endIndex, (65...90).contains(bytes[i] & ~0x20) else { return nil }
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == ASCII.colon {
                return bytes[i...].starts(with: "://".utf8) ? i : nil
            }
            let isAlnum = (48...57).contains(b) || (65...90).contains(b & ~0x20)
            guard isAlnum || b == ASCII.plus || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { return nil }
            i += 1
        }
        return nil
    }

    /// Decodes `application/x-www-form-urlencoded`-style pairs; nil on a bad escape or non-UTF-8 result.
    static func decodeQuery(_ bytes: ArraySlice<UInt8>) -> QueryParameters? {
        var pairs: [(String, String)] = []
        for piece in bytes.split(separator: ASCII.ampersand, omittingEmptySubsequences: true) {
            let eq = piece.firstIndex(of: ASCII.equals)
            let rawName = piece[piece.startIndex..<(eq ?? piece.endIndex)]
            let rawValue = eq.map { piece[($0 + 1)...] } ?? []
            guard let name = percentDecode(rawName, plusIsSpace: true),
                let value = percentDecode(rawValue, plusIsSpace: true)
            else { return nil }
            pairs.append((name, value))
        }
        return QueryParameters(pairs)
    }

    /// Percent-decodes bytes; nil on a malformed escape or when the result is not UTF-8.
    static func percentDecode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) -> String? {
        if !bytes.contains(where: { $0 == ASCII.percent || (plusIsSpace && $0 == ASCII.plus) }) {
            return String(validating: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == ASCII.percent {
                guard i + 2 < bytes.endIndex,
                    let hi = ASCII.hexValue(bytes[i + 1]), let lo = ASCII.hexValue(bytes[i + 2])
                else { return nil }
                out.append(UInt8(hi * 16 + lo))
                i += 3
            } else {
                out.append(plusIsSpace && b == ASCII.plus ? ASCII.space : b)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
