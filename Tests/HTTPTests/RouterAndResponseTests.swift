import Foundation
import Testing

@testable import HTTP

@Test func routerMatchesExactPathsAndReportsAllowedMethods() {
    var router = Router()
    router.add(.post, "/classify") { _, respond in respond(HTTPResponse()) }
    router.add(.get, "/healthz") { _, respond in respond(HTTPResponse()) }
    guard case .found(let route) = router.match(method: .post, path: "/classify") else {
        Issue.record("no route")
        return
    }
    #expect(route.path == "/classify" && route.readsBody)
    guard case .found(let head) = router.match(method: .head, path: "/healthz") else {
        Issue.record("HEAD falls back to GET")
        return
    }
    #expect(head.method == .get)
    guard case .methodNotAllowed(let allowed) = router.match(method: .get, path: "/classify") else {
        Issue.record("405")
        return
    }
    #expect(allowed == [.post])
    guard case .methodNotAllowed(let allowedGet) = router.match(method: .delete, path: "/healthz") else {
        Issue.record("405")
        return
    }
    #expect(allowedGet == [.get, .head])
    guard case .notFound = router.match(method: .get, path: "/classify/") else {
        Issue.record("404")
        return
    }
}

@Test func patternRoutesBindParametersAndExactPathsWin() throws {
    var router = Router()
    let seen = Locked<[String: String]>([:])
    func echo(_ name: String) -> HTTPHandler {
        { request, respond in
            seen.value = request.pathParameters
            respond(.text(name))
        }
    }
    router.add(.get, "/v2/models", echo("list"))
    router.add(.get, "/v2/models/{model}", echo("metadata"))
    router.add(.post, "/v2/models/{model}/versions/{version}/infer", echo("infer"))
    router.add(.get, "/v1/models/{model}", echo("ready"))
    router.add(.post, "/v1/models/{model}:predict", echo("predict"))

    func call(_ method: HTTPMethod, _ target: String) throws -> (String, [String: String]) {
        let done = Locked<String?>(nil)
        router.respond(to: try HTTPRequest(method: method, target: target)) { done.value = String(decoding: $0.body, as: UTF8.self) }
        return (done.value ?? "", seen.value)
    }
    #expect(try call(.get, "/v2/models").0 == "list")
    #expect(try call(.get, "/v2/models/resnet%2050") == ("metadata", ["model": "resnet 50"]))
    #expect(try call(.post, "/v2/models/m/versions/3/infer") == ("infer", ["model": "m", "version": "3"]))
    #expect(try call(.post, "/v1/models/m:predict") == ("predict", ["model": "m"]))
    #expect(try call(.get, "/v1/models/:predict") == ("ready", ["model": ":predict"]))
    // Segments are split on the `/` byte: one starting with a combining mark or an emoji modifier (which Swift would
    // merge with the `/` into one Character) is still a segment (found by Schemathesis).
    #expect(try call(.get, "/v2/models/%CC%81x") == ("metadata", ["model": "\u{301}x"]))
    #expect(try call(.get, "/v1/models/%F0%9F%8F%BB") == ("ready", ["model": "\u{1F3FB}"]))
    // A parameter never matches an empty segment, and a suffix needs a name before it.
    guard case .notFound = router.match(method: .get, path: "/v2/models/") else {
        Issue.record("empty segment")
        return
    }
    guard case .methodNotAllowed(let onlyGet) = router.match(method: .post, path: "/v1/models/:predict"), onlyGet == [.get, .head] else {
        Issue.record("bare suffix: not the predict route")
        return
    }
    // The most specific pattern answers alone: GET on a predict path is 405 with `Allow: POST`, not model "m:predict".
    guard case .methodNotAllowed(let allowed) = router.match(method: .get, path: "/v1/models/m:predict") else {
        Issue.record("405")
        return
    }
    #expect(allowed == [.post])
    // The route label stays the pattern, never the client's value.
    guard case .found(let route) = router.match(method: .get, path: "/v2/models/anything") else {
        Issue.record("pattern")
        return
    }
    #expect(route.path == "/v2/models/{model}")
}

/// A value shared with a `@Sendable` closure in tests.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

@Test func headersAreCaseInsensitiveAndOrdered() {
    var headers: HTTPHeaders = ["Content-Type": "a", "X-Multi": "1"]
    headers.add(name: "x-multi", value: "2")
    #expect(headers["content-type"] == "a")
    #expect(headers.values(for: "X-MULTI") == ["1", "2"])
    headers.replaceOrAdd(name: "X-Multi", value: "3")
    #expect(headers.values(for: "x-multi") == ["3"])
    headers.remove(name: "CONTENT-TYPE")
    #expect(!headers.contains("Content-Type"))
    #expect(!HTTPHeaders.namesEqual("Host", "Hos"))
    #expect(HTTPHeaders([("Connection", "keep-alive, Close")]).containsToken("close", in: "connection"))
}

@Test func serializerOwnsFramingHeadersAndSanitizesValues() {
    var response = HTTPResponse.text("body")
    response.headers.add(name: "Content-Length", value: "999")
    response.headers.add(name: "Connection", value: "keep-alive")
    response.headers.add(name: "X-Injected", value: "a\r\nSet-Cookie: evil")
    let text = String(
        decoding: ResponseSerializer.serialize(response, method: .get, close: true, keepAliveHTTP10: false, date: "D"), as: UTF8.self)
    #expect(
        text
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Injected: a  Set-Cookie: evil\r\nContent-Length: 4\r\nDate: D\r\nConnection: close\r\n\r\nbody"
    )
    let noContent = String(
        decoding: ResponseSerializer.serialize(
            HTTPResponse(status: .noContent, body: Array("x".utf8)), method: .get, close: false, keepAliveHTTP10: false, date: "D"),
        as: UTF8.self)
    #expect(noContent == "HTTP/1.1 204 No Content\r\nDate: D\r\n\r\n")
}

@Test func defaultErrorRenderingIsJSONWithCodeAndMessage() throws {
    let error = HTTPServerError.methodNotAllowed(method: .get, path: "/classify", allowed: [.post])
    let response = HTTPResponse.defaultError(error)
    #expect(response.status == .methodNotAllowed)
    #expect(response.headers["Allow"] == "POST")
    #expect(response.headers["Content-Type"] == "application/json")
    let text = String(decoding: response.body, as: UTF8.self)
    #expect(
        text == "{\"error\":{\"status\":405,\"code\":\"method_not_allowed\",\"message\":\"GET is not allowed on /classify; use POST.\"}}")
    #expect(HTTPResponse.jsonStringLiteral("a\"b\\c\n\u{1}") == "\"a\\\"b\\\\c\\n\\u0001\"")
}

@Test func everyErrorCodeIsSnakeCaseWithAClientStatusOr503() {
    for code in HTTPServerError.Code.allCases {
        #expect(code.rawValue.allSatisfy { $0.isLowercase || $0 == "_" }, "\(code)")
        let status = code.status.code
        // 503 only for refusals that pass (too many connections or uploads), with Retry-After.
        #expect((400..<500).contains(status) || (status == 503 && code.retryAfterSeconds != nil), "\(code)")
    }
}

@Test func httpDateIsIMFFixdate() {
    #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
}

@Test func jsonHelperEncodesSortedKeys() throws {
    struct Payload: Encodable {
        let b: Int
        let a: String
    }
    let response = try HTTPResponse.json(Payload(b: 1, a: "x/y"))
    #expect(String(decoding: response.body, as: UTF8.self) == "{\"a\":\"x/y\",\"b\":1}")
}

@Test func requestsCanBeBuiltForInProcessHandlerCalls() throws {
    let request = try HTTPRequest(
        method: .post, target: "/classify?top_k=3&x=a%2Fb", headers: ["Content-Type": "image/jpeg"], body: [1, 2, 3])
    #expect(request.path == "/classify")
    #expect(request.query["top_k"] == "3" && request.query["x"] == "a/b")
    #expect(request.headers["content-type"] == "image/jpeg")
    #expect(request.head.framing == .contentLength(3))
    #expect(throws: HTTPServerError.self) { try HTTPRequest(method: .get, target: "/bad%zz") }
}
