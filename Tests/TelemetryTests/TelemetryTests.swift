import Foundation
import Testing

@testable import Telemetry

@Suite struct TraceContextTests {
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let span = "00f067aa0ba902b7"

    @Test func parsesAndFormatsVersion00() throws {
        let context = try #require(TraceContext(traceparent: "00-\(Self.trace)-\(Self.span)-01", tracestate: "a=1,b=2"))
        #expect(context.traceIDHex == Self.trace && context.spanIDHex == Self.span && context.sampled)
        #expect(context.traceState == "a=1,b=2")
        #expect(context.traceparent == "00-\(Self.trace)-\(Self.span)-01")
        // Flags other than sampled are ignored; 00 is not sampled.
        #expect(TraceContext(traceparent: "00-\(Self.trace)-\(Self.span)-02", tracestate: nil)?.sampled == false)
        let child = context.child()
        #expect(child.traceID == context.traceID && child.spanID != context.spanID && child.sampled)
    }

    @Test(arguments: [
        "", "00-\(trace)-\(span)", "00-\(trace)-\(span)-01-", "00-\(trace.uppercased())-\(span)-01",
        "00-00000000000000000000000000000000-\(span)-01", "00-\(trace)-0000000000000000-01", "ff-\(trace)-\(span)-01",
        "0x-\(trace)-\(span)-01", "00_\(trace)-\(span)-01", "00-\(trace)-\(span)-0g", "00-\(trace)-\(span)-01 extra",
    ])
    func refusesWhatTheSpecificationCallsInvalid(header: String) {
        #expect(TraceContext(traceparent: header, tracestate: nil) == nil)
    }

    @Test func acceptsLaterVersionsWithMoreFields() {
        #expect(TraceContext(traceparent: "01-\(Self.trace)-\(Self.span)-01-future", tracestate: nil)?.sampled == true)
        #expect(TraceContext(traceparent: "01-\(Self.trace)-\(Self.span)-01", tracestate: nil) != nil)
    }

    @Test func dropsAnInvalidTraceState() {
        let header = "00-\(Self.trace)-\(Self.span)-01"
        #expect(TraceContext(traceparent: header, tracestate: String(repeating: "a=1,", count: 40))?.traceState == nil)
        #expect(TraceContext(traceparent: header, tracestate: "novalue")?.traceState == nil)
        #expect(TraceContext(traceparent: header, tracestate: "k=v\u{7}")?.traceState == nil)
        #expect(TraceContext(traceparent: header, tracestate: "")?.traceState == nil)
        // The member grammar (W3C §3.3.1): lowercase keys, tenant@system, printable values without , or =; spaces around
        // members are list whitespace.
        for bad in ["FOO=1", "fo o=1", "a=1,a=2", "a=b=c", "a=1\t2", "@sys=1", "t@Sys=1", "t@=1", "a="] {
            #expect(TraceContext(traceparent: header, tracestate: bad)?.traceState == nil, "\(bad)")
        }
        for good in ["a=1", "vendor=abc,other=1", "t0@sys=x y", "a=1,,b=2", " a=1 , b=2", "a=1,\tb=2", "a_b-c*d/e=~!"] {
            #expect(TraceContext(traceparent: header, tracestate: good)?.traceState == good, "\(good)")
        }
        let distinct = (0..<33).map { "k\($0)=v" }
        #expect(TraceContext(traceparent: header, tracestate: distinct.prefix(32).joined(separator: ","))?.traceState != nil)
        #expect(TraceContext(traceparent: header, tracestate: distinct.joined(separator: ","))?.traceState == nil)
    }
}

@Suite struct SamplerTests {
    @Test func namesAndArguments() throws {
        #expect(try Sampler(name: "parentbased_always_on", argument: nil) == .default)
        #expect(try Sampler(name: "traceidratio", argument: " 0.25 ") == Sampler(root: .traceIDRatio(0.25), parentBased: false))
        #expect(try Sampler(name: "parentbased_traceidratio", argument: nil) == Sampler(root: .traceIDRatio(1), parentBased: true))
        #expect(throws: TelemetryError.self) { try Sampler(name: "jaeger_remote", argument: nil) }
        #expect(throws: TelemetryError.self) { try Sampler(name: "traceidratio", argument: "1.5") }
        #expect(throws: TelemetryError.self) { try Sampler(name: "traceidratio", argument: "x") }
    }

    @Test func ratioDecidesFromTheTraceIDsLastEightBytes() {
        let half = Sampler(root: .traceIDRatio(0.5), parentBased: false)
        let low = [UInt8](repeating: 0, count: 8) + [0x7F] + [UInt8](repeating: 0xFF, count: 7)
        let high = [UInt8](repeating: 0, count: 8) + [0x80] + [UInt8](repeating: 0, count: 7)
        #expect(half.shouldSample(traceID: low, parentSampled: nil))
        #expect(!half.shouldSample(traceID: high, parentSampled: nil))
        // Not parent-based: the caller's flag does not matter. Parent-based: it decides.
        #expect(!half.shouldSample(traceID: high, parentSampled: true))
        #expect(!Sampler(root: .alwaysOn, parentBased: true).shouldSample(traceID: low, parentSampled: false))
        #expect(Sampler(root: .alwaysOff, parentBased: true).shouldSample(traceID: low, parentSampled: true))
        #expect(!Sampler(root: .alwaysOff, parentBased: true).shouldSample(traceID: low, parentSampled: nil))
        // Trace IDs spread evenly over the last 8 bytes: a quarter of them for ratio 0.25.
        let quarter = Sampler(root: .traceIDRatio(0.25), parentBased: false)
        let ids = (0..<1024).map { i in
            let value = UInt64(i) << 54
            return [UInt8](repeating: 1, count: 8) + (0..<8).map { UInt8((value >> UInt64(56 - 8 * $0)) & 0xFF) }
        }
        #expect(ids.filter { quarter.shouldSample(traceID: $0, parentSampled: nil) }.count == 256)
        #expect(ids.allSatisfy { Sampler(root: .traceIDRatio(1), parentBased: false).shouldSample(traceID: $0, parentSampled: nil) })
        #expect(!ids.contains { Sampler(root: .traceIDRatio(0), parentBased: false).shouldSample(traceID: $0, parentSampled: nil) })
    }
}

@Suite struct OTLPProtobufTests {
    @Test func fieldsAreWrittenAsTheWireFormatSays() {
        var writer = OTLPProtobuf.Writer()
        writer.varint(1, 150)  // protobuf's own example: 08 96 01
        writer.string(2, "testing")  // 12 07 74 65 73 74 69 6e 67
        writer.fixed64(7, 1)
        writer.fixed32(16, 0x101)
        #expect(
            writer.output == [0x08, 0x96, 0x01, 0x12, 0x07] + Array("testing".utf8) + [0x39, 1, 0, 0, 0, 0, 0, 0, 0]
                + [0x85, 0x01, 0x01, 0x01, 0, 0])
    }

    @Test func negativeIntegersAreTenByteVarints() {
        let pair = OTLPProtobuf.keyValue("k", .int(-1))
        // KeyValue{1: "k", 2: AnyValue{3: -1}}: the varint of -1 as int64 takes 10 bytes.
        #expect(pair.output == [0x0A, 0x01, 0x6B, 0x12, 0x0B, 0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }
}

@Suite struct SpanExporterTests {
    /// An endpoint nothing listens on: every export fails at once; a full queue drops; nothing blocks the caller.
    @Test func dropsAndCountsWithoutBlocking() throws {
        final class Counts: @unchecked Sendable {
            let lock = NSLock()
            var byOutcome: [SpanExporter.Outcome: Int] = [:]
            func add(_ outcome: SpanExporter.Outcome, _ count: Int) { lock.withLock { byOutcome[outcome, default: 0] += count } }
        }
        let counts = Counts()
        var configuration = ExportConfiguration(endpoint: URL(string: "http://127.0.0.1:1/v1/traces")!)
        configuration.maxQueueSize = 4
        configuration.maxExportBatchSize = 4
        configuration.scheduleDelay = .seconds(60)
        configuration.timeout = .milliseconds(500)
        let exporter = SpanExporter(configuration: configuration, encode: { _ in [] }, report: counts.add)
        let context = TraceContext(traceID: TraceContext.randomTraceID(), spanID: TraceContext.randomSpanID(), sampled: true)
        let span = Span(context: context, parentSpanID: nil, name: "s", kind: .internal, startUnixNanos: 1, endUnixNanos: 2)
        exporter.enqueue([Span](repeating: span, count: 10))
        exporter.shutdown(timeout: .seconds(10))
        #expect(counts.byOutcome[.queueFull] == 6)
        #expect(counts.byOutcome[.exportFailed] == 4)
        #expect(counts.byOutcome[.exported] == nil)
    }
}
