/// A finished span as OTLP carries it (opentelemetry-proto `trace/v1/trace.proto`).
public struct Span: Sendable {
    /// `SpanKind`: what the span stands for.
    public enum Kind: UInt64, Sendable {
        case `internal` = 1
        case server = 2
    }

    /// An attribute value (`AnyValue`'s scalar cases).
    public enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case int(Int)
        case double(Double)
    }

    public var context: TraceContext
    /// The parent span in the same trace, or nil for a root span.
    public var parentSpanID: [UInt8]?
    public var name: String
    public var kind: Kind
    public var startUnixNanos: UInt64
    public var endUnixNanos: UInt64
    public var attributes: [(String, Value)]
    /// Spans in other traces (or this one) this one is related to: a request's inference and its batch.
    public var links: [TraceContext]
    /// `Status.code` ERROR (a server span with a 5xx, as HTTP's semantic conventions say); otherwise unset.
    public var failed: Bool
    /// Whether the parent span is another process's (a caller's `traceparent`).
    public var remoteParent: Bool

    public init(
        context: TraceContext, parentSpanID: [UInt8]?, name: String, kind: Kind, startUnixNanos: UInt64, endUnixNanos: UInt64,
        attributes: [(String, Value)] = [], links: [TraceContext] = [], failed: Bool = false, remoteParent: Bool = false
    ) {
        self.context = context
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startUnixNanos = startUnixNanos
        self.endUnixNanos = max(startUnixNanos, endUnixNanos)
        self.attributes = attributes
        self.links = links
        self.failed = failed
        self.remoteParent = remoteParent
    }
}

/// OTLP's `ExportTraceServiceRequest` in protobuf's wire format (https://protobuf.dev/programming-guides/encoding/),
/// written field by field for the messages and fields the service emits.
public enum OTLPProtobuf {
    /// One `ResourceSpans` with the resource's attributes and one `ScopeSpans` holding `spans`.
    public static func exportRequest(
        spans: [Span], resource: [(String, Span.Value)], scopeName: String, scopeVersion: String
    ) -> [UInt8] {
        var scope = Writer()
        scope.string(1, scopeName)
        scope.string(2, scopeVersion)
        var scopeSpans = Writer()
        scopeSpans.message(1, scope)
        for span in spans { scopeSpans.message(2, encode(span)) }
        var resourceMessage = Writer()
        for (key, value) in resource { resourceMessage.message(1, keyValue(key, value)) }
        var resourceSpans = Writer()
        resourceSpans.message(1, resourceMessage)
        resourceSpans.message(2, scopeSpans)
        var request = Writer()
        request.message(1, resourceSpans)
        return request.output
    }

    static func encode(_ span: Span) -> Writer {
        var out = Writer()
        out.bytes(1, span.context.traceID)
        out.bytes(2, span.context.spanID)
        if let state = span.context.traceState { out.string(3, state) }
        if let parent = span.parentSpanID { out.bytes(4, parent) }
        out.string(5, span.name)
        out.varint(6, span.kind.rawValue)
        out.fixed64(7, span.startUnixNanos)
        out.fixed64(8, span.endUnixNanos)
        for (key, value) in span.attributes { out.message(9, keyValue(key, value)) }
        for link in span.links {
            var message = Writer()
            message.bytes(1, link.traceID)
            message.bytes(2, link.spanID)
            if let state = link.traceState { message.string(3, state) }
            out.message(13, message)
        }
        if span.failed {
            var status = Writer()
            status.varint(3, 2)  // STATUS_CODE_ERROR
            out.message(15, status)
        }
        // Span.flags: the W3C trace flags (bit 0: sampled); bit 8: whether the parent is remote is known; bit 9: it is.
        out.fixed32(16, (span.context.sampled ? 1 : 0) | 0x100 | (span.remoteParent ? 0x200 : 0))
        return out
    }

    static func keyValue(_ key: String, _ value: Span.Value) -> Writer {
        var any = Writer()
        switch value {
        case .string(let text): any.string(1, text)
        case .bool(let flag): any.varint(2, flag ? 1 : 0)
        case .int(let number): any.varint(3, UInt64(bitPattern: Int64(number)))
        case .double(let number): any.fixed64(4, number.bitPattern)
        }
        var pair = Writer()
        pair.string(1, key)
        pair.message(2, any)
        return pair
    }

    /// Appends protobuf fields: tags and varints (LEB128), little-endian fixed widths, length-delimited bytes.
    struct Writer {
        var output: [UInt8] = []

        private mutating func raw(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                output.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            output.append(UInt8(v))
        }

        private mutating func tag(_ field: Int, _ wireType: UInt64) { raw(UInt64(field) << 3 | wireType) }

        mutating func varint(_ field: Int, _ value: UInt64) {
            tag(field, 0)
            raw(value)
        }

        mutating func fixed64(_ field: Int, _ value: UInt64) {
            tag(field, 1)
            for shift in stride(from: 0, to: 64, by: 8) { output.append(UInt8((value >> UInt64(shift)) & 0xFF)) }
        }

        mutating func fixed32(_ field: Int, _ value: UInt32) {
            tag(field, 5)
            for shift in stride(from: 0, to: 32, by: 8) { output.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
        }

        mutating func bytes(_ field: Int, _ value: [UInt8]) {
            tag(field, 2)
            raw(UInt64(value.count))
            output += value
        }

        mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

        mutating func message(_ field: Int, _ value: Writer) { bytes(field, value.output) }
    }
}
