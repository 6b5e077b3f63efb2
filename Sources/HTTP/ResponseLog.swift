/// One record per response written (and per connection ended by an error before any request), for
/// access logs and metrics.
public struct ResponseLog: Sendable {
    /// The request method, nil when the request line could not be read.
    public var method: String?
    /// The request path (decoded when possible, else the raw target), nil when unknown.
    public var path: String?
    /// The matched route's path, nil for unrouted requests (404, parse errors).
    public var route: String?
    public var status: Int
    /// The server error behind the response, if it was one.
    public var errorCode: String?
    /// Request bytes read for this request (head and body as they arrived on the wire).
    public var bytesIn: Int
    /// Response bytes produced (head and body).
    public var bytesOut: Int
    /// From the first byte of the request to the response being queued for writing.
    public var duration: Duration
    public var remoteAddress: String
    /// Request headers (empty when the head could not be parsed), e.g. for `X-Request-ID`.
    public var requestHeaders: HTTPHeaders
    /// Headers of the response as the application produced it (e.g. its `X-Request-ID`, `Server-Timing`).
    public var responseHeaders: HTTPHeaders
    /// Over HTTPS: the TLS version ("TLSv1.3").
    public var tlsVersion: String?
    /// With mutual TLS: the verified client certificate's subject (RFC 2253).
    public var clientCertificateSubject: String?

    public init(
        method: String?, path: String?, route: String?, status: Int, errorCode: String?, bytesIn: Int, bytesOut: Int,
        duration: Duration, remoteAddress: String, requestHeaders: HTTPHeaders, responseHeaders: HTTPHeaders = HTTPHeaders()
    ) {
        self.method = method
        self.path = path
        self.route = route
        self.status = status
        self.errorCode = errorCode
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.duration = duration
        self.remoteAddress = remoteAddress
        self.requestHeaders = requestHeaders
        self.responseHeaders = responseHeaders
    }
}
