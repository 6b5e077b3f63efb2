/// Receives a request and must call `respond` exactly once, from any thread, when the response is ready.
/// Long work (inference) belongs on the handler's own queue; the server never waits for it.
public typealias HTTPHandler = @Sendable (HTTPRequest, @escaping @Sendable (HTTPResponse) -> Void) -> Void

/// One registered route.
public struct Route: Sendable {
    public let method: HTTPMethod
    /// The exact path the route answers, also reported as the route pattern in logs.
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

/// Exact-path routing table. HEAD is answered by the GET route when no HEAD route exists.
public struct Router: Sendable {
    private var routes: [String: [HTTPMethod: Route]] = [:]

    public init() {}

    /// Registers `handler` for `method` on the exact path `path`, replacing an earlier registration.
    /// `headCheck` may refuse a request from its head alone, before the body is read (see `Route.headCheck`).
    public mutating func add(
        _ method: HTTPMethod, _ path: String, readsBody: Bool = true,
        headCheck: (@Sendable (HTTPRequestHead) -> HTTPResponse?)? = nil,
        _ handler: @escaping HTTPHandler
    ) {
        routes[path, default: [:]][method] = Route(method: method, path: path, readsBody: readsBody, headCheck: headCheck, handler: handler)
    }

    /// Finds the route for a request.
    public func match(method: HTTPMethod, path: String) -> RouteMatch {
        guard let byMethod = routes[path] else { return .notFound }
        if let route = byMethod[method] { return .found(route) }
        if method == .head, let get = byMethod[.get] { return .found(get) }
        return .methodNotAllowed(allowed: allowedMethods(byMethod))
    }

    /// Every method a path accepts, HEAD included when GET is, sorted for a stable `Allow` header.
    private func allowedMethods(_ byMethod: [HTTPMethod: Route]) -> [HTTPMethod] {
        var methods = Set(byMethod.keys)
        if methods.contains(.get) { methods.insert(.head) }
        return methods.sorted { $0.rawValue < $1.rawValue }
    }
}
