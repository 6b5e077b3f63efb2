/// When a free engine starts a batch: a pure function of the queue and the time, so `BatchScheduler` only
/// carries its decisions out and the tests check them exactly, with instants they choose (no sleeps).
///
/// A batch runs at once when it is full, when nothing more is on its way (no admitted request is still
/// decoding: holding it open would only add latency), or when the scheduler is stopping. Otherwise it is held
/// open while images keep arriving, each within `maxBatchDelay` of the latest one: the gap counts from the latest
/// arrival, not the oldest admission, so decodes that finish a couple of milliseconds apart fill one batch. And while a
/// waiting image's own request still has images decoding (an Open Inference Protocol request of 8 JPEGs), the batch
/// waits for them whatever the delay: that request is answered only once all its images are done, and the cores a
/// partial batch would take are the ones its siblings need to finish decoding, so running early only splits the
/// batch.
struct BatchPolicy: Sendable {
    let maxBatch: Int
    let maxBatchDelay: Duration

    enum Decision: Equatable {
        /// Start a batch of the first `count` waiting jobs.
        case run(count: Int)
        /// Hold the batch open until this instant (or an earlier arrival or release), then decide again.
        case holdUntil(ContinuousClock.Instant)
        /// Hold the batch open until the next arrival or release, however long (a waiting image's siblings are decoding).
        case waitForArrival
        /// Nothing is waiting.
        case idle
    }

    /// `waiting`: submitted jobs not yet in a batch; `admitted`: admitted requests not yet in a batch (those
    /// waiting plus those still decoding); `lastArrival`: when the newest waiting job was submitted;
    /// `siblingsDecoding`: whether a waiting image's request still has images decoding.
    func decide(
        now: ContinuousClock.Instant, waiting: Int, admitted: Int, lastArrival: ContinuousClock.Instant, stopping: Bool,
        siblingsDecoding: Bool = false
    ) -> Decision {
        guard waiting > 0 else { return .idle }
        let moreComing = admitted > waiting
        let due = lastArrival + maxBatchDelay
        if waiting >= maxBatch || !moreComing || stopping {
            return .run(count: min(maxBatch, waiting))
        }
        if siblingsDecoding { return .waitForArrival }
        if now >= due { return .run(count: min(maxBatch, waiting)) }
        return .holdUntil(due)
    }
}
