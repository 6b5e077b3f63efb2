import Foundation
import HTTP
import Prometheus

/// The service's Prometheus metrics, kept in one registry and rendered in text format 0.0.4 by
/// swift-prometheus. Durations are histograms in seconds; counters end in `_total`.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let queueWait, decode, preprocess, inference: DurationHistogram
    private let batchSize: ValueHistogram
    private let inFlight, queueDepth, residentMemory, startTime: Gauge
    private let imagesClassified: Counter

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    public init(maxBatch: Int) {
        func descriptor(_ name: String, unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "seresnet", metricName: name, unitName: unit, helpText: help)
        }
        queueWait = registry.makeDurationHistogram(
            descriptor: descriptor(
                "queue_wait", unit: "seconds", "Time from admission until the request's batch starts, decoding included."),
            buckets: Self.latencyBuckets)
        decode = registry.makeDurationHistogram(
            descriptor: descriptor("decode", unit: "seconds", "JPEG decoding time per image."), buckets: Self.latencyBuckets)
        preprocess = registry.makeDurationHistogram(
            descriptor: descriptor("preprocess", unit: "seconds", "Resize, crop and normalize time per image."),
            buckets: Self.latencyBuckets)
        inference = registry.makeDurationHistogram(
            descriptor: descriptor("inference", unit: "seconds", "Engine time per batch."), buckets: Self.latencyBuckets)
        batchSize = registry.makeValueHistogram(
            descriptor: descriptor("batch", unit: "size", "Images per engine batch."),
            buckets: (1...max(1, maxBatch)).map(Double.init))
        inFlight = registry.makeGauge(descriptor: descriptor("requests_in_flight", unit: "", "HTTP requests being handled."))
        queueDepth = registry.makeGauge(
            descriptor: descriptor("queue_depth", unit: "", "Images admitted and not yet in a running batch (decoding or waiting)."))
        imagesClassified = registry.makeCounter(
            descriptor: descriptor("images_classified", unit: "total", "Images classified successfully."))
        residentMemory = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "process_resident_memory", unitName: "bytes", helpText: "Resident memory size in bytes."))
        startTime = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "process_start_time", unitName: "seconds",
                helpText: "Start time of the process since the Unix epoch in seconds."))
        startTime.set(Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime + Self.processStartUptime())
    }

    /// One finished HTTP request (any route, any status).
    /// `protocol` is the API: `classify`, `v2` (Open Inference Protocol) or `v1` (KServe v1).
    public func recordRequest(route: String, protocol api: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "seresnet", metricName: "http_requests", unitName: "total",
                helpText: "HTTP requests by route, API protocol and status code."),
            labels: [("route", route), ("protocol", api), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "seresnet", metricName: "http_request_duration", unitName: "seconds",
                helpText: "HTTP request duration by route and API protocol, from the first request byte to the response."),
            labels: [("route", route), ("protocol", api)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func recordDecode(_ duration: Duration, preprocess preprocessDuration: Duration) {
        decode.record(duration)
        preprocess.record(preprocessDuration)
    }

    func recordBatch(size: Int, duration: Duration, queueWaits: [Duration]) {
        batchSize.record(Double(size))
        inference.record(duration)
        for wait in queueWaits { queueWait.record(wait) }
        imagesClassified.increment(by: Int64(size))
    }

    func setQueueDepth(_ depth: Int) { queueDepth.set(Double(depth)) }

    /// A TLS certificate (re)load: `success` or `failure` (the old pair kept serving).
    public func recordTLSReload(success: Bool) { tlsReloads(success: success).increment() }

    /// Both `tls_reload_total` series at zero, so the first failure is an increase an alert can see.
    public func declareTLSReloads() {
        for success in [true, false] { tlsReloads(success: success).increment(by: Int64(0)) }
    }

    private func tlsReloads(success: Bool) -> Counter {
        reloads(
            "tls_reload", "TLS certificate reloads (SIGHUP or changed files) by result; on failure the previous pair keeps serving.",
            success: success)
    }

    /// A reload counter (`seresnet_<name>_total{result="success|failure"}`).
    private func reloads(_ name: String, _ help: String, success: Bool) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "seresnet", metricName: name, unitName: "total", helpText: help),
            labels: [("result", success ? "success" : "failure")])
    }

    /// With `--auth-tokens-file`: every failure and reload series at zero, so the first is an increase an alert sees, and
    /// the accepted tokens' count.
    public func declareAuthentication(tokens: Int) {
        for failure in BearerTokens.Failure.allCases { authenticationFailures(failure).increment(by: Int64(0)) }
        for success in [true, false] { authenticationReloads(success: success).increment(by: Int64(0)) }
        authenticationTokens().set(Double(tokens))
    }

    /// A request refused for want of an accepted bearer token, by reason (never the token itself).
    func recordAuthenticationFailure(_ failure: BearerTokens.Failure) { authenticationFailures(failure).increment() }

    /// A tokens file (re)load: on failure the previous tokens stay accepted.
    public func recordAuthenticationReload(success: Bool, tokens: Int) {
        authenticationReloads(success: success).increment()
        authenticationTokens().set(Double(tokens))
    }

    private func authenticationFailures(_ failure: BearerTokens.Failure) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "seresnet", metricName: "auth_failures", unitName: "total",
                helpText:
                    "Requests refused with 401 by reason: missing (no Authorization), malformed (not Bearer), invalid (unknown token)."),
            labels: [("reason", failure.rawValue)])
    }

    private func authenticationReloads(success: Bool) -> Counter {
        reloads(
            "auth_reload", "Tokens file reloads (SIGHUP or a changed file) by result; on failure the previous tokens stay accepted.",
            success: success)
    }

    private func authenticationTokens() -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "seresnet", metricName: "auth_tokens", unitName: "", helpText: "Bearer tokens accepted."))
    }

    /// When the served certificate expires.
    public func setTLSCertificateExpiry(_ date: Date) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "seresnet", metricName: "tls_certificate_expiry", unitName: "seconds",
                helpText: "Expiry of the served TLS certificate, in seconds since the Unix epoch.")
        ).set(date.timeIntervalSince1970)
    }
    /// What the engines run, as an info metric (value 1, the facts in labels): `--kernels`, the instruction set the
    /// kernels run with and the products' precision.
    public func setEngineInfo(kernels: String, instructionSet: String, precision: String) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "seresnet", metricName: "engine_info", unitName: "",
                helpText: "The engine's kernels, instruction set and products' precision (fp32 or bf16), in labels; always 1."),
            labels: [("kernels", kernels), ("instruction_set", instructionSet), ("precision", precision)]
        ).set(Double(1))
    }
    /// With tracing: every outcome series of `trace_spans_total` at zero, so the first drop is an increase an alert sees.
    public func declareTraceSpans() {
        for outcome in ["exported", "queue_full", "export_failed"] { traceSpans(outcome).increment(by: Int64(0)) }
    }

    /// Spans exported, or dropped: the export queue was full, or the collector failed or did not answer in time.
    public func recordTraceSpans(_ outcome: String, count: Int) { traceSpans(outcome).increment(by: Int64(count)) }

    private func traceSpans(_ outcome: String) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "seresnet", metricName: "trace_spans", unitName: "total",
                helpText:
                    "OpenTelemetry spans by outcome: exported, queue_full (dropped: the export queue was full) or export_failed (dropped: the collector refused or did not answer)."
            ),
            labels: [("outcome", outcome)])
    }

    public func requestStarted() { inFlight.increment() }
    public func requestFinished() { inFlight.decrement() }

    /// The exposition text, with process gauges refreshed first.
    public func render() -> [UInt8] {
        residentMemory.set(Double(Self.residentBytes()))
        return registry.emitToBuffer()
    }

    /// Resident set size from /proc/self/statm (pages × page size).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Seconds after boot at which this process started (field 22 of /proc/self/stat, in clock ticks).
    static func processStartUptime() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return ProcessInfo.processInfo.systemUptime }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)", fields start at #3 (state); start time is #22.
        guard fields.count > 19, let ticks = Double(fields[19]) else { return ProcessInfo.processInfo.systemUptime }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
