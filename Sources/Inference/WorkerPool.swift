import Dispatch
import Foundation
import Synchronization

/// Worker threads that outlive each parallel region: the caller runs part 0 and each worker one further part.
///
/// A forward pass opens a few hundred short regions (every convolution, Winograd stage, SE pass); waking
/// GCD workers for each one costs tens of microseconds. Workers here spin briefly on a generation counter
/// after a region ends, so back-to-back regions start without a kernel round-trip, then sleep on a semaphore
/// so an idle engine uses no CPU and never competes with other processes for long.
final class WorkerPool: @unchecked Sendable {
    /// Parts a region can be split into: the workers plus the calling thread.
    let parallelism: Int
    private let shared: SharedState
    /// Each part's remaining chunks in `runChunks`.
    private let shares: [ChunkShare]

    /// Starts `workers` threads (0 runs everything inline on the caller).
    init(workers: Int) {
        precondition(workers >= 0)
        parallelism = workers + 1
        shared = SharedState(workers: workers)
        shares = (0...workers).map { _ in ChunkShare() }
        for index in 0..<workers {
            let shared = shared
            let thread = Thread { shared.work(index: index) }
            thread.name = "seresnet-inference-\(index + 1)"
            thread.start()
        }
    }

    deinit { shared.shutDown() }

    /// Calls `body(part)` for every part in 0..<parts (parts ≤ parallelism), part 0 on the calling thread, and
    /// returns when all are done. Not reentrant: one region at a time (the engine is single-caller).
    func run(parts: Int, _ body: (Int) -> Void) {
        precondition(parts >= 1 && parts <= parallelism)
        if parts == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in
            shared.begin(parts: parts, body)
            body(0)
            shared.waitForWorkers()
        }
    }

    /// Calls `body(part, chunk)` for every chunk in 0..<chunks over `parts` parts (≤ parallelism), part 0 on the calling
    /// thread. Part p starts on the p-th contiguous share of the chunks; a part whose share is done takes chunks from the
    /// end of the others' (work stealing), so a core the host slows down holds the rest up by at most one chunk instead
    /// of its whole share. Which part runs a chunk varies from run to run: what a chunk computes must depend on the
    /// chunk alone (`part` only picks scratch).
    func runChunks(_ chunks: Int, parts: Int, _ body: (_ part: Int, _ chunk: Int) -> Void) {
        precondition(parts >= 1 && parts <= parallelism && chunks >= 0 && chunks <= Int(UInt32.max))
        if parts == 1 {
            for chunk in 0..<chunks { body(0, chunk) }
            return
        }
        for part in 0..<parts { shares[part].reset(chunks * part / parts..<chunks * (part + 1) / parts) }
        let shares = shares
        run(parts: parts) { part in
            while let chunk = shares[part].takeFirst() { body(part, chunk) }
            for offset in 1..<parts {
                while let chunk = shares[(part + offset) % parts].takeLast() { body(part, chunk) }
            }
        }
    }
}

/// One part's remaining chunks, first and end in one atomic word (first << 32 | end): the owner takes from the front,
/// the others from the back, each by compare-and-exchange, so a chunk is taken exactly once. Published to the workers
/// by the region's start (`SharedState.begin`), and the chunks' results to the caller by its end.
private final class ChunkShare: Sendable {
    let bounds = Atomic<UInt64>(0)
    /// Keeps two parts' words off one cache line (classes are allocated apart, this pads the object past 64 bytes).
    private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    func reset(_ range: Range<Int>) { bounds.store(UInt64(range.lowerBound) << 32 | UInt64(range.upperBound), ordering: .relaxed) }

    func takeFirst() -> Int? { take { first, end in first < end ? (first, (first + 1) << 32 | end) : nil } }

    func takeLast() -> Int? { take { first, end in first < end ? (end - 1, first << 32 | (end - 1)) : nil } }

    /// Applies `step` (chunk taken, new word, or nil when empty) until its exchange succeeds.
    private func take(_ step: (_ first: UInt64, _ end: UInt64) -> (UInt64, UInt64)?) -> Int? {
        var word = bounds.load(ordering: .relaxed)
        while true {
            guard let (chunk, next) = step(word >> 32, word & 0xFFFF_FFFF) else { return nil }
            let (exchanged, original) = bounds.compareExchange(expected: word, desired: next, ordering: .relaxed)
            if exchanged { return Int(chunk) }
            word = original
        }
    }
}

/// What the caller and the workers share. `job` and `parts` are written only while every worker is idle
/// (between `waitForWorkers` and the next generation bump) and published by the release store of `generation`.
private final class SharedState: @unchecked Sendable {
    /// Spins (generation polls) before a worker goes to sleep: about 27 µs on the project's Zen 4 (measured 2026-12-07;
    /// a batch-1 pass then lets the worker sleep about 3 times, and 10× the spins measured within the host's noise).
    static let spinsBeforeSleeping = 100_000

    let generation = Atomic<Int>(0)
    /// Workers that have not yet finished the current generation.
    let pending = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let slots: [WorkerSlot]
    var job: ((Int) -> Void)?
    var parts = 0

    init(workers: Int) { slots = (0..<workers).map { _ in WorkerSlot() } }

    /// Publishes a region and wakes sleeping workers. Every worker counts down `pending`, with or without a part,
    /// so none can still be reading `parts` when the next region overwrites it.
    func begin(parts: Int, _ body: @escaping (Int) -> Void) {
        job = body
        self.parts = parts
        pending.store(slots.count, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
    }

    /// Spins until every worker has finished its part, yielding the core if that takes long.
    func waitForWorkers() {
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 4_096 { sched_yield() }
        }
        job = nil
    }

    /// Tells every worker to return; called once, from the pool's deinit, while no region is running.
    func shutDown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
    }

    /// Signals each worker that announced it is sleeping (and clears its flag, so it is signalled once).
    private func wakeSleepers() {
        for slot in slots where slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) { slot.wake.signal() }
    }

    /// A worker's loop: wait for a new generation (spin, then sleep), run part `index + 1` if there is one.
    func work(index: Int) {
        let slot = slots[index]
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins >= Self.spinsBeforeSleeping {
                    // Announce the sleep, then re-check: either the caller sees the flag and signals, or we see its bump.
                    slot.sleeping.store(true, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) != seen {
                        if !slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) { slot.wake.wait() }
                    } else {
                        slot.wake.wait()
                    }
                    spins = 0
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            if index + 1 < parts, let job { job(index + 1) }
            pending.subtract(1, ordering: .releasing)
        }
    }
}

/// One worker's sleep flag and wake-up semaphore.
private final class WorkerSlot: Sendable {
    let sleeping = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)
}
