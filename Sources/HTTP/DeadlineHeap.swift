/// The connections' next deadlines (header, body, keep-alive, write, drain, linger timeouts) in a binary min-heap
/// indexed by connection, so the event loop finds what is due in O(1), and moving or dropping one connection's
/// deadline (every request moves its keep-alive deadline) costs O(log n) with no stale entries left behind. Idle
/// connections cost nothing per turn: the loop sleeps until the earliest deadline.
struct DeadlineHeap {
    typealias Instant = ContinuousClock.Instant

    private var entries: [(deadline: Instant, id: UInt64)] = []
    private var positions: [UInt64: Int] = [:]

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The earliest deadline and its connection.
    var first: (deadline: Instant, id: UInt64)? { entries.first }

    /// The deadline `id` is filed under, if any.
    func deadline(of id: UInt64) -> Instant? { positions[id].map { entries[$0].deadline } }

    /// Files `id` under `deadline`, replacing its previous one; nil removes it.
    mutating func set(_ id: UInt64, to deadline: Instant?) {
        guard let deadline else { return remove(id) }
        if let i = positions[id] {
            let earlier = deadline < entries[i].deadline
            entries[i].deadline = deadline
            if earlier { siftUp(i) } else { siftDown(i) }
        } else {
            entries.append((deadline, id))
            positions[id] = entries.count - 1
            siftUp(entries.count - 1)
        }
    }

    /// Forgets `id`.
    mutating func remove(_ id: UInt64) {
        guard let i = positions.removeValue(forKey: id) else { return }
        let last = entries.removeLast()
        guard i < entries.count else { return }
        let moved = last.deadline < entries[i].deadline
        entries[i] = last
        positions[last.id] = i
        if moved { siftUp(i) } else { siftDown(i) }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(at now: Instant) -> UInt64? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        remove(first.id)
        return first.id
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard entries[i].deadline < entries[parent].deadline else { break }
            swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1
            let right = left + 1
            var smallest = i
            if left < entries.count && entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count && entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != i else { return }
            swapAt(i, smallest)
            i = smallest
        }
    }

    private mutating func swapAt(_ i: Int, _ j: Int) {
        entries.swapAt(i, j)
        positions[entries[i].id] = i
        positions[entries[j].id] = j
    }
}
