/// Cross-origin resource sharing (the Fetch standard's CORS protocol) for browser clients on other origins: which
/// origins may call, the answer to their preflight `OPTIONS`, and the headers every response to them carries. Off unless
/// configured (`Router.cors`).
public struct CORSPolicy: Sendable, Equatable {
    /// `*`, or the exact origins (`scheme://host[:port]`) allowed.
    public enum Origins: Sendable, Equatable {
        case any
        case only(Set<String>)
    }

    public let origins: Origins
    /// Request headers a preflight may ask for (lowercase); others are not granted.
    public static let allowedHeaders: [String] = [
        "authorization", "content-type", "inference-header-content-length", "traceparent", "tracestate", "x-request-id",
    ]
    /// Response headers scripts on other origins may read.
    public static let exposedHeaders =
        "X-Request-ID, Server-Timing, traceparent, tracestate, Retry-After, WWW-Authenticate, Inference-Header-Content-Length"
    /// How long a browser may cache a preflight's answer (seconds).
    public static let maxAge = 600

    public init(origins: Origins) { self.origins = origins }

    /// From `--cors-allow-origin`: `*`, or origins (`scheme://host[:port]`, no path) separated by commas; nil otherwise.
    public init?(parsing text: String) {
        let entries = text.split(separator: ",").map { String($0).trimmedOfSpaces }.filter { !$0.isEmpty }
        if entries == ["*"] {
            origins = .any
            return
        }
        let valid = entries.allSatisfy { entry in
            (entry.hasPrefix("http://") || entry.hasPrefix("https://")) && !entry.hasSuffix("/") && !entry.contains("*")
                && entry.split(separator: "/", omittingEmptySubsequences: false).count == 3
        }
        guard valid, !entries.isEmpty else { return nil }
        // Browsers send scheme and host in lowercase; a configured `https://App.Example` must still match.
        origins = .only(Set(entries.map { $0.lowercased() }))
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or nil when that origin is not allowed.
    func allowOrigin(_ origin: String?) -> String? {
        guard let origin else { return nil }
        switch origins {
        case .any: return "*"
        case .only(let set): return set.contains(origin.lowercased()) ? origin : nil
        }
    }

    /// Adds the CORS headers to the response to a request from `head`'s `Origin` (when allowed), and `Vary: Origin` when
    /// the answer depends on it.
    public func decorate(_ response: inout HTTPResponse, for head: HTTPRequestHead) {
        if case .only = origins { response.headers.add(name: "Vary", value: "Origin") }
        guard let allowed = allowOrigin(head.headers["Origin"]) else { return }
        response.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: allowed)
        if response.headers["Access-Control-Allow-Methods"] == nil {
            response.headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: Self.exposedHeaders)
        }
    }

    /// The answer to a preflight for `methods` on a path: 204 granting the requested method when the path has it, and
    /// the requested headers that are allowed. A disallowed origin gets the 204 without grants, which browsers refuse.
    func preflight(_ head: HTTPRequestHead, methods: [HTTPMethod]) -> HTTPResponse {
        var response = HTTPResponse(status: .noContent)
        guard allowOrigin(head.headers["Origin"]) != nil else { return response }
        response.headers.replaceOrAdd(name: "Access-Control-Allow-Methods", value: methods.map(\.rawValue).joined(separator: ", "))
        let asked = (head.headers["Access-Control-Request-Headers"] ?? "").split(separator: ",").map { $0.trimmedOfSpaces.lowercased() }
        let granted = asked.filter { Self.allowedHeaders.contains($0) }
        if !granted.isEmpty { response.headers.replaceOrAdd(name: "Access-Control-Allow-Headers", value: granted.joined(separator: ", ")) }
        response.headers.replaceOrAdd(name: "Access-Control-Max-Age", value: String(Self.maxAge))
        return response
    }
}

extension StringProtocol {
    fileprivate var trimmedOfSpaces: String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
