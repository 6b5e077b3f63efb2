import Foundation

/// The service's OpenTelemetry tracing: who it is (the resource), which traces it records (the sampler), and where
/// recorded spans go (the exporter). Requests continue their caller's trace (W3C `traceparent`) or start one.
public final class Tracer: Sendable {
    public let serviceName: String
    public let sampler: Sampler
    public let exporter: SpanExporter
    let resource: [(String, Span.Value)]
    let scopeVersion: String

    /// `resourceAttributes` (`OTEL_RESOURCE_ATTRIBUTES`) come after `service.name` and the SDK's own attributes.
    public init(
        serviceName: String, serviceVersion: String, sampler: Sampler, export: ExportConfiguration,
        resourceAttributes: [(String, String)] = [], report: @escaping @Sendable (SpanExporter.Outcome, Int) -> Void
    ) {
        self.serviceName = serviceName
        self.sampler = sampler
        scopeVersion = serviceVersion
        var resource: [(String, Span.Value)] = [
            ("service.name", .string(serviceName)), ("service.version", .string(serviceVersion)),
            ("telemetry.sdk.name", .string("seresnet")), ("telemetry.sdk.language", .string("swift")),
            ("telemetry.sdk.version", .string(serviceVersion)),
        ]
        for (key, value) in resourceAttributes where key != "service.name" { resource.append((key, .string(value))) }
        let encoded = resource
        self.resource = encoded
        exporter = SpanExporter(
            configuration: export,
            encode: { spans in
                OTLPProtobuf.exportRequest(spans: spans, resource: encoded, scopeName: "seresnet", scopeVersion: serviceVersion)
            }, report: report)
    }

    /// The context of a server span for a request carrying `traceparent`/`tracestate` (possibly absent or invalid):
    /// a new span in the caller's trace, or the root of a new trace; sampled as the sampler decides. Also returns the
    /// caller's span, the server span's parent.
    public func serverContext(traceparent: String?, tracestate: String?) -> (context: TraceContext, parentSpanID: [UInt8]?) {
        if let parent = TraceContext(traceparent: traceparent, tracestate: tracestate) {
            let sampled = sampler.shouldSample(traceID: parent.traceID, parentSampled: parent.sampled)
            return (
                TraceContext(traceID: parent.traceID, spanID: TraceContext.randomSpanID(), sampled: sampled, traceState: parent.traceState),
                parent.spanID
            )
        }
        let traceID = TraceContext.randomTraceID()
        return (
            TraceContext(
                traceID: traceID, spanID: TraceContext.randomSpanID(), sampled: sampler.shouldSample(traceID: traceID, parentSampled: nil)),
            nil
        )
    }

    /// Exports the sampled ones of `spans`.
    public func record(_ spans: [Span]) {
        exporter.enqueue(spans.filter(\.context.sampled))
    }

    /// Nanoseconds since the Unix epoch now (the spans' clock).
    public static func unixNanosNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
