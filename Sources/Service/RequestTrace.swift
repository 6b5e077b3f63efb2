import Foundation
import HTTP
import Telemetry

/// How the service traces: the tracer, and what the server spans say about the listener.
public struct Tracing: Sendable {
    public let tracer: Tracer
    /// `url.scheme`: `http` or `https`.
    public let scheme: String
    /// The listening port (`server.port` when the request's Host names none).
    public let port: Int

    public init(tracer: Tracer, scheme: String, port: Int) {
        self.tracer = tracer
        self.scheme = scheme
        self.port = port
    }
}

/// One request's trace: its server span (named and attributed as OpenTelemetry's HTTP semantic conventions say) and,
/// for inference requests, one child span per stage of each image — decode, preprocess, queue, inference — with the
/// inference span linked to its engine batch's span. Recorded when the response is handed to the server.
final class RequestTrace: @unchecked Sendable {
    let tracer: Tracer
    /// The server span's position: what the response's `traceparent` names.
    let context: TraceContext
    private let parentSpanID: [UInt8]?
    private let name: String
    private let startNanos: UInt64
    private let startInstant: ContinuousClock.Instant
    private var attributes: [(String, Span.Value)]
    private let lock = NSLock()
    private var children: [Span] = []

    /// Starts the server span of `request` on `route` (the route template), continuing its caller's trace if any.
    init(_ request: HTTPRequest, route: String, tracing: Tracing) {
        tracer = tracing.tracer
        // More than one traceparent is invalid (a new trace starts); several tracestate fields are one list.
        let parents = request.headers.values(for: "traceparent")
        let states = request.headers.values(for: "tracestate")
        (context, parentSpanID) = tracer.serverContext(
            traceparent: parents.count == 1 ? parents[0] : nil, tracestate: states.isEmpty ? nil : states.joined(separator: ","))
        startInstant = .now
        startNanos = Tracer.unixNanosNow()
        let method = request.method.rawValue
        name = "\(method) \(route)"
        var attributes: [(String, Span.Value)] = [
            ("http.request.method", .string(method)), ("http.route", .string(route)), ("url.path", .string(request.path)),
            ("url.scheme", .string(tracing.scheme)),
            ("network.protocol.version", .string(request.version == .http1_0 ? "1.0" : "1.1")),
            ("http.request.body.size", .int(request.body.count)),
        ]
        let (host, port) = Self.hostAndPort(request.headers["Host"])
        if let host { attributes.append(("server.address", .string(host))) }
        attributes.append(("server.port", .int(port ?? tracing.port)))
        if let colon = request.remoteAddress.lastIndex(of: ":"), let clientPort = Int(request.remoteAddress[colon...].dropFirst()) {
            let address = request.remoteAddress[..<colon]
            attributes.append(("client.address", .string(String(address.trimmingPrefix("[").dropLast(address.hasSuffix("]") ? 1 : 0)))))
            attributes.append(("client.port", .int(clientPort)))
        }
        if let agent = request.headers["User-Agent"] { attributes.append(("user_agent.original", .string(String(agent.prefix(256))))) }
        self.attributes = attributes
    }

    /// The Unix-epoch nanoseconds of `instant` (the monotonic clock mapped through the span's start).
    func unixNanos(_ instant: ContinuousClock.Instant) -> UInt64 {
        let offset = startInstant.duration(to: instant)
        let nanos = Int64(offset.components.seconds) * 1_000_000_000 + offset.components.attoseconds / 1_000_000_000
        return nanos >= 0 ? startNanos + UInt64(nanos) : startNanos - min(startNanos, UInt64(-nanos))
    }

    /// A child span of the server span, from `start` to `end`.
    func addChild(
        _ name: String, from start: ContinuousClock.Instant, to end: ContinuousClock.Instant, attributes: [(String, Span.Value)] = [],
        links: [TraceContext] = []
    ) {
        guard context.sampled else { return }
        let span = Span(
            context: context.child(), parentSpanID: context.spanID, name: name, kind: .internal, startUnixNanos: unixNanos(start),
            endUnixNanos: unixNanos(end), attributes: attributes, links: links)
        lock.withLock { children.append(span) }
    }

    /// The stages of one image, as `ClassificationService.infer` saw them.
    func addImageSpans(_ stages: ImageStages, index: Int?, batch: BatchTrace) {
        let image: [(String, Span.Value)] = index.map { [("seresnet.image.index", .int($0))] } ?? []
        addChild("decode", from: stages.decodeStart, to: stages.preprocessStart, attributes: image)
        addChild("preprocess", from: stages.preprocessStart, to: stages.submitted, attributes: image)
        addChild("queue", from: stages.submitted, to: batch.start, attributes: image)
        addChild(
            "inference", from: batch.start, to: batch.end,
            attributes: image + [("seresnet.batch.size", .int(batch.size)), ("seresnet.engine", .int(batch.engine))],
            links: batch.context.map { [$0] } ?? [])
    }

    /// Ends the server span with the response and records it with its children.
    func finish(_ response: HTTPResponse) {
        guard context.sampled else { return }
        let status = response.status.code
        var attributes = self.attributes
        attributes.append(("http.response.status_code", .int(status)))
        attributes.append(("http.response.body.size", .int(response.body.count)))
        if status >= 500 { attributes.append(("error.type", .string(String(status)))) }
        let server = Span(
            context: context, parentSpanID: parentSpanID, name: name, kind: .server, startUnixNanos: startNanos,
            endUnixNanos: Tracer.unixNanosNow(), attributes: attributes, failed: status >= 500, remoteParent: parentSpanID != nil)
        let spans = lock.withLock { children + [server] }
        tracer.record(spans)
    }

    /// `Host: name[:port]` (or `[v6]:port`) split; nil parts when absent.
    static func hostAndPort(_ header: String?) -> (String?, Int?) {
        guard let header, !header.isEmpty else { return (nil, nil) }
        if header.hasPrefix("["), let close = header.firstIndex(of: "]") {
            let host = String(header[header.index(after: header.startIndex)..<close])
            let rest = header[header.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        if let colon = header.lastIndex(of: ":") { return (String(header[..<colon]), Int(header[colon...].dropFirst())) }
        return (header, nil)
    }
}

/// When an image went through decoding and preprocessing.
struct ImageStages: Sendable {
    let decodeStart: ContinuousClock.Instant
    let preprocessStart: ContinuousClock.Instant
    /// Preprocessing done: submitted to the batch queue.
    let submitted: ContinuousClock.Instant
}

/// The engine batch an image ran in, for its trace: its span (when any of its requests is traced), when it ran, its size.
struct BatchTrace: Sendable {
    var context: TraceContext?
    let start: ContinuousClock.Instant
    let end: ContinuousClock.Instant
    let size: Int
    let engine: Int
}

extension HTTPRequest {
    /// The request's trace, when tracing is on.
    var trace: RequestTrace? { attachment as? RequestTrace }
}
