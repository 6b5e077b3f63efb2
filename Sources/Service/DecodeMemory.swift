import Foundation

/// The bytes decodes may hold at once (decoded frames, libjpeg's memory, preprocessing), when the service runs under a
/// memory limit (`MemoryBudget` in the executable sizes it from the cgroup's). Each decode reserves its footprint from
/// the JPEG header before allocating anything image-sized (`decodeJPEG`'s `admit`) and gives it back once the image is
/// preprocessed. A decode waits for room rather than failing (reservations are held only while a decoder thread works,
/// so room always comes back), up to a bound; one that could never fit is refused at once.
public final class DecodeMemory: @unchecked Sendable {
    private let condition = NSCondition()
    private var bytesLimit: Int
    private var held = 0
    private var peak = 0

    public init(limit: Int) { bytesLimit = limit }

    /// Bytes decodes may hold together.
    public var limit: Int {
        get { condition.withLock { bytesLimit } }
        set {
            condition.withLock {
                bytesLimit = newValue
                condition.broadcast()
            }
        }
    }

    /// What `reserve` decided.
    public enum Outcome: Equatable {
        case reserved
        /// More than `limit`: never possible.
        case neverFits
        /// Still no room after the wait.
        case timedOut
    }

    /// Takes `bytes`, waiting up to `wait` for other decodes to give theirs back.
    public func reserve(_ bytes: Int, wait: Duration) -> Outcome {
        let deadline = Date().addingTimeInterval(Double(wait.components.seconds) + Double(wait.components.attoseconds) * 1e-18)
        condition.lock()
        defer { condition.unlock() }
        while held + bytes > bytesLimit {
            if bytes > bytesLimit { return .neverFits }
            if !condition.wait(until: deadline) && held + bytes > bytesLimit { return .timedOut }
        }
        held += bytes
        peak = max(peak, held)
        return .reserved
    }

    public func release(_ bytes: Int) {
        condition.lock()
        held -= bytes
        condition.broadcast()
        condition.unlock()
    }

    /// Bytes held now, and the most held at once since start.
    public var usage: (held: Int, peak: Int) { condition.withLock { (held, peak) } }
}
