/// Receives a request and must call `respond` exactly once, from any thread, when the response is ready.
/// Long work (inference) belongs on the handler's own queue; the server never waits for it.
public typealias HTTPHandler = @Sendable (HTTPRequest, @escaping @Sendable (HTTPResponse) -> Void) -> Void

/// One registered route.
public struct Route: Sendable {
    public let method: HTTPMethod
    /// The path pattern the route answers (`/v2/models/{model}/infer`), also reported as the route in logs and
    /// metrics, so a label never holds a client-chosen value.
    public let path: String
    /// Whether the handler reads the request body; if not, `Expect: 100-continue` is answered without
    /// asking for the body, and the connection closes afterwards.
    public let readsBody: Bool
    /// Looks at the head before any body is read; a response returned here (415 for a wrong Content-Type,
    /// 413 for a route-specific limit…) is sent at once, `Expect: 100-continue` is not answered with 100,
    /// and an unread body closes the connection.
    public let headCheck: (@Sendable (HTTPRequestHead) -> HTTPResponse?)?
    public let handler: HTTPHandler
}

/// What the router decided for a method and path.
public enum RouteMatch: Sendable {
    case found(Route)
    case notFound
    /// The path exists but not with this method; `allowed` goes into the `Allow` header.
    case methodNotAllowed(allowed: [HTTPMethod])
}

/// A path pattern: literal segments, and parameter segments `{name}` that match one non-empty segment,
/// optionally followed by a literal suffix (`{model}:predict`, as KServe v1 spells its verbs).
struct PathPattern: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(name: String, suffix: String)
    }
    let segments: [Segment]

    init(_ pattern: String) {
        segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { piece in
            guard piece.first == "{", let close = piece.firstIndex(of: "}") else { return .literal(String(piece)) }
            return .parameter(
                name: String(piece[piece.index(after: piece.startIndex)..<close]), suffix: String(piece[piece.index(after: close)...]))
        }
    }

    var hasParameters: Bool { segments.contains { if case .parameter = $0 { true } else { false } } }

    /// How much of a path the pattern fixes (literal characters, suffixes included): when several patterns match
    /// a path, only the most specific ones answer it (`/v1/models/m:predict` is `{model}:predict`, not `{model}`).
    var specificity: Int {
        segments.reduce(0) { total, segment in
            switch segment {
            case .literal(let text): return total + text.count + 1
            case .parameter(_, let suffix): return total + suffix.count
            }
        }
    }

    /// The parameters bound by `path`, or nil when it does not match. Paths are compared as UTF-8 bytes, never as
    /// Characters: a segment that starts with a combining mark must not merge with the `/` before it.
    func match(_ path: String) -> [String: String]? {
        guard path.utf8.first == UInt8(ascii: "/") else { return nil }
        let pieces = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        guard pieces.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (piece, segment) in zip(pieces, segments) {
            switch segment {
            case .literal(let text):
                guard piece.elementsEqual(text.utf8) else { return nil }
            case .parameter(let name, let suffix):
                let suffixBytes = suffix.utf8.count
                guard piece.count > suffixBytes, piece.suffix(suffixBytes).elementsEqual(suffix.utf8) else { return nil }
                parameters[name] = String(decoding: piece.dropLast(suffixBytes), as: UTF8.self)
            }
        }
        return parameters
    }
}

/// What the server does with a request whose head has arrived.
public enum RouteDecision: Sendable {
    /// Read the body (if any) and run the route's handler.
    case run(Route)
    /// Answer at once from the head: 404, 405, or a route's head check (then `route` is that route).
    case respond(HTTPResponse, error: HTTPServerError?, route: Route?)
}

/// Routing table: exact paths first, then the most specific matching patterns. HEAD is answered by the GET route when
/// no HEAD route exists.
public struct Router: Sendable {
    private var routes: [String: [HTTPMethod: Route]] = [:]
    private var patterns: [(pattern: PathPattern, byMethod: [HTTPMethod: Route])] = []

    /// When set, every request to a path outside `openPaths` needs one of its bearer tokens, checked from the head
    /// before routing (an unknown path is 401 too, so routes are not disclosed) and before any body is read.
    public var authentication: BearerTokens?
    /// Exact paths answered without a token (health probes; whatever the operator opens).
    public var openPaths: Set<String> = []
    /// When set, browsers on the allowed origins may call: preflights are answered (before authentication: they carry
    /// no credentials) and every response to an allowed origin carries the CORS headers.
    public var cors: CORSPolicy?

    public init() {}

    /// Registers `handler` for `method` on `path`, replacing an earlier registration. A path with `{name}`
    /// segments is a pattern; the handler finds the bound values in `HTTPRequest.pathParameters`, the head check in
    /// `HTTPRequestHead.pathParameters`.
    /// `headCheck` may refuse a request from its head alone, before the body is read (see `Route.headCheck`).
    public mutating func add(
        _ method: HTTPMethod, _ path: String, readsBody: Bool = true,
        headCheck: (@Sendable (HTTPRequestHead) -> HTTPResponse?)? = nil,
        _ handler: @escaping HTTPHandler
    ) {
        let pattern = PathPattern(path)
        guard pattern.hasParameters else {
            routes[path, default: [:]][method] = Route(
                method: method, path: path, readsBody: readsBody, headCheck: headCheck, handler: handler)
            return
        }
        let bound: HTTPHandler = { request, respond in
            var request = request
            request.pathParameters = pattern.match(request.path) ?? [:]
            handler(request, respond)
        }
        let boundCheck = headCheck.map { check in
            { @Sendable (head: HTTPRequestHead) -> HTTPResponse? in
                var head = head
                head.pathParameters = pattern.match(head.path) ?? [:]
                return check(head)
            }
        }
        let route = Route(method: method, path: path, readsBody: readsBody, headCheck: boundCheck, handler: bound)
        if let index = patterns.firstIndex(where: { $0.pattern.segments == pattern.segments }) {
            patterns[index].byMethod[method] = route
        } else {
            patterns.append((pattern, [method: route]))
        }
    }

    /// Finds the route for a request.
    public func match(method: HTTPMethod, path: String) -> RouteMatch {
        var allowed: Set<HTTPMethod> = []
        var candidates: [[HTTPMethod: Route]]
        if let exact = routes[path] {
            candidates = [exact]
        } else {
            let matching = patterns.filter { $0.pattern.match(path) != nil }
            let best = matching.map(\.pattern.specificity).max()
            candidates = matching.filter { $0.pattern.specificity == best }.map(\.byMethod)
        }
        for byMethod in candidates {
            if let route = byMethod[method] { return .found(route) }
            if method == .head, let get = byMethod[.get] { return .found(get) }
            allowed.formUnion(byMethod.keys)
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains(.get) { allowed.insert(.head) }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }

    /// Decides from the head alone: the route to run, or the response to send now (404 and 405 rendered by
    /// `errorResponder`, or the route's head check refusing). The live server and `respond(to:)` both use it.
    public func decide(_ head: HTTPRequestHead, errorResponder: (HTTPServerError) -> HTTPResponse) -> RouteDecision {
        func refuse(_ error: HTTPServerError) -> RouteDecision {
            var error = error
            error.requestPath = head.path
            return .respond(errorResponder(error), error: error, route: nil)
        }
        if let cors, head.method == .options, head.headers["Origin"] != nil,
            let requested = head.headers["Access-Control-Request-Method"].map(HTTPMethod.init)
        {
            switch match(method: requested, path: head.path) {
            case .found(let route): return .respond(cors.preflight(head, methods: [route.method]), error: nil, route: route)
            case .methodNotAllowed(let allowed): return .respond(cors.preflight(head, methods: allowed), error: nil, route: nil)
            case .notFound:
                // With tokens, unknown paths are not disclosed (as for other requests): a 204 that grants nothing.
                if authentication != nil { return .respond(HTTPResponse(status: .noContent), error: nil, route: nil) }
                return refuse(.notFound(path: head.path))
            }
        }
        if let authentication, !openPaths.contains(head.path), let failure = authentication.check(head.headers["Authorization"]) {
            return refuse(.unauthorized(failure))
        }
        switch match(method: head.method, path: head.path) {
        case .found(let route):
            if let check = route.headCheck, let response = check(head) { return .respond(response, error: nil, route: route) }
            return .run(route)
        case .notFound:
            return refuse(.notFound(path: head.path))
        case .methodNotAllowed(let allowed):
            return refuse(.methodNotAllowed(method: head.method, path: head.path, allowed: allowed))
        }
    }

    /// Answers a complete request in-process the way the server does once it has read it: routing, head check,
    /// handler, error rendering (tests and tools use it; no socket involved).
    public func respond(
        to request: HTTPRequest, errorResponder: (HTTPServerError) -> HTTPResponse = HTTPResponse.defaultError,
        _ completion: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        switch decide(request.head, errorResponder: errorResponder) {
        case .respond(let response, _, _): completion(response)
        case .run(let route):
            route.handler(route.readsBody ? request : HTTPRequest(head: request.head, remoteAddress: request.remoteAddress), completion)
        }
    }
}
