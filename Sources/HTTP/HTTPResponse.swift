import Foundation

/// A response status code with its reason phrase.
public struct HTTPStatus: Hashable, Sendable, CustomStringConvertible {
    public let code: Int
    public let reasonPhrase: String
    public init(_ code: Int, _ reasonPhrase: String) {
        self.code = code
        self.reasonPhrase = reasonPhrase
    }
    public var description: String { "\(code) \(reasonPhrase)" }

    public static let `continue` = HTTPStatus(100, "Continue")
    public static let ok = HTTPStatus(200, "OK")
    public static let created = HTTPStatus(201, "Created")
    public static let accepted = HTTPStatus(202, "Accepted")
    public static let noContent = HTTPStatus(204, "No Content")
    public static let notModified = HTTPStatus(304, "Not Modified")
    public static let badRequest = HTTPStatus(400, "Bad Request")
    public static let unauthorized = HTTPStatus(401, "Unauthorized")
    public static let notFound = HTTPStatus(404, "Not Found")
    public static let methodNotAllowed = HTTPStatus(405, "Method Not Allowed")
    public static let requestTimeout = HTTPStatus(408, "Request Timeout")
    public static let contentTooLarge = HTTPStatus(413, "Content Too Large")
    public static let uriTooLong = HTTPStatus(414, "URI Too Long")
    public static let unsupportedMediaType = HTTPStatus(415, "Unsupported Media Type")
    public static let expectationFailed = HTTPStatus(417, "Expectation Failed")
    public static let unprocessableContent = HTTPStatus(422, "Unprocessable Content")
    public static let tooManyRequests = HTTPStatus(429, "Too Many Requests")
    public static let requestHeaderFieldsTooLarge = HTTPStatus(431, "Request Header Fields Too Large")
    public static let internalServerError = HTTPStatus(500, "Internal Server Error")
    public static let notImplemented = HTTPStatus(501, "Not Implemented")
    public static let serviceUnavailable = HTTPStatus(503, "Service Unavailable")
    public static let httpVersionNotSupported = HTTPStatus(505, "HTTP Version Not Supported")
}

/// A response: status, header fields and body bytes. The server adds `Content-Length`, `Date` and
/// `Connection` itself; any values a handler sets for those are replaced.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    /// An `application/json` response from already-encoded JSON bytes.
    public static func json(bytes: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// An `application/json` response encoding `value` with sorted keys.
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok) throws -> HTTPResponse {
        json(bytes: try jsonBytes(value), status: status)
    }

    /// `value` as JSON with sorted keys; a non-finite number throws `EncodingError` rather than writing invalid JSON.
    public static func jsonBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// The default rendering of a server error: `{"error":{"status":413,"code":"payload_too_large","message":"…"}}`,
    /// with `Allow` for 405.
    public static func defaultError(_ error: HTTPServerError) -> HTTPResponse {
        var body = "{\"error\":{\"status\":\(error.status.code),\"code\":\""
        body += error.code.rawValue
        body += "\",\"message\":"
        body += jsonStringLiteral(error.message)
        body += "}}"
        var response = HTTPResponse.json(bytes: Array(body.utf8), status: error.status)
        if !error.allowedMethods.isEmpty {
            response.headers.add(name: "Allow", value: error.allowedMethods.map(\.rawValue).joined(separator: ", "))
        }
        if let seconds = error.retryAfterSeconds { response.headers.add(name: "Retry-After", value: String(seconds)) }
        return response
    }

    /// Encodes a string as a JSON string literal (RFC 8259 §7).
    public static func jsonStringLiteral(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + String(scalar.value >> 4, radix: 16) + String(scalar.value & 0xF, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Serializes response heads and bodies into wire bytes.
enum ResponseSerializer {
    static let continueBytes: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// The wire bytes of `response` answering a `method` request; `close` adds `Connection: close`,
    /// `keepAliveHTTP10` adds `Connection: keep-alive`. HEAD responses keep Content-Length but omit the body.
    static func serialize(_ response: HTTPResponse, method: HTTPMethod?, close: Bool, keepAliveHTTP10: Bool, date: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + response.body.count + response.headers.count * 32)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(response.status.code, to: &out)
        out.append(ASCII.space)
        out.append(contentsOf: response.status.reasonPhrase.utf8)
        out.append(contentsOf: "\r\n".utf8)
        for field in response.headers.fields {
            if HTTPHeaders.namesEqual(field.name, "Content-Length") || HTTPHeaders.namesEqual(field.name, "Date")
                || HTTPHeaders.namesEqual(field.name, "Connection") || HTTPHeaders.namesEqual(field.name, "Transfer-Encoding")
            {
                continue
            }
            appendSanitized(field.name, to: &out)
            out.append(contentsOf: ": ".utf8)
            appendSanitized(field.value, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        let code = response.status.code
        let bodyAllowed = code != 204 && code != 304 && !(100..<200).contains(code)
        if bodyAllowed {
            out.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "Date: ".utf8)
        out.append(contentsOf: date.utf8)
        out.append(contentsOf: "\r\n".utf8)
        if close {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if keepAliveHTTP10 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if bodyAllowed && method != .head {
            out.append(contentsOf: response.body)
        }
        return out
    }

    @inline(__always)
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(48 + value))
            return
        }
        var digits: [UInt8] = []
        var v = value
        while v > 0 {
            digits.append(UInt8(48 + v % 10))
            v /= 10
        }
        out.append(contentsOf: digits.reversed())
    }

    /// Header text with CR, LF and other controls replaced by spaces, so a handler cannot split the response.
    static func appendSanitized(_ s: String, to out: inout [UInt8]) {
        for b in s.utf8 { out.append(b < 0x20 && b != ASCII.tab ? ASCII.space : b) }
    }
}

/// IMF-fixdate strings (RFC 9110 §5.6.7), formatted once per second.
struct HTTPDate {
    private var cachedSecond: Int = -1
    private var cached: String = ""

    /// The date for the current wall-clock second.
    mutating func now() -> String {
        var tv = timespec()
        clock_gettime(CLOCK_REALTIME, &tv)
        let second = Int(tv.tv_sec)
        if second != cachedSecond {
            cachedSecond = second
            cached = Self.format(secondsSince1970: second)
        }
        return cached
    }

    static func format(secondsSince1970: Int) -> String {
        var t = time_t(secondsSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
