import Foundation
import HTTP
import Logging

/// The HTTP face of the service: routes, request IDs, access log and request metrics. It exists before the
/// model is loaded so that `/healthz` and `/readyz` answer during start-up; `attach` hands it the pipeline.
public final class ServiceRoutes: @unchecked Sendable {
    private let lock = NSLock()
    private var service: ClassificationService?
    private var draining = false
    private let metrics: ServiceMetrics
    private let accessLog: Logger

    public init(metrics: ServiceMetrics, accessLog: Logger) {
        self.metrics = metrics
        self.accessLog = accessLog
    }

    /// Makes the pipeline available; readiness follows the pipeline's own (warm-up done → ready).
    public func attach(_ service: ClassificationService) {
        lock.withLock { self.service = service }
    }

    /// SIGTERM: `/readyz` answers 503 from now on.
    public func beginDraining() {
        lock.withLock {
            draining = true
            service?.beginDraining()
        }
    }

    private var current: (service: ClassificationService?, draining: Bool) { lock.withLock { (service, draining) } }

    /// A handler that the in-flight gauge counts from the moment it is called until it responds.
    private func counted(_ handler: @escaping HTTPHandler) -> HTTPHandler {
        { [metrics] request, respond in
            metrics.requestStarted()
            handler(request) { response in
                metrics.requestFinished()
                respond(response)
            }
        }
    }

    /// All routes: /, /classify, /healthz, /readyz, /v1/model, /metrics.
    public func makeRouter() -> Router {
        var router = Router()
        func add(
            _ method: HTTPMethod, _ path: String, readsBody: Bool = true, headCheck: (@Sendable (HTTPRequestHead) -> HTTPResponse?)? = nil,
            _ handler: @escaping HTTPHandler
        ) {
            router.add(method, path, readsBody: readsBody, headCheck: headCheck, counted(handler))
        }
        // Refusals that need no body are answered from the head, so a client sending `Expect: 100-continue`
        // does not upload an image only to be told the service is loading or full.
        add(
            .post, "/classify",
            headCheck: { [self] head in
                guard let service = current.service else { return ErrorResponses.response(for: ServiceError.notReady) }
                if let refusal = service.refusalBeforeBody() { return ErrorResponses.response(for: refusal) }
                return nil
            }
        ) { [self] request, respond in classify(request, respond) }
        add(.get, "/", readsBody: false) { request, respond in
            respond(Self.withRequestID(WebPage.response(accept: request.headers["Accept"]), request))
        }
        add(.get, "/healthz", readsBody: false) { request, respond in
            respond(Self.withRequestID(.json(bytes: Array(#"{"status":"ok"}"#.utf8)), request))
        }
        add(.get, "/readyz", readsBody: false) { [self] request, respond in
            let (service, draining) = current
            if draining {
                respond(Self.withRequestID(ErrorResponses.response(for: ServiceError.draining), request))
            } else if let service, service.isReady {
                respond(Self.withRequestID(.json(bytes: Array(#"{"status":"ready"}"#.utf8)), request))
            } else {
                respond(Self.withRequestID(ErrorResponses.response(for: ServiceError.notReady), request))
            }
        }
        add(.get, "/v1/model", readsBody: false) { [self] request, respond in
            guard let service = current.service else {
                return respond(Self.withRequestID(ErrorResponses.response(for: ServiceError.notReady), request))
            }
            let data =
                (try? JSONSerialization.data(withJSONObject: service.modelDescription(), options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data()
            respond(Self.withRequestID(.json(bytes: Array(data)), request))
        }
        add(.get, "/metrics", readsBody: false) { [self] request, respond in
            var response = HTTPResponse(status: .ok, body: metrics.render())
            response.headers.replaceOrAdd(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            respond(Self.withRequestID(response, request))
        }
        return router
    }

    /// POST /classify: image from the raw body or the first multipart file part; `top_k` from the query.
    private func classify(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let service = current.service else {
            return respond(Self.withRequestID(ErrorResponses.response(for: ServiceError.notReady), request))
        }
        let topK: Int
        let image: [UInt8]
        do {
            topK = try Self.topK(request.query, classes: service.classCount)
            image = try Self.imageBytes(of: request)
        } catch {
            return respond(Self.withRequestID(ErrorResponses.response(for: error), request))
        }
        service.classify(image, topK: topK) { result in
            switch result {
            case .success(let classification):
                var response = HTTPResponse.json(bytes: classification.jsonBytes())
                response.headers.replaceOrAdd(name: "Server-Timing", value: classification.serverTiming)
                respond(Self.withRequestID(response, request))
            case .failure(let error):
                respond(Self.withRequestID(ErrorResponses.response(for: error), request))
            }
        }
    }

    /// `top_k`: absent → 5 (or the class count if smaller); otherwise digits only, 1…classes.
    static func topK(_ query: QueryParameters, classes: Int) throws -> Int {
        guard let text = query["top_k"] else { return min(5, classes) }
        guard !text.isEmpty, text.count <= 9, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text), value >= 1,
            value <= classes
        else {
            throw ServiceError.invalidTopK(value: String(text.prefix(32)), classes: classes)
        }
        return value
    }

    /// The image bytes: what the body is is decided by sniffing, not by the declared type. A body that
    /// starts like a JPEG is the image; a multipart/form-data body yields its first part carrying a file.
    static func imageBytes(of request: HTTPRequest) throws -> [UInt8] {
        let body = request.body
        guard !body.isEmpty else { throw ServiceError.emptyBody }
        let isJPEG = body.count >= 2 && body[0] == 0xFF && body[1] == 0xD8
        if !isJPEG, let contentType = request.headers["Content-Type"], MultipartFormData.isFormData(contentType: contentType) {
            let parts: [MultipartFormData.Part]
            do {
                parts = try MultipartFormData.parse(body: body, contentType: contentType)
            } catch let error as HTTPServerError {
                throw ServiceError.invalidMultipart(reason: error.message)
            }
            guard let file = parts.first(where: { $0.filename != nil }) else { throw ServiceError.noFileInMultipart }
            guard !file.body.isEmpty else { throw ServiceError.emptyBody }
            return file.body
        }
        return body
    }

    /// Echoes a sane client `X-Request-ID` (visible ASCII, ≤ 128 bytes) or adds a fresh one.
    static func withRequestID(_ response: HTTPResponse, _ request: HTTPRequest) -> HTTPResponse {
        var response = response
        response.headers.replaceOrAdd(name: "X-Request-ID", value: requestID(for: request))
        return response
    }

    static func requestID(for request: HTTPRequest) -> String {
        if let given = request.headers["X-Request-ID"], !given.isEmpty, given.utf8.count <= 128,
            given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return given
        }
        return UUID().uuidString.lowercased()
    }

    /// The HTTP server's per-response hook: one JSON access-log line and the request metrics.
    public func record(_ log: ResponseLog) {
        let route = log.route ?? (log.status == 404 ? "unmatched" : "invalid")
        metrics.recordRequest(route: route, status: log.status, duration: log.duration)
        var metadata: Logger.Metadata = [
            "method": .string(log.method ?? "-"),
            "path": .string(log.path ?? "-"),
            "status": .stringConvertible(log.status),
            "bytes_in": .stringConvertible(log.bytesIn),
            "bytes_out": .stringConvertible(log.bytesOut),
            "duration_ms": .stringConvertible(ClassificationService.milliseconds(log.duration)),
            "client": .string(log.remoteAddress),
        ]
        if let id = log.responseHeaders["X-Request-ID"] { metadata["request_id"] = .string(id) }
        if let timing = log.responseHeaders["Server-Timing"] { metadata["server_timing"] = .string(timing) }
        if let code = log.errorCode { metadata["error"] = .string(code) }
        accessLog.info("request", metadata: metadata)
    }
}
