import Foundation

/// Which traces are recorded, as the OpenTelemetry SDK specification names its built-in samplers
/// (`OTEL_TRACES_SAMPLER`): `always_on`, `always_off`, `traceidratio`, and each as the root sampler of `parentbased_…`,
/// which follows the caller's sampled flag when there is a caller (the default: `parentbased_always_on`).
public struct Sampler: Sendable, Equatable, CustomStringConvertible {
    public enum Root: Sendable, Equatable {
        case alwaysOn
        case alwaysOff
        /// A fraction in 0…1 of trace IDs, decided from the trace ID alone so every service in the trace agrees.
        case traceIDRatio(Double)
    }

    public let root: Root
    /// Whether a caller's sampled flag decides (the `parentbased_` samplers).
    public let parentBased: Bool

    public init(root: Root, parentBased: Bool) {
        self.root = root
        self.parentBased = parentBased
    }

    public static let `default` = Sampler(root: .alwaysOn, parentBased: true)

    /// From `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (the ratio; 1.0 when absent, as the specification says).
    public init(name: String, argument: String?) throws(TelemetryError) {
        let lowered = name.lowercased()
        parentBased = lowered.hasPrefix("parentbased_")
        switch parentBased ? String(lowered.dropFirst("parentbased_".count)) : lowered {
        case "always_on": root = .alwaysOn
        case "always_off": root = .alwaysOff
        case "traceidratio":
            let ratio = argument.map { Double($0.trimmingCharacters(in: .whitespaces)) } ?? 1.0
            guard let ratio, ratio >= 0, ratio <= 1 else {
                throw .invalidSetting(name: "OTEL_TRACES_SAMPLER_ARG", value: argument ?? "", reason: "must be a ratio from 0 to 1")
            }
            root = .traceIDRatio(ratio)
        default:
            throw .invalidSetting(
                name: "OTEL_TRACES_SAMPLER", value: name,
                reason:
                    "must be always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
            )
        }
    }

    /// Whether a trace is sampled: the caller's flag for `parentbased_` samplers with a caller, else the root sampler's
    /// verdict on the trace ID. The ratio compares the trace ID's last 8 bytes (big-endian, shifted right once) with
    /// ratio · 2⁶³, as OpenTelemetry's Go and Java SDKs do.
    public func shouldSample(traceID: [UInt8], parentSampled: Bool?) -> Bool {
        if parentBased, let parentSampled { return parentSampled }
        switch root {
        case .alwaysOn: return true
        case .alwaysOff: return false
        case .traceIDRatio(let ratio):
            let value = traceID[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } >> 1
            return value < UInt64(ratio * 0x1p63)
        }
    }

    public var description: String {
        let rootName: String
        switch root {
        case .alwaysOn: rootName = "always_on"
        case .alwaysOff: rootName = "always_off"
        case .traceIDRatio(let ratio): rootName = "traceidratio(\(ratio))"
        }
        return parentBased ? "parentbased_" + rootName : rootName
    }
}
