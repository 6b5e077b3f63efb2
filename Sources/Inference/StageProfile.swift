import Dispatch

/// Wall time of each part of the forward pass — the stem, each stage's conv1, conv2, conv3, SE, downsample and
/// residual add, the head — summed over passes (`seresnet bench --profile`). Attach one to
/// `InferenceEngine.profile`; with none attached the engine does no timing at all.
public final class StageProfile: PartTimer {
    /// Parts in the order first seen, with their total milliseconds over `passes`.
    public private(set) var parts: [(name: String, milliseconds: Double)] = []
    public private(set) var passes = 0
    private var positions: [String: Int] = [:]
    private var last: UInt64 = 0

    public init() {}

    func beginPass() { last = DispatchTime.now().uptimeNanoseconds }

    /// Charges the time since the previous mark (or the start of the pass) to `name`.
    func mark(_ name: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let milliseconds = Double(now - last) / 1e6
        last = now
        charge(name, milliseconds)
    }

    func endPass() { passes += 1 }

    /// Charges the time since the previous mark to the parts the lanes timed while they ran side by side, in proportion
    /// to each part's time summed over the lanes: the parts still tile the pass.
    func spread(over lanes: [LaneProfile]) {
        let now = DispatchTime.now().uptimeNanoseconds
        let wall = Double(now - last) / 1e6
        last = now
        var names: [String] = []
        var totals: [String: Double] = [:]
        for lane in lanes {
            for (name, milliseconds) in lane.parts {
                if totals[name] == nil { names.append(name) }
                totals[name, default: 0] += milliseconds
            }
        }
        let sum = totals.values.reduce(0, +)
        guard sum > 0 else { return }
        for name in names { charge(name, wall * totals[name]! / sum) }
    }

    private func charge(_ name: String, _ milliseconds: Double) {
        if let position = positions[name] {
            parts[position].milliseconds += milliseconds
        } else {
            positions[name] = parts.count
            parts.append((name, milliseconds))
        }
    }
}

/// What the engine's forward pass marks its parts with.
protocol PartTimer: AnyObject {
    func mark(_ name: String)
}

/// One lane's part timings in one pass (`StageProfile.spread`): marked by the lane's own thread only.
final class LaneProfile: PartTimer, @unchecked Sendable {
    private(set) var parts: [(String, Double)] = []
    private(set) var active = false
    private var last: UInt64 = 0

    /// Starts a pass: clears the timings; `active` says whether the lane times its parts at all.
    func reset(active: Bool) {
        self.active = active
        parts.removeAll(keepingCapacity: true)
        last = DispatchTime.now().uptimeNanoseconds
    }

    func mark(_ name: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        parts.append((name, Double(now - last) / 1e6))
        last = now
    }
}
