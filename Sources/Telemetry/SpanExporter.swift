import Foundation
import HTTP

/// Where and how spans are exported: OTLP/HTTP with protobuf bodies (`OTEL_EXPORTER_OTLP_*`), batched as the
/// specification's batch span processor does (`OTEL_BSP_*`).
public struct ExportConfiguration: Sendable {
    /// The traces URL, used as is (`…/v1/traces`).
    public var endpoint: URL
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. a collector's API key.
    public var headers: [(String, String)] = []
    /// How long one export may take.
    public var timeout: Duration = .seconds(10)
    /// Spans waiting for export at most; more are dropped (and counted), never waited for.
    public var maxQueueSize = 2048
    /// Spans per export at most.
    public var maxExportBatchSize = 512
    /// How long a span may wait for its batch to fill.
    public var scheduleDelay: Duration = .seconds(5)
    /// The CA bundle for an https endpoint (nil: the system's).
    public var caFile: String?

    public init(endpoint: URL) { self.endpoint = endpoint }
}

/// Exports spans off the request path: `enqueue` only appends to a bounded queue (or drops when it is full); one
/// thread sends batches. A slow or dead collector therefore costs a request nothing: its spans wait, then drop.
public final class SpanExporter: @unchecked Sendable {
    /// What became of spans: `exported`, or dropped because the queue was full or the export failed.
    public enum Outcome: String, Sendable, CaseIterable {
        case exported
        case queueFull = "queue_full"
        case exportFailed = "export_failed"
    }

    public let configuration: ExportConfiguration
    private let encode: @Sendable ([Span]) -> [UInt8]
    private let report: @Sendable (Outcome, Int) -> Void
    private let condition = NSCondition()
    private var queue: [Span] = []
    private var stopping = false
    private var flushRequested = false
    private var exporting = false
    private var thread: Thread?

    /// `encode` turns a batch into the request body; `report` hears what became of every span (from any thread).
    public init(
        configuration: ExportConfiguration, encode: @escaping @Sendable ([Span]) -> [UInt8],
        report: @escaping @Sendable (Outcome, Int) -> Void
    ) {
        self.configuration = configuration
        self.encode = encode
        self.report = report
        let thread = Thread { [self] in run() }
        thread.name = "otlp-export"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues `spans` for export, dropping what does not fit.
    public func enqueue(_ spans: [Span]) {
        guard !spans.isEmpty else { return }
        condition.lock()
        let room = stopping ? 0 : max(0, configuration.maxQueueSize - queue.count)
        let taken = min(room, spans.count)
        let wasEmpty = queue.isEmpty
        queue += spans.prefix(taken)
        // The thread starts a batch's delay when the first span arrives, and sends early once a batch is full.
        if (wasEmpty && taken > 0) || queue.count >= configuration.maxExportBatchSize { condition.broadcast() }
        condition.unlock()
        if taken < spans.count { report(.queueFull, spans.count - taken) }
    }

    /// Sends what is queued and waits until it is sent or `timeout` passes (SIGTERM: before the process exits).
    public func shutdown(timeout: Duration) {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        stopping = true
        condition.broadcast()
        while (!queue.isEmpty || exporting) && condition.wait(until: deadline) {}
        condition.unlock()
    }

    /// Sends what is queued now rather than at the next schedule (tests; shutdown).
    public func flush() {
        condition.lock()
        flushRequested = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        let delay =
            Double(configuration.scheduleDelay.components.seconds) + Double(configuration.scheduleDelay.components.attoseconds) / 1e18
        var nextExport = Date(timeIntervalSinceNow: delay)
        while true {
            condition.lock()
            while !stopping && !flushRequested && queue.count < configuration.maxExportBatchSize
                && (queue.isEmpty || Date() < nextExport)
            {
                if queue.isEmpty {
                    condition.wait()
                    nextExport = Date(timeIntervalSinceNow: delay)
                } else {
                    _ = condition.wait(until: nextExport)
                }
            }
            if queue.isEmpty {
                flushRequested = false
                let done = stopping
                condition.broadcast()
                condition.unlock()
                if done { return }
                continue
            }
            let batch = Array(queue.prefix(configuration.maxExportBatchSize))
            queue.removeFirst(batch.count)
            if queue.isEmpty { flushRequested = false }
            exporting = true
            condition.unlock()

            let sent = post(encode(batch))
            report(sent ? .exported : .exportFailed, batch.count)

            condition.lock()
            exporting = false
            nextExport = Date(timeIntervalSinceNow: delay)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// One OTLP/HTTP export: 2xx is success; anything else, or no answer within the timeout, drops the batch (the
    /// specification allows retries; the bounded queue keeps a dead collector from holding memory instead).
    private func post(_ body: [UInt8]) -> Bool {
        let url = configuration.endpoint
        guard let host = url.host, let components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return false }
        let https = url.scheme == "https"
        // As configured, percent-encoding included (`url.path` would decode it and drop a trailing slash).
        var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        let headers = [("Content-Type", "application/x-protobuf")] + configuration.headers
        do {
            let status = try HTTPProbe.send(
                "POST", host: host, port: url.port ?? (https ? 443 : 80), path: path, headers: headers, body: body,
                timeout: configuration.timeout, tls: https ? .verify(caFile: configuration.caFile) : nil)
            return (200..<300).contains(status)
        } catch {
            return false
        }
    }
}
