import ArgumentParser
import Dispatch
import Foundation
import HTTP
import Inference
import Logging
import Service

/// `seresnet serve`: the HTTP classification service.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Serve POST /classify, the Open Inference Protocol v2 (/v2/…), KServe v1 (/v1/models/…), /healthz, /readyz, /v1/model, /metrics and /openapi.json over HTTP/1.1.",
        discussion: """
            Every flag can also be set by the environment variable named in its help; the flag wins. \
            The server answers /healthz while the model loads; /readyz turns 200 once the weights are loaded \
            and a warm-up inference has run, and 503 again from SIGTERM on, before in-flight requests drain.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var kernelOptions: KernelOptions

    @Option(help: "Address to bind: :: (all IPv6 and IPv4), 0.0.0.0, 127.0.0.1… (env SERESNET_HOST, default ::)")
    var host: String?

    @Option(help: "TCP port; 0 picks a free one (env PORT, default 8080).")
    var port: Int?

    @Option(help: "Inference threads in total (env SERESNET_THREADS, default: CPUs available to the process, cgroup quota honoured).")
    var threads: Int?

    @Option(help: "Engines sharing the threads, each with its own batch (env SERESNET_ENGINES, default \(Defaults.engines)).")
    var engines: Int?

    @Flag(
        inversion: .prefixedNo,
        help:
            "Decode large JPEGs at a reduced DCT scale (1/2 to 1/8, keeping twice the resize target) before resizing: several times faster on big photos, but predictions are then close to timm's rather than identical; responses say the scale in image.decode_scale (env SERESNET_JPEG_DCT_SCALING=1, default off: full resolution)."
    )
    var jpegDctScaling: Bool?

    @Option(help: "Most images per inference batch (env SERESNET_MAX_BATCH, default 8).")
    var maxBatch: Int?

    @Option(
        help:
            "While more admitted images are still decoding, how long a batch waits for the next one after the latest arrival, in ms (env SERESNET_MAX_BATCH_DELAY_MS, default 2)."
    )
    var maxBatchDelayMs: Int?

    @Option(
        help:
            "Images admitted (decoding or queued) before new requests get 503 + Retry-After; a request of B images counts B (env SERESNET_MAX_QUEUE, default 64)."
    )
    var maxQueue: Int?

    @Option(
        help:
            "Most images one Open Inference Protocol or KServe v1 request may carry; more get 413 (env SERESNET_MAX_BATCH_IMAGES, default 32). The queue counts images, so a request of 8 is admitted as 8."
    )
    var maxBatchImages: Int?

    @Option(
        help:
            "The model's name in every API (/v1/model, /v2/models/{name}, /v1/models/{name}) (env SERESNET_MODEL_NAME, default: the checkpoint's name from config.json)."
    )
    var modelName: String?

    @Option(help: "Largest request body in bytes; larger ones get 413 (env SERESNET_MAX_BODY_BYTES, default 16777216).")
    var maxBodyBytes: Int?

    @Option(
        help:
            "Request-body bytes held in memory at once over all connections, counted as they arrive, at least --max-body-bytes; an upload that cannot fit gets 503 + Retry-After, from its head when it declares a Content-Length (env SERESNET_MAX_BUFFERED_BODY_BYTES, default 536870912)."
    )
    var maxBufferedBodyBytes: Int?

    @Option(
        help:
            "Seconds a client has to send a request's body once its headers are in, however steadily it trickles; then 408 (env SERESNET_BODY_TIMEOUT_S, default 60)."
    )
    var bodyTimeoutS: Int?

    @Option(help: "Largest image in pixels, checked before decoding; larger ones get 422 (env SERESNET_MAX_PIXELS, default 50000000).")
    var maxPixels: Int?

    @Option(
        help:
            "A request that waited longer than this many ms for the engine gets 503 and is not run (env SERESNET_REQUEST_TIMEOUT_MS, default 30000)."
    )
    var requestTimeoutMs: Int?

    @Option(
        help: "On SIGTERM/SIGINT, how long in-flight requests may take to finish, in seconds (env SERESNET_DRAIN_TIMEOUT_S, default 30).")
    var drainTimeoutS: Int?

    @Option(
        help:
            "On SIGTERM/SIGINT, seconds to keep accepting and serving with /readyz at 503 before draining, so load balancers that poll readiness stop routing first; a second signal ends it (env SERESNET_SHUTDOWN_DELAY_S, default 0)."
    )
    var shutdownDelayS: Int?

    @Option(
        help:
            "Open connections beyond which new ones get 503 and are closed; the descriptor limit (RLIMIT_NOFILE) is raised to fit, up to the hard limit, else this is lowered to what fits (env SERESNET_MAX_CONNECTIONS, default 10000)."
    )
    var maxConnections: Int?

    @Option(help: "Seconds a client has to send a request's headers before 408 (env SERESNET_HEADER_TIMEOUT_S, default 10).")
    var headerTimeoutS: Int?

    @Option(help: "Seconds an idle keep-alive connection is kept open (env SERESNET_KEEP_ALIVE_TIMEOUT_S, default 60).")
    var keepAliveTimeoutS: Int?

    @Option(
        help: ArgumentHelp(
            "Class labels, one per line (env SERESNET_LABELS; default for 1000-class models: the shipped ImageNet-1k list, else class_<i>).",
            valueName: "file"))
    var labels: String?

    @Option(
        help: ArgumentHelp(
            "HTTPS: the certificate chain, PEM, leaf first (env SERESNET_TLS_CERT; with --tls-key; 8443 is the usual port).",
            valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("HTTPS: the certificate's private key, PEM (env SERESNET_TLS_KEY).", valueName: "file"))
    var tlsKey: String?

    @Option(
        help: ArgumentHelp(
            "Mutual TLS: CA certificates (PEM) that client certificates must chain to (env SERESNET_TLS_CLIENT_CA).", valueName: "file"))
    var tlsClientCa: String?

    @Option(
        help:
            "With --tls-client-ca: require a client certificate, or accept clients without one (optional; a certificate that does not verify is still refused) (env SERESNET_TLS_CLIENT_AUTH, default require)."
    )
    var tlsClientAuth: String?

    @Option(
        help:
            "Seconds between checks of the TLS files' modification times; a change reloads them (as SIGHUP does), keeping the old pair if the new one fails to load; 0 turns the checks off (env SERESNET_TLS_RELOAD_INTERVAL_S, default 10)."
    )
    var tlsReloadIntervalS: Int?

    @Option(
        help: ArgumentHelp(
            "Bearer tokens clients must send (`Authorization: Bearer <token>`), one per line; `#` comments; a line `sha256:<hex>` stands for the token with that digest. Missing or wrong → 401. /healthz and /readyz stay open (see --auth-exempt). Reloaded on SIGHUP and when the file changes, keeping the old set if the new file is invalid (env SERESNET_AUTH_TOKENS_FILE; default: no authentication).",
            valueName: "file"))
    var authTokensFile: String?

    @Option(
        help: ArgumentHelp(
            "With --auth-tokens-file: more paths answered without a token, comma-separated, e.g. /metrics,/ (env SERESNET_AUTH_EXEMPT).",
            valueName: "paths"))
    var authExempt: String?

    @Option(
        help:
            "Seconds between checks of the tokens file for changes (0: SIGHUP only) (env SERESNET_AUTH_RELOAD_INTERVAL_S, default 10)."
    )
    var authReloadIntervalS: Int?

    @Option(
        help: ArgumentHelp(
            "Browser pages on these origins may call the API (CORS): * or origins like https://app.example.com, comma-separated; preflights are answered, responses carry Access-Control-Allow-Origin (env SERESNET_CORS_ALLOW_ORIGIN; default: off).",
            valueName: "origins"))
    var corsAllowOrigin: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env SERESNET_LOG_LEVEL, default info).")
    var logLevel: String?

    @OptionGroup(title: "OpenTelemetry traces")
    var tracingOptions: TracingOptions

    enum Defaults {
        static let engines = 1
    }

    func run() throws {
        let exec = ContinuousClock.now
        let levelName = Environment.string(logLevel, "SERESNET_LOG_LEVEL", default: "info")
        guard let level = Logger.Level(rawValue: levelName.lowercased()) else {
            throw ValidationError("unknown log level '\(levelName)'; use trace, debug, info, notice, warning, error or critical")
        }
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        let logger = Logger(label: "seresnet")
        let memoryPolicy = MemoryPolicy.apply()
        logger.debug("memory policy", metadata: ["large_blocks": .string(memoryPolicy)])

        var service = ServiceConfiguration()
        service.threads = try Environment.int(
            threads, "SERESNET_THREADS", default: ProcessorBudget.available(), range: 1...256, flagName: "--threads")
        service.engines = try Environment.int(
            engines, "SERESNET_ENGINES", default: Defaults.engines, range: 1...service.threads, flagName: "--engines")
        (service.kernels, service.precision) = try kernelOptions.resolve()
        service.jpegDCTScaling = try jpegDctScaling ?? Environment.bool("SERESNET_JPEG_DCT_SCALING", default: false)
        service.maxBatch = try Environment.int(maxBatch, "SERESNET_MAX_BATCH", default: 8, range: 1...256, flagName: "--max-batch")
        service.maxBatchDelay = .milliseconds(
            try Environment.int(
                maxBatchDelayMs, "SERESNET_MAX_BATCH_DELAY_MS", default: 2, range: 0...10_000, flagName: "--max-batch-delay-ms"))
        service.maxQueue = try Environment.int(maxQueue, "SERESNET_MAX_QUEUE", default: 64, range: 1...100_000, flagName: "--max-queue")
        service.maxImagesPerRequest = try Environment.int(
            maxBatchImages, "SERESNET_MAX_BATCH_IMAGES", default: 32, range: 1...4096, flagName: "--max-batch-images")
        service.modelName = Environment.string(modelName, "SERESNET_MODEL_NAME", default: "")
        if service.modelName == "" { service.modelName = nil }
        if let name = service.modelName, name.contains("/") || name.contains("?") || name.contains(":") {
            throw ValidationError("--model-name must not contain '/', '?' or ':' (it is a URL path segment); got '\(name)'")
        }
        service.maxPixels = try Environment.int(
            maxPixels, "SERESNET_MAX_PIXELS", default: 50_000_000, range: 1...1_000_000_000, flagName: "--max-pixels")
        service.requestTimeout = .milliseconds(
            try Environment.int(
                requestTimeoutMs, "SERESNET_REQUEST_TIMEOUT_MS", default: 30_000, range: 1...3_600_000, flagName: "--request-timeout-ms"))

        var http = HTTPServer.Configuration()
        http.host = Environment.string(host, "SERESNET_HOST", default: "::")
        http.port = try Environment.int(port, "PORT", default: 8080, range: 0...65535, flagName: "--port")
        http.maxBodyBytes = try Environment.int(
            maxBodyBytes, "SERESNET_MAX_BODY_BYTES", default: 16 << 20, range: 1...(1 << 30), flagName: "--max-body-bytes")
        http.maxBufferedBodyBytes = try Environment.int(
            maxBufferedBodyBytes, "SERESNET_MAX_BUFFERED_BODY_BYTES", default: max(512 << 20, http.maxBodyBytes),
            range: http.maxBodyBytes...(1 << 40), flagName: "--max-buffered-body-bytes")
        http.bodyTimeout = .seconds(
            try Environment.int(bodyTimeoutS, "SERESNET_BODY_TIMEOUT_S", default: 60, range: 1...3600, flagName: "--body-timeout-s"))
        http.maxConnections = try Environment.int(
            maxConnections, "SERESNET_MAX_CONNECTIONS", default: 10_000, range: 1...1_000_000, flagName: "--max-connections")
        let descriptors = DescriptorLimit.raise(toServe: http.maxConnections)
        let descriptorMetadata: Logger.Metadata = [
            "max_connections": .stringConvertible(descriptors.connections), "nofile_soft_before": .stringConvertible(descriptors.before),
            "nofile_soft": .stringConvertible(descriptors.after), "nofile_hard": .stringConvertible(descriptors.hard),
        ]
        if descriptors.capped {
            logger.warning(
                "descriptor limit too low for --max-connections \(http.maxConnections): serving at most \(descriptors.connections) (raise the hard RLIMIT_NOFILE, e.g. ulimit -Hn or the container's nofile)",
                metadata: descriptorMetadata)
        } else {
            logger.info("descriptor limit", metadata: descriptorMetadata)
        }
        http.maxConnections = descriptors.connections
        http.headerReadTimeout = .seconds(
            try Environment.int(headerTimeoutS, "SERESNET_HEADER_TIMEOUT_S", default: 10, range: 1...3600, flagName: "--header-timeout-s"))
        http.keepAliveIdleTimeout = .seconds(
            try Environment.int(
                keepAliveTimeoutS, "SERESNET_KEEP_ALIVE_TIMEOUT_S", default: 60, range: 1...3600, flagName: "--keep-alive-timeout-s"))
        http.shutdownDeadline = .seconds(
            try Environment.int(drainTimeoutS, "SERESNET_DRAIN_TIMEOUT_S", default: 30, range: 0...3600, flagName: "--drain-timeout-s"))
        let shutdownDelay = try Environment.int(
            shutdownDelayS, "SERESNET_SHUTDOWN_DELAY_S", default: 0, range: 0...3600, flagName: "--shutdown-delay-s")
        let labelsPath = Environment.string(labels, "SERESNET_LABELS")
        let tlsFiles = try tlsFiles()
        let tlsReloadInterval = try Environment.int(
            tlsReloadIntervalS, "SERESNET_TLS_RELOAD_INTERVAL_S", default: 10, range: 0...86_400, flagName: "--tls-reload-interval-s")
        if let tlsFiles {
            do { http.tls = try TLSContextStore(files: tlsFiles) } catch { fail("TLS: \(error)") }
        }

        let tokens: BearerTokens?
        if let path = Environment.string(authTokensFile, "SERESNET_AUTH_TOKENS_FILE") {
            do { tokens = try BearerTokens(path: path) } catch { fail("authentication: \(error)") }
        } else {
            tokens = nil
        }
        let exemptPaths = Environment.string(authExempt, "SERESNET_AUTH_EXEMPT").map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if tokens == nil && exemptPaths != nil { throw ValidationError("--auth-exempt needs --auth-tokens-file") }
        if let bad = exemptPaths?.first(where: { !$0.hasPrefix("/") }) {
            throw ValidationError("--auth-exempt takes paths starting with /; got '\(bad)'")
        }
        let cors = try Environment.string(corsAllowOrigin, "SERESNET_CORS_ALLOW_ORIGIN").map { text in
            guard let policy = CORSPolicy(parsing: text) else {
                throw ValidationError(
                    "--cors-allow-origin (or SERESNET_CORS_ALLOW_ORIGIN) takes * or origins like https://app.example.com, comma-separated; got '\(text)'"
                )
            }
            return policy
        }
        let authReloadInterval = try Environment.int(
            authReloadIntervalS, "SERESNET_AUTH_RELOAD_INTERVAL_S", default: 10, range: 0...86_400, flagName: "--auth-reload-interval-s")

        let metrics = ServiceMetrics(maxBatch: service.maxBatch)
        if let tls = http.tls {
            metrics.setTLSCertificateExpiry(tls.expiry)
            metrics.declareTLSReloads()
        }
        if let tokens { metrics.declareAuthentication(tokens: tokens.count) }
        let tracer = try tracingOptions.tracer(metrics: metrics)
        let routes = ServiceRoutes(
            metrics: metrics, accessLog: Logger(label: "access"),
            tracing: tracer.map { Tracing(tracer: $0, scheme: http.tls == nil ? "http" : "https", port: http.port) })
        if let tracer {
            logger.info(
                "tracing",
                metadata: [
                    "endpoint": .string(tracer.exporter.configuration.endpoint.absoluteString), "service_name": .string(tracer.serviceName),
                    "sampler": .string(tracer.sampler.description),
                ])
        }
        var router = routes.makeRouter()
        router.cors = cors
        if let tokens {
            router.authentication = tokens
            router.openPaths = ServiceRoutes.probePaths.union(exemptPaths ?? [])
            logger.info(
                "authentication",
                metadata: [
                    "tokens_file": .string(tokens.path), "tokens": .stringConvertible(tokens.count),
                    "open_paths": .string(router.openPaths.sorted().joined(separator: ",")),
                ])
        }
        let server = HTTPServer(
            configuration: http, router: router,
            errorResponder: { ErrorResponses.response(for: $0) },
            onResponse: { routes.record($0) })
        let boundPort: Int
        do { boundPort = try server.start() } catch { fail("cannot listen on \(http.host):\(http.port): \(error)") }
        logger.info(
            "listening",
            metadata: [
                "host": .string(http.host), "port": .stringConvertible(boundPort), "scheme": .string(http.tls == nil ? "http" : "https"),
            ])
        // SIGHUP and the file timer both reload on one serial queue, so two reloads never overlap or land out of order.
        let reloads = DispatchQueue(label: "tls.reload")
        let reloadTLS: (@Sendable (String) -> Void)? = http.tls.map { tls in
            @Sendable func reload(_ trigger: String) {
                let outcome = trigger == "signal" ? tls.reload() : tls.reloadIfChanged()
                switch outcome {
                case nil: return
                case .success(let expiry):
                    metrics.recordTLSReload(success: true)
                    metrics.setTLSCertificateExpiry(expiry)
                    logger.notice(
                        "tls reloaded",
                        metadata: ["trigger": .string(trigger), "expires": .string(ISO8601DateFormatter().string(from: expiry))])
                case .failure(let error):
                    metrics.recordTLSReload(success: false)
                    logger.error(
                        "tls reload failed; the previous certificate keeps serving",
                        metadata: ["trigger": .string(trigger), "error": .string(error.description)])
                }
            }
            return { @Sendable trigger in reloads.async { reload(trigger) } }
        }
        let reloadTimer = Self.startReloadTimer(seconds: tlsReloadInterval, reload: reloadTLS)
        let reloadTokens: (@Sendable (String) -> Void)? = tokens.map { tokens in
            @Sendable func reload(_ trigger: String) {
                switch trigger == "signal" ? tokens.reload() : tokens.reloadIfChanged() {
                case nil: return
                case .success(let count):
                    metrics.recordAuthenticationReload(success: true, tokens: count)
                    logger.notice("tokens reloaded", metadata: ["trigger": .string(trigger), "tokens": .stringConvertible(count)])
                case .failure(let error):
                    metrics.recordAuthenticationReload(success: false, tokens: tokens.count)
                    logger.error(
                        "tokens reload failed; the previous tokens stay accepted",
                        metadata: ["trigger": .string(trigger), "error": .string(error.description)])
                }
            }
            return { @Sendable trigger in reloads.async { reload(trigger) } }
        }
        let tokensTimer = Self.startReloadTimer(seconds: authReloadInterval, reload: reloadTokens)
        var hangup: (@Sendable () -> Void)?
        if reloadTLS != nil || reloadTokens != nil {
            hangup = { @Sendable in
                reloadTLS?("signal")
                reloadTokens?("signal")
            }
        }

        let drainSeconds = Int(http.shutdownDeadline.components.seconds)
        nonisolated(unsafe) var pipeline: ClassificationService?
        let signals = installSignalHandlers(
            for: server,
            delay: .seconds(shutdownDelay),
            beforeShutdown: {
                routes.beginDraining()
                server.beginLeaving()
                logger.notice(
                    "draining", metadata: ["delay_s": .stringConvertible(shutdownDelay), "deadline_s": .stringConvertible(drainSeconds)])
            },
            onStopped: {
                pipeline?.stop()
                // The last spans (the drained requests') go out before the process does, within a bound.
                tracer?.exporter.shutdown(timeout: .seconds(5))
                logger.notice("stopped")
                Foundation.exit(0)
            },
            onHangup: hangup)

        let memoryLimit = MemoryBudget.cgroupLimit()
        if memoryLimit != nil { service.decodeMemory = DecodeMemory(limit: Int.max) }
        let ready = makeService(configuration: service, labelsPath: labelsPath, metrics: metrics, logger: logger)
        if let memoryLimit, let decodeMemory = service.decodeMemory {
            // Sized now that the model is loaded and the engines are warm: what they hold is the floor.
            let plan = MemoryBudget.plan(
                limit: memoryLimit.bytes, resident: MemoryBudget.residentBytes() ?? 0, maxBodyBytes: http.maxBodyBytes,
                configuredBodies: http.maxBufferedBodyBytes, maxPixels: service.maxPixels, queuedTensors: service.maxQueue,
                tensorBytes: ready.inputTensorBytes)
            decodeMemory.limit = plan.decodes
            server.setBufferedBodyLimit(plan.bodies)
            let mib = { (bytes: Int) -> Logger.MetadataValue in .stringConvertible(bytes >> 20) }
            let metadata: Logger.Metadata = [
                "limit_mib": mib(plan.limit), "source": .string(memoryLimit.source), "resident_mib": mib(plan.resident),
                "headroom_mib": mib(plan.headroom), "bodies_mib": mib(plan.bodies), "decodes_mib": mib(plan.decodes),
                "largest_baseline_megapixels": .stringConvertible(plan.largestBaselinePixels / 1_000_000),
            ]
            if plan.largestBaselinePixels < service.maxPixels {
                logger.warning(
                    "memory budget: decodes cannot hold an image of --max-pixels under this memory limit; images too large to decode get 413 image_exceeds_memory",
                    metadata: metadata)
            } else {
                logger.info("memory budget", metadata: metadata)
            }
        }
        pipeline = ready
        routes.attach(ready)
        ready.markReady()
        logger.info(
            "ready",
            metadata: [
                "model": .string(ready.modelName), "weights_sha256": .string(ready.model.weightsSHA256),
                "threads": .stringConvertible(service.threads), "engines": .stringConvertible(service.engines),
                "max_batch": .stringConvertible(service.maxBatch),
                "kernels": .string(service.kernels.instructionSet?.rawValue ?? "blas"),
                "precision": .string(service.precision.rawValue),
                "calibration": .string(ready.configuration.calibration.map { "\($0.method.rawValue), \($0.images) images" } ?? "none"),
                "startup_ms": .stringConvertible(ClassificationService.milliseconds(exec.duration(to: .now))),
            ])
        withExtendedLifetime((signals, reloadTimer, tokensTimer)) { dispatchMain() }
    }

    /// Loads the model and builds the service. In a function of its own so the loaded network, whose convolution
    /// weights the service's plan repacks, is released on return instead of living as long as `run`.
    private func makeService(
        configuration: ServiceConfiguration, labelsPath: String?, metrics: ServiceMetrics, logger: Logger
    ) -> ClassificationService {
        let model: LoadedModel
        do { model = try ModelDirectory(path: modelOptions.model).load() } catch {
            logger.critical("cannot load model", metadata: ["model": .string(modelOptions.model), "error": .string("\(error)")])
            fail("cannot load model from \(modelOptions.model): \(error)")
        }
        let classLabels: ClassLabels
        do {
            classLabels = try LabelFiles.labels(explicit: labelsPath, classes: model.network.architecture.numClasses, logger: logger)
        } catch {
            fail("\(error)")
        }
        var configuration = configuration
        configuration.calibration = kernelOptions.calibrationFile(
            precision: configuration.precision, model: model, modelDirectory: modelOptions.model)
        do {
            return try ClassificationService(model: consume model, labels: classLabels, configuration: configuration, metrics: metrics)
        } catch {
            fail("cannot serve \(modelOptions.model): \(error)")
        }
    }

    /// The TLS files from flags or environment; nil for plain HTTP. Half a pair is a start-up error.
    func tlsFiles() throws -> TLSContextStore.Files? {
        let certificate = Environment.string(tlsCert, "SERESNET_TLS_CERT")
        let key = Environment.string(tlsKey, "SERESNET_TLS_KEY")
        let clientCA = Environment.string(tlsClientCa, "SERESNET_TLS_CLIENT_CA")
        let authName = Environment.string(tlsClientAuth, "SERESNET_TLS_CLIENT_AUTH", default: "require")
        guard let authentication = TLSContextStore.ClientAuthentication(rawValue: authName) else {
            throw ValidationError("--tls-client-auth must be optional or require; got '\(authName)'")
        }
        switch (certificate, key) {
        case (nil, nil):
            if clientCA != nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)") }
            return nil
        case (let certificate?, let key?):
            return TLSContextStore.Files(
                certificateChain: certificate, privateKey: key, clientCA: clientCA, clientAuthentication: authentication)
        default:
            throw ValidationError("--tls-cert and --tls-key go together (env SERESNET_TLS_CERT, SERESNET_TLS_KEY)")
        }
    }

    /// Checks the TLS files every `seconds` and reloads them when they changed (a Kubernetes Secret rotation
    /// needs no signal).
    static func startReloadTimer(seconds: Int, reload: (@Sendable (String) -> Void)?) -> DispatchSourceTimer? {
        guard seconds > 0, let reload else { return nil }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "reload.timer"))
        timer.schedule(deadline: .now() + .seconds(seconds), repeating: .seconds(seconds))
        timer.setEventHandler { reload("file change") }
        timer.resume()
        return timer
    }
}
