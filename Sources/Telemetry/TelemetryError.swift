/// The one error type of the telemetry layer: a tracing setting that cannot be used (start-up refuses it).
public enum TelemetryError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidSetting(name: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .invalidSetting(let name, let value, let reason): return "\(name)=\(value): \(reason)"
        }
    }
}
