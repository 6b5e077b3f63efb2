import Dispatch
import Foundation
import Inference
import Telemetry

/// The images of one request, as the scheduler sees them: how many are still decoding. The scheduler counts them
/// down itself (`submit`, `release(decoded:)`), under its own lock, so no batch decision sees an image neither
/// decoding nor waiting.
protocol ImageGroup: AnyObject, Sendable {
    var imagesDecoding: Int { get }
    /// One image is through decoding (prepared, refused or skipped).
    func decoded()
}

/// One preprocessed image waiting for the engine.
struct InferenceJob {
    /// (C, H, W) normalized input, exactly the engine's slot layout.
    let tensor: [Float]
    /// The request it belongs to when that request carries several images (its siblings may still be decoding).
    var group: (any ImageGroup)? = nil
    /// When the request was admitted (decoding and preprocessing count as queue time too).
    let admitted: ContinuousClock.Instant
    /// Whether the outcome carries the image's last-stage feature maps (for class activation maps).
    var keepsFeatures = false
    /// The request's trace, when it is traced: the batch's span links to it.
    var trace: RequestTrace? = nil
    let completion: @Sendable (Result<InferenceOutcome, ServiceError>) -> Void
}

/// What the engine produced for one image.
struct InferenceOutcome: Sendable {
    /// The image's row of logits, one per class.
    let logits: [Float]
    let queueWait: Duration
    let inference: Duration
    let batchSize: Int
    /// Which engine ran it (index into the scheduler's engines).
    var engine = 0
    /// Copying the batch's logits out of the engine.
    var outputCopy: Duration = .zero
    /// The image's last-stage feature maps, when its job asked.
    var features: FeatureMaps?
    /// The batch, for the request's trace.
    var batch: BatchTrace? = nil
}

/// Dynamic batching over one or more engines, each driven by its own thread.
///
/// An engine that becomes free takes everything waiting, up to `maxBatch`; if fewer are waiting while
/// more admitted requests are still being decoded, it holds the batch open as long as images keep arriving,
/// each within `maxBatchDelay` of the last (or until the batch is full, or nothing more is decoding). The gap
/// counts from the latest arrival, not the oldest admission: decodes that finish one after another a couple of
/// milliseconds apart (two cores, ~2.5 ms each) then fill one batch instead of splitting into a batch of one
/// and a batch of the rest. Admission is
/// bounded: `admit` refuses once `maxQueue` images are admitted and not yet running, answering with a
/// Retry-After derived from the queue length and recent batch latency, so latency cannot grow without
/// bound. Jobs that waited longer than `requestTimeout` are answered 503 and not run.
///
/// It also keeps decoding and inference within the service's cores: a running batch holds its engine's
/// threads, a decode (with its preprocessing) one core, and neither starts while that would exceed `cores`.
/// An engine waiting for cores goes before decodes not yet started, so it waits at most for the decodes
/// already running (a few milliseconds); otherwise a barrier-synchronised engine thread preempted by a
/// decoder would leave its partner spinning.
final class BatchScheduler: @unchecked Sendable {
    let maxBatch: Int
    let maxBatchDelay: Duration
    /// When to start a batch (the pure part of the scheduling).
    let policy: BatchPolicy
    let maxQueue: Int
    let requestTimeout: Duration
    private let engines: [InferenceEngine]
    private let metrics: ServiceMetrics
    private let statistics: InferenceStatistics
    private let clock = ContinuousClock()

    private let condition = NSCondition()
    private var waiting: [InferenceJob] = []
    /// Admitted and not yet taken into a batch (decoding, or waiting here).
    private var admitted = 0
    private var recentBatchSeconds = 0.1
    /// When the newest waiting job arrived (was decoded and submitted).
    private var lastArrival = ContinuousClock.now
    private var stopped = false
    /// The CPU budget shared by decoding and inference (see above).
    let cores: Int
    private var coresInUse = 0
    private var enginesWaitingForCores = 0
    /// The most cores ever in use at once (for tests and the curious).
    private(set) var peakCoresInUse = 0
    private var threads: [Thread] = []

    /// `cores` defaults to the engines' threads together.
    init(
        engines: [InferenceEngine], maxBatch: Int, maxBatchDelay: Duration, maxQueue: Int, requestTimeout: Duration,
        metrics: ServiceMetrics, statistics: InferenceStatistics = InferenceStatistics(),
        cores: Int? = nil
    ) {
        precondition(!engines.isEmpty && engines.allSatisfy { $0.maxBatch >= maxBatch })
        self.cores = max(cores ?? engines.reduce(0) { $0 + $1.threads }, engines.map(\.threads).max()!)
        self.engines = engines
        self.maxBatch = maxBatch
        self.maxBatchDelay = maxBatchDelay
        self.policy = BatchPolicy(maxBatch: maxBatch, maxBatchDelay: maxBatchDelay)
        self.maxQueue = maxQueue
        self.requestTimeout = requestTimeout
        self.metrics = metrics
        self.statistics = statistics
        for (index, engine) in engines.enumerated() {
            // Each thread keeps the scheduler alive until `stop()` lets it finish.
            let thread = Thread { self.drive(engine, index: index) }
            thread.name = "engine-\(index)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Reserves queue places for `images` images about to be decoded, or says when to retry. The queue counts
    /// images, not requests; a request larger than the whole queue is admitted only into an empty one.
    func admit(images: Int = 1) -> ServiceError? {
        condition.lock()
        defer { condition.unlock() }
        guard admitted + images <= maxQueue || admitted == 0 else {
            return .overloaded(retryAfterSeconds: retryAfterLocked(), queueLimit: maxQueue)
        }
        admitted += images
        metrics.setQueueDepth(admitted)
        return nil
    }

    /// The refusal `admit` would give now, without reserving anything.
    func wouldRefuse() -> ServiceError? {
        condition.lock()
        defer { condition.unlock() }
        return admitted < maxQueue ? nil : .overloaded(retryAfterSeconds: retryAfterLocked(), queueLimit: maxQueue)
    }

    /// Gives a queue place back (the request failed before reaching the engine); `group`, if any, has one image
    /// fewer decoding.
    func release(decoded group: (any ImageGroup)? = nil) {
        condition.lock()
        group?.decoded()
        admitted -= 1
        metrics.setQueueDepth(admitted)
        condition.broadcast()  // a batch held open for this request need not wait any longer
        condition.unlock()
    }

    /// Queues an admitted job for the next batch (its group has one image fewer decoding).
    func submit(_ job: InferenceJob) {
        condition.lock()
        job.group?.decoded()
        lastArrival = clock.now
        waiting.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body` (a decode and its preprocessing) once a core is free for it, and gives the core back after.
    func withDecodeCore<T>(_ body: () -> T) -> T {
        condition.lock()
        while coresInUse >= cores || enginesWaitingForCores > 0 { condition.wait() }
        takeCoresLocked(1)
        condition.unlock()
        defer {
            condition.lock()
            coresInUse -= 1
            condition.broadcast()
            condition.unlock()
        }
        return body()
    }

    /// Inside `withDecodeCore`: runs `body(true)` holding one more core, when one is free at once and no image waits for
    /// an engine (preprocessing then splits its rows over both), else `body(false)` on the decode's core alone. Never
    /// waits: an idle service lends a single request's preprocessing its second core, a busy one keeps every core for
    /// the engines and the other decodes.
    func withSpareCore<T>(_ body: (Bool) -> T) -> T {
        condition.lock()
        let spare = coresInUse < cores && enginesWaitingForCores == 0 && waiting.isEmpty
        if spare { takeCoresLocked(1) }
        condition.unlock()
        defer {
            if spare {
                condition.lock()
                coresInUse -= 1
                condition.broadcast()
                condition.unlock()
            }
        }
        return body(spare)
    }

    /// Inside `withDecodeCore`: gives the decode's core back while `body` waits (for decode memory), so engines and
    /// other decodes run meanwhile, then waits for a core again.
    func withoutDecodeCore<T>(_ body: () -> T) -> T {
        condition.lock()
        coresInUse -= 1
        condition.broadcast()
        condition.unlock()
        defer {
            condition.lock()
            while coresInUse >= cores || enginesWaitingForCores > 0 { condition.wait() }
            takeCoresLocked(1)
            condition.unlock()
        }
        return body()
    }

    private func takeCoresLocked(_ count: Int) {
        coresInUse += count
        peakCoresInUse = max(peakCoresInUse, coresInUse)
    }

    /// Cores the decodes and engines hold now (for tests).
    var coresInUseNow: Int {
        condition.lock()
        defer { condition.unlock() }
        return coresInUse
    }

    /// Images admitted and not yet running.
    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return admitted
    }

    /// Whole seconds until the queue ahead of a new request has likely drained: batches needed × recent batch
    /// latency, shared by the engines; at least 1.
    private func retryAfterLocked() -> Int {
        let batches = Double(admitted) / Double(maxBatch) + 1
        return max(1, Int((batches * recentBatchSeconds / Double(engines.count)).rounded(.up)))
    }

    /// Lets the engine threads finish what was admitted (decoding or waiting) and exit.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func drive(_ engine: InferenceEngine, index: Int) {
        while let batch = nextBatch(cores: engine.threads) {
            run(batch, on: engine, index: index)
            condition.lock()
            coresInUse -= engine.threads
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Blocks until a batch is due and `cores` cores are free, then takes both; nil once stopped and empty.
    private func nextBatch(cores engineCores: Int) -> [InferenceJob]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let siblingsDecoding = admitted > waiting.count && waiting.contains { ($0.group?.imagesDecoding ?? 0) > 0 }
            switch policy.decide(
                now: clock.now, waiting: waiting.count, admitted: admitted, lastArrival: lastArrival, stopping: stopped,
                siblingsDecoding: siblingsDecoding)
            {
            case .waitForArrival:
                // Every decode ends in a submit or a release, each of which wakes this thread.
                condition.wait()
            case .idle:
                // Stopped: finish what was admitted (still decoding, or waiting) before exiting.
                if stopped && admitted == 0 { return nil }
                condition.wait()
            case .holdUntil(let due):
                // Woken early by an arrival or a release; the policy decides again either way.
                _ = condition.wait(until: Date(timeIntervalSinceNow: clock.now.duration(to: due).inSeconds))
            case .run(let count):
                if coresInUse + engineCores > cores {
                    // Decodes already running finish first; new ones wait for this engine.
                    enginesWaitingForCores += 1
                    condition.wait()
                    enginesWaitingForCores -= 1
                    continue
                }
                takeCoresLocked(engineCores)
                let batch = Array(waiting.prefix(count))
                waiting.removeFirst(count)
                admitted -= count
                metrics.setQueueDepth(admitted)
                return batch
            }
        }
    }

    private func run(_ jobs: [InferenceJob], on engine: InferenceEngine, index: Int) {
        let start = clock.now
        var live: [InferenceJob] = []
        for job in jobs {
            let waited = job.admitted.duration(to: start)
            if waited > requestTimeout {
                job.completion(
                    .failure(
                        .queueTimeout(waitedMilliseconds: Self.milliseconds(waited), limitMilliseconds: Self.milliseconds(requestTimeout))))
            } else {
                live.append(job)
            }
        }
        guard !live.isEmpty else { return }
        for (slot, job) in live.enumerated() {
            let destination = engine.inputSlot(slot)
            job.tensor.withUnsafeBufferPointer { destination.baseAddress!.update(from: $0.baseAddress!, count: destination.count) }
        }
        let inputCopied = clock.now
        let logits = engine.run(batch: live.count)
        let ran = clock.now
        let elapsed = start.duration(to: ran)
        let classes = engine.numClasses
        var outcomes: [InferenceOutcome] = []
        for (slot, job) in live.enumerated() {
            outcomes.append(
                InferenceOutcome(
                    logits: Array(logits[slot * classes..<(slot + 1) * classes]), queueWait: job.admitted.duration(to: start),
                    inference: elapsed, batchSize: live.count, engine: index))
        }
        let outputCopy = ran.duration(to: clock.now)
        let batch = traceBatch(live, engine: index, from: start, to: ran)
        for slot in outcomes.indices {
            outcomes[slot].outputCopy = outputCopy
            outcomes[slot].batch = batch
            if live[slot].keepsFeatures { outcomes[slot].features = engine.features(slot: slot) }
        }
        statistics.recordBatch(
            size: live.count, input: start.duration(to: inputCopied), infer: inputCopied.duration(to: ran), output: outputCopy)
        condition.lock()
        recentBatchSeconds = 0.8 * recentBatchSeconds + 0.2 * elapsed.inSeconds
        condition.unlock()
        metrics.recordBatch(size: live.count, duration: elapsed, queueWaits: outcomes.map(\.queueWait))
        for (job, outcome) in zip(live, outcomes) { job.completion(.success(outcome)) }
    }

    /// The batch for its requests' traces. When any of them is sampled, the batch gets a span of its own — the root of
    /// a trace of its own, as one batch serves several traces — linked to each traced request's server span; each
    /// request's inference span links back to it.
    private func traceBatch(
        _ jobs: [InferenceJob], engine: Int, from start: ContinuousClock.Instant, to end: ContinuousClock.Instant
    ) -> BatchTrace {
        var batch = BatchTrace(context: nil, start: start, end: end, size: jobs.count, engine: engine)
        // One link per request, however many of its images the batch holds.
        var seen = Set<ObjectIdentifier>()
        let traced = jobs.compactMap(\.trace).filter { $0.context.sampled && seen.insert(ObjectIdentifier($0)).inserted }
        guard let first = traced.first else { return batch }
        let context = TraceContext(traceID: TraceContext.randomTraceID(), spanID: TraceContext.randomSpanID(), sampled: true)
        batch.context = context
        first.tracer.record([
            Span(
                context: context, parentSpanID: nil, name: "batch", kind: .internal, startUnixNanos: first.unixNanos(start),
                endUnixNanos: first.unixNanos(end),
                attributes: [("seresnet.batch.size", .int(jobs.count)), ("seresnet.engine", .int(engine))],
                links: traced.map(\.context))
        ])
        return batch
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

extension Duration {
    /// The duration in seconds, as a Double (for `Date` deadlines and millisecond figures).
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
