import ArgumentParser
import Foundation
import Service
import Telemetry

/// `serve`'s OpenTelemetry flags. Each reads the variable the OpenTelemetry specification defines for it; tracing is on
/// when an endpoint is set (and `OTEL_SDK_DISABLED` is not true, nor `OTEL_TRACES_EXPORTER` none).
struct TracingOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "OTLP/HTTP collector base URL; traces go to <url>/v1/traces (env OTEL_EXPORTER_OTLP_ENDPOINT; default: no tracing).",
            valueName: "url"))
    var otelEndpoint: String?

    @Option(
        help: ArgumentHelp(
            "OTLP/HTTP traces URL, used as is; wins over --otel-endpoint (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).", valueName: "url"))
    var otelTracesEndpoint: String?

    @Option(help: "service.name of the spans (env OTEL_SERVICE_NAME, default seresnet).")
    var otelServiceName: String?

    @Option(
        help:
            "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio (env OTEL_TRACES_SAMPLER, default parentbased_always_on)."
    )
    var otelTracesSampler: String?

    @Option(help: "The traceidratio samplers' ratio, 0 to 1 (env OTEL_TRACES_SAMPLER_ARG, default 1).")
    var otelTracesSamplerArg: String?

    @Option(
        help: ArgumentHelp(
            "Headers sent with each export, key=value,… percent-encoded, e.g. an API key (env OTEL_EXPORTER_OTLP_TRACES_HEADERS, then OTEL_EXPORTER_OTLP_HEADERS).",
            valueName: "headers"))
    var otelHeaders: String?

    /// The tracer these settings ask for, or nil when tracing is off.
    func tracer(metrics: ServiceMetrics) throws -> Tracer? {
        let environment = ProcessInfo.processInfo.environment
        func variable(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if try Environment.bool("OTEL_SDK_DISABLED", default: false) { return nil }
        if let exporter = variable("OTEL_TRACES_EXPORTER") {
            if exporter == "none" { return nil }
            guard exporter == "otlp" else {
                throw ValidationError("OTEL_TRACES_EXPORTER=\(exporter): only otlp (OTLP/HTTP with protobuf) or none is supported")
            }
        }
        let url: String
        if let traces = Environment.string(otelTracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            url = traces
        } else if let base = Environment.string(otelEndpoint, "OTEL_EXPORTER_OTLP_ENDPOINT") {
            url = base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces"
        } else {
            return nil
        }
        guard let endpoint = URL(string: url), endpoint.scheme == "http" || endpoint.scheme == "https", endpoint.host != nil else {
            throw ValidationError("--otel-endpoint/--otel-traces-endpoint: '\(url)' is not an http:// or https:// URL")
        }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let protocolName = variable(name), protocolName != "http/protobuf" {
                throw ValidationError("\(name)=\(protocolName): this service exports OTLP over HTTP with protobuf only (http/protobuf)")
            }
        }
        var export = ExportConfiguration(endpoint: endpoint)
        let headers = otelHeaders ?? variable("OTEL_EXPORTER_OTLP_TRACES_HEADERS") ?? variable("OTEL_EXPORTER_OTLP_HEADERS")
        if let headers { export.headers = try Self.keyValueList(headers, name: "OTEL_EXPORTER_OTLP_HEADERS") }
        func milliseconds(_ names: [String], default value: Int, range: ClosedRange<Int>) throws -> Int {
            guard let name = names.first(where: { variable($0) != nil }) else { return value }
            return try Environment.int(nil, name, default: value, range: range, flagName: name)
        }
        export.timeout = .milliseconds(
            try milliseconds(["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"], default: 10_000, range: 1...600_000))
        export.scheduleDelay = .milliseconds(try milliseconds(["OTEL_BSP_SCHEDULE_DELAY"], default: 5000, range: 1...600_000))
        export.maxQueueSize = try milliseconds(["OTEL_BSP_MAX_QUEUE_SIZE"], default: 2048, range: 1...1_000_000)
        export.maxExportBatchSize = min(
            export.maxQueueSize, try milliseconds(["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"], default: 512, range: 1...1_000_000))
        export.caFile = variable("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE") ?? variable("OTEL_EXPORTER_OTLP_CERTIFICATE")

        let sampler: Sampler
        do {
            sampler = try Sampler(
                name: Environment.string(otelTracesSampler, "OTEL_TRACES_SAMPLER", default: "parentbased_always_on"),
                argument: Environment.string(otelTracesSamplerArg, "OTEL_TRACES_SAMPLER_ARG"))
        } catch { throw ValidationError(error.description) }
        let resource = try variable("OTEL_RESOURCE_ATTRIBUTES").map { try Self.keyValueList($0, name: "OTEL_RESOURCE_ATTRIBUTES") } ?? []
        let serviceName =
            Environment.string(otelServiceName, "OTEL_SERVICE_NAME") ?? resource.first(where: { $0.0 == "service.name" })?.1 ?? "seresnet"
        metrics.declareTraceSpans()
        return Tracer(
            serviceName: serviceName, serviceVersion: ServiceInfo.version, sampler: sampler, export: export, resourceAttributes: resource
        ) { outcome, count in metrics.recordTraceSpans(outcome.rawValue, count: count) }
    }

    /// `key=value,key=value` with percent-encoded values, as the specification's headers and resource variables are.
    static func keyValueList(_ text: String, name: String) throws -> [(String, String)] {
        try text.split(separator: ",").map { member in
            let parts = member.split(separator: "=", maxSplits: 1)
            let key = parts.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            guard parts.count == 2, !key.isEmpty, let value = String(parts[1]).trimmingCharacters(in: .whitespaces).removingPercentEncoding
            else {
                throw ValidationError("\(name): '\(member)' is not key=value")
            }
            // They become header lines: no control characters (a decoded CR LF would start another header).
            guard (key + value).unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw ValidationError("\(name): '\(key)' has a control character in its name or value")
            }
            return (key, value)
        }
    }
}
