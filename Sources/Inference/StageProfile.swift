import Dispatch

/// Wall time of each part of the forward pass — the stem, each stage's conv1, conv2, conv3, SE, downsample and
/// residual add, the head — summed over passes (`seresnet bench --profile`). Attach one to
/// `InferenceEngine.profile`; with none attached the engine does no timing at all.
public final class StageProfile {
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
        if let position = positions[name] {
            parts[position].milliseconds += milliseconds
        } else {
            positions[name] = parts.count
            parts.append((name, milliseconds))
        }
    }

    func endPass() { passes += 1 }
}
