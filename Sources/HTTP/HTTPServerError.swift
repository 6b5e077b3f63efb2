/// The one error type of the HTTP layer: every way a request can be refused, with the status it maps to,
/// a stable machine `code` (snake_case) and a `message` a client can act on.
public struct HTTPServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable identifiers; the raw value is the `code` clients and logs see.
    public enum Code: String, Sendable, CaseIterable {
        case malformedRequestLine = "malformed_request_line"
        case invalidTarget = "invalid_target"
        case uriTooLong = "uri_too_long"
        case httpVersionNotSupported = "http_version_not_supported"
        case invalidHeaderName = "invalid_header_name"
        case whitespaceBeforeColon = "whitespace_before_colon"
        case invalidHeaderValue = "invalid_header_value"
        case obsoleteLineFolding = "obsolete_line_folding"
        case invalidLineEnding = "invalid_line_ending"
        case headersTooLarge = "headers_too_large"
        case tooManyHeaders = "too_many_headers"
        case missingHost = "missing_host"
        case duplicateHost = "duplicate_host"
        case invalidContentLength = "invalid_content_length"
        case contentLengthWithTransferEncoding = "content_length_with_transfer_encoding"
        case transferEncodingNotChunked = "transfer_encoding_not_chunked"
        case unsupportedTransferCoding = "unsupported_transfer_coding"
        case invalidChunk = "invalid_chunk"
        case chunkExtensionTooLong = "chunk_extension_too_long"
        case payloadTooLarge = "payload_too_large"
        case expectationFailed = "expectation_failed"
        case requestTimeout = "request_timeout"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case unsupportedMediaType = "unsupported_media_type"
        case invalidMultipart = "invalid_multipart"
        case tooManyConnections = "too_many_connections"
        case tooManyUploads = "too_many_uploads"
        case plainHTTPOnTLSPort = "plain_http_on_tls_port"
        case missingToken = "missing_token"
        case malformedAuthorization = "malformed_authorization"
        case invalidToken = "invalid_token"

        /// The response status this code maps to.
        public var status: HTTPStatus {
            switch self {
            case .uriTooLong: return .uriTooLong
            case .headersTooLarge, .tooManyHeaders: return .requestHeaderFieldsTooLarge
            // A transfer coding other than chunked and a major version other than 1 are where RFC 9112 suggests
            // 501 and 505. Both are the client's doing, and proxies and load balancers count 5xx against the
            // server (error-rate alerts, outlier ejection of a healthy replica), so they are 400s here, with
            // their own codes saying what to change. Only refusals that pass (503) are 5xx.
            case .httpVersionNotSupported, .unsupportedTransferCoding: return .badRequest
            case .payloadTooLarge: return .contentTooLarge
            case .expectationFailed: return .expectationFailed
            case .requestTimeout: return .requestTimeout
            case .notFound: return .notFound
            case .methodNotAllowed: return .methodNotAllowed
            case .unsupportedMediaType: return .unsupportedMediaType
            case .tooManyConnections, .tooManyUploads: return .serviceUnavailable
            case .missingToken, .malformedAuthorization, .invalidToken: return .unauthorized
            default: return .badRequest
            }
        }

        /// For refusals that pass: the `Retry-After` to send, in seconds.
        public var retryAfterSeconds: Int? {
            switch self {
            case .tooManyConnections, .tooManyUploads: return 1
            default: return nil
            }
        }
    }

    /// What went wrong, machine-readable.
    public let code: Code
    /// What went wrong and what to do about it, for a human reading the response.
    public let message: String
    /// For `method_not_allowed`: the methods the path does accept (sent as `Allow`).
    public let allowedMethods: [HTTPMethod]
    /// The decoded path of the request the error answers, when its head was read: error renderers use it to
    /// answer in the shape of the API the path belongs to. Not part of the error's identity (`==`).
    public var requestPath: String?

    /// An error with an explicit message.
    public init(_ code: Code, _ message: String, allowedMethods: [HTTPMethod] = []) {
        self.code = code
        self.message = message
        self.allowedMethods = allowedMethods
    }

    /// The HTTP status of the response that reports this error.
    public var status: HTTPStatus { code.status }

    /// For refusals that pass: the `Retry-After` to send, in seconds.
    public var retryAfterSeconds: Int? { code.retryAfterSeconds }

    /// Whether the connection must be closed after reporting this error (framing may be lost).
    public var closesConnection: Bool {
        switch code {
        case .notFound, .methodNotAllowed, .unsupportedMediaType, .invalidMultipart, .missingToken, .malformedAuthorization, .invalidToken:
            return false
        default: return true
        }
    }

    public var description: String { "\(status.code) \(code.rawValue): \(message)" }

    public static func == (lhs: HTTPServerError, rhs: HTTPServerError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.allowedMethods == rhs.allowedMethods
    }
}

/// The errors the HTTP layer raises, with their standard messages.
extension HTTPServerError {
    /// `malformed_request_line`.
    public static func malformedRequestLine(_ detail: String) -> HTTPServerError {
        HTTPServerError(.malformedRequestLine, "Malformed request line: \(detail). Send `METHOD /path HTTP/1.1` followed by CRLF.")
    }
    /// `invalid_target`.
    public static func invalidTarget(_ detail: String) -> HTTPServerError {
        HTTPServerError(.invalidTarget, "Invalid request target: \(detail). Percent-encode reserved and non-ASCII bytes.")
    }
    /// `uri_too_long`.
    public static func uriTooLong(limit: Int) -> HTTPServerError {
        HTTPServerError(.uriTooLong, "The request target is longer than \(limit) bytes; shorten the URL.")
    }
    /// `http_version_not_supported`.
    public static func versionNotSupported(_ version: String) -> HTTPServerError {
        HTTPServerError(.httpVersionNotSupported, "HTTP version \(version) is not supported; use HTTP/1.1 or HTTP/1.0.")
    }
    /// `invalid_header_name`.
    public static let invalidHeaderName = HTTPServerError(
        .invalidHeaderName, "A header field name contains a character that is not allowed in a token (RFC 9110 §5.1).")
    /// `whitespace_before_colon`.
    public static let whitespaceBeforeColon = HTTPServerError(
        .whitespaceBeforeColon, "Whitespace between a header field name and the colon is not allowed (RFC 9112 §5.1); remove it.")
    /// `invalid_header_value`.
    public static let invalidHeaderValue = HTTPServerError(
        .invalidHeaderValue, "A header field value contains a control character (RFC 9110 §5.5); remove it.")
    /// `obsolete_line_folding`.
    public static let obsoleteLineFolding = HTTPServerError(
        .obsoleteLineFolding,
        "Header values folded over several lines (obs-fold, RFC 9112 §5.2) are not accepted; send each field on one line.")
    /// `invalid_line_ending`.
    public static let invalidLineEnding = HTTPServerError(
        .invalidLineEnding, "Lines must end with CRLF; a bare CR or LF was found (RFC 9112 §2.2).")
    /// `headers_too_large`.
    public static func headersTooLarge(limit: Int) -> HTTPServerError {
        HTTPServerError(.headersTooLarge, "The header section is larger than \(limit) bytes; send fewer or shorter headers.")
    }
    /// `too_many_headers`.
    public static func tooManyHeaders(limit: Int) -> HTTPServerError {
        HTTPServerError(.tooManyHeaders, "More than \(limit) header fields were sent; send fewer headers.")
    }
    /// `missing_host`.
    public static let missingHost = HTTPServerError(.missingHost, "HTTP/1.1 requests must carry a Host header (RFC 9112 §3.2).")
    /// `duplicate_host`.
    public static let duplicateHost = HTTPServerError(
        .duplicateHost, "The request carries more than one Host header (RFC 9112 §3.2); send exactly one.")
    /// `invalid_content_length`.
    public static func invalidContentLength(_ detail: String) -> HTTPServerError {
        HTTPServerError(.invalidContentLength, "Invalid Content-Length: \(detail). Send one decimal number of bytes.")
    }
    /// `content_length_with_transfer_encoding`.
    public static let contentLengthWithTransferEncoding = HTTPServerError(
        .contentLengthWithTransferEncoding, "The request carries both Content-Length and Transfer-Encoding (RFC 9112 §6.3); send only one.")
    /// `transfer_encoding_not_chunked`.
    public static let transferEncodingNotChunked = HTTPServerError(
        .transferEncodingNotChunked, "Transfer-Encoding must end with `chunked` exactly once (RFC 9112 §6.3).")
    /// `unsupported_transfer_coding`.
    public static func unsupportedTransferCoding(_ coding: String) -> HTTPServerError {
        HTTPServerError(
            .unsupportedTransferCoding,
            "Transfer coding `\(coding)` is not supported; send the body with `Transfer-Encoding: chunked` alone or with Content-Length.")
    }
    /// `invalid_chunk`.
    public static func invalidChunk(_ detail: String) -> HTTPServerError {
        HTTPServerError(.invalidChunk, "Invalid chunked body: \(detail) (RFC 9112 §7.1).")
    }
    /// `chunk_extension_too_long`.
    public static func chunkExtensionTooLong(limit: Int) -> HTTPServerError {
        HTTPServerError(
            .chunkExtensionTooLong, "A chunk extension is longer than \(limit) bytes; chunk extensions are ignored, so omit them.")
    }
    /// `payload_too_large`.
    public static func payloadTooLarge(limit: Int) -> HTTPServerError {
        HTTPServerError(.payloadTooLarge, "The request body is larger than the limit of \(limit) bytes; send a smaller body.")
    }
    /// `expectation_failed`.
    public static func expectationFailed(_ value: String) -> HTTPServerError {
        HTTPServerError(.expectationFailed, "Expect: \(value) is not supported; only `Expect: 100-continue` is.")
    }
    /// `request_timeout`.
    public static let requestTimeout = HTTPServerError(
        .requestTimeout, "The request was not received in time; send the whole request promptly.")
    /// `not_found`.
    public static func notFound(path: String) -> HTTPServerError {
        HTTPServerError(.notFound, "No resource at \(path).")
    }
    /// `method_not_allowed`.
    public static func methodNotAllowed(method: HTTPMethod, path: String, allowed: [HTTPMethod]) -> HTTPServerError {
        HTTPServerError(
            .methodNotAllowed,
            "\(method) is not allowed on \(path); use \(allowed.map(\.rawValue).joined(separator: ", ")).",
            allowedMethods: allowed)
    }
    /// `too_many_connections`.
    public static let tooManyConnections = HTTPServerError(.tooManyConnections, "The server has too many open connections; retry shortly.")
    /// `plain_http_on_tls_port`: a plain HTTP request reached the HTTPS listener (answered in plain text, as nginx does).
    public static let plainHTTPOnTLSPort = HTTPServerError(
        .plainHTTPOnTLSPort, "This port speaks HTTPS: send the request with https:// (TLS), not http://.")
    /// `too_many_uploads`.
    public static func tooManyUploads(limit: Int) -> HTTPServerError {
        HTTPServerError(.tooManyUploads, "The server is already holding \(limit) bytes of request bodies, its limit; retry shortly.")
    }
    /// `missing_token`, `malformed_authorization` or `invalid_token`: a request without an accepted bearer token.
    public static func unauthorized(_ failure: BearerTokens.Failure) -> HTTPServerError {
        switch failure {
        case .missing:
            return HTTPServerError(.missingToken, "This server needs a bearer token: send `Authorization: Bearer <token>`.")
        case .malformed:
            return HTTPServerError(
                .malformedAuthorization, "The Authorization header must be `Bearer <token>` (RFC 6750 §2.1); no other scheme is accepted.")
        case .invalid:
            return HTTPServerError(.invalidToken, "The bearer token is not accepted; check it against the server's tokens file.")
        }
    }

    /// For refusals of authentication: the reason (`BearerTokens.Failure`).
    public var authenticationFailure: BearerTokens.Failure? { code.authenticationFailure }
}

extension HTTPServerError.Code {
    /// For refusals of authentication: the reason (`BearerTokens.Failure`).
    public var authenticationFailure: BearerTokens.Failure? {
        switch self {
        case .missingToken: return .missing
        case .malformedAuthorization: return .malformed
        case .invalidToken: return .invalid
        default: return nil
        }
    }
}
