import Foundation
import HTTP
import Logging
import Telemetry

/// The HTTP face of the service: routes, request IDs, access log and request metrics. It exists before the
/// model is loaded so that `/healthz` and `/readyz` answer during start-up; `attach` hands it the pipeline.
public final class ServiceRoutes: @unchecked Sendable {
    private let lock = NSLock()
    private var service: ClassificationService?
    private var draining = false
    private let metrics: ServiceMetrics
    private let accessLog: Logger
    /// OpenTelemetry tracing, when configured: every routed request gets a server span and a `traceparent` reply.
    private let tracing: Tracing?

    public init(metrics: ServiceMetrics, accessLog: Logger, tracing: Tracing? = nil) {
        self.metrics = metrics
        self.accessLog = accessLog
        self.tracing = tracing
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

    /// A handler that the in-flight gauge counts from the moment it is called until it responds, and, with tracing, a
    /// server span for `route` that continues the caller's trace and is named in the response's `traceparent`.
    private func instrumented(route: String, _ handler: @escaping HTTPHandler) -> HTTPHandler {
        { [metrics, tracing] request, respond in
            metrics.requestStarted()
            guard let tracing else {
                return handler(request) { response in
                    metrics.requestFinished()
                    respond(response)
                }
            }
            let trace = RequestTrace(request, route: route, tracing: tracing)
            var request = request
            request.attachment = trace
            handler(request) { response in
                var response = response
                response.headers.replaceOrAdd(name: "traceparent", value: trace.context.traceparent)
                if let state = trace.context.traceState { response.headers.replaceOrAdd(name: "tracestate", value: state) }
                trace.finish(response)
                metrics.requestFinished()
                respond(response)
            }
        }
    }

    /// Why the pipeline cannot take work now (loading, or draining), or nil when it is ready.
    func unavailability() -> ServiceError? {
        let (service, draining) = current
        if draining { return .draining }
        guard let service, service.isReady else { return .notReady }
        return nil
    }

    /// The pipeline once attached (it may not be ready yet).
    var pipeline: ClassificationService? { current.service }

    /// Registers a route whose handler the in-flight gauge counts (and tracing traces).
    func register(
        _ router: inout Router, _ method: HTTPMethod, _ path: String, readsBody: Bool = true,
        headCheck: (@Sendable (HTTPRequestHead) -> HTTPResponse?)? = nil, _ handler: @escaping HTTPHandler
    ) {
        router.add(method, path, readsBody: readsBody, headCheck: headCheck, instrumented(route: path, handler))
    }

    /// All routes: the service's own (/, /healthz, /readyz, /v1/model, /metrics, /openapi.json), then one file per
    /// API: `/classify` (ClassifyRoutes), Open Inference Protocol v2 (OpenInferenceRoutes) with Triton's configuration
    /// and statistics extensions (TritonExtensionRoutes), KServe v1 (KServeV1Routes).
    public func makeRouter() -> Router {
        var router = Router()
        register(&router, .get, "/", readsBody: false) { request, respond in
            respond(Self.withRequestID(WebPage.response(accept: request.headers["Accept"]), request))
        }
        register(&router, .get, "/healthz", readsBody: false) { request, respond in
            respond(Self.withRequestID(JSONBody.response(["status": "ok"]), request))
        }
        register(&router, .get, "/readyz", readsBody: false) { [self] request, respond in
            if let reason = unavailability() { return respond(Self.withRequestID(ErrorResponses.response(for: reason), request)) }
            respond(Self.withRequestID(JSONBody.response(["status": "ready"]), request))
        }
        register(&router, .get, "/v1/model", readsBody: false) { [self] request, respond in
            guard let service = current.service else {
                return respond(Self.withRequestID(ErrorResponses.response(for: ServiceError.notReady), request))
            }
            respond(Self.withRequestID(JSONBody.response(service.modelDescription()), request))
        }
        register(&router, .get, "/metrics", readsBody: false) { [self] request, respond in
            var response = HTTPResponse(status: .ok, body: metrics.render())
            response.headers.replaceOrAdd(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            respond(Self.withRequestID(response, request))
        }
        register(&router, .get, "/openapi.json", readsBody: false) { [self] request, respond in
            guard let service = pipeline else {
                return respond(Self.withRequestID(ErrorResponses.response(for: ServiceError.notReady), request))
            }
            var response = HTTPResponse.json(
                bytes: Array(
                    OpenAPIDocument.json(
                        modelName: service.modelName, classes: service.classCount, maxImages: service.configuration.maxImagesPerRequest
                    ).utf8))
            response.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache")
            respond(Self.withRequestID(response, request))
        }
        addClassifyRoutes(to: &router)
        addOpenInferenceRoutes(to: &router)
        addTritonExtensionRoutes(to: &router)
        addKServeV1Routes(to: &router)
        return router
    }

    /// Answers `request` with `error` in the Open Inference Protocol's / KServe v1's shape, `{"error":"…"}`.
    static func respondInProtocolShape(
        _ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void, _ error: Error
    ) {
        respond(withRequestID(ErrorResponses.response(for: error, surface: .inferenceProtocol), request))
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

    /// The API a path (or route pattern) belongs to, the `protocol` label of its request: `v2` (Open Inference
    /// Protocol), `v1` (KServe v1), or `classify` (the service's own API and endpoints). Compared as UTF-8 bytes: a
    /// path segment starting with a combining mark must not hide the `/` before it.
    static func apiProtocol(path: String) -> String {
        func within(_ prefix: String) -> Bool {
            path.utf8.elementsEqual(prefix.utf8) || path.utf8.starts(with: (prefix + "/").utf8)
        }
        if within("/v2") { return "v2" }
        if within("/v1/models") { return "v1" }
        return "classify"
    }

    /// The probes load balancers and kubelets send without credentials: open even with `--auth-tokens-file`.
    public static let probePaths: Set<String> = ["/healthz", "/readyz"]

    /// The HTTP server's per-response hook: one JSON access-log line and the request metrics.
    public func record(_ log: ResponseLog) {
        if let failure = log.errorCode.flatMap(HTTPServerError.Code.init(rawValue:))?.authenticationFailure {
            metrics.recordAuthenticationFailure(failure)
        }
        let route = log.route ?? (log.status == 404 ? "unmatched" : "invalid")
        metrics.recordRequest(
            route: route, protocol: Self.apiProtocol(path: log.route ?? log.path ?? ""), status: log.status, duration: log.duration)
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
        if let version = log.tlsVersion { metadata["tls"] = .string(version) }
        if let subject = log.clientCertificateSubject { metadata["client_subject"] = .string(subject) }
        accessLog.info("request", metadata: metadata)
    }
}
