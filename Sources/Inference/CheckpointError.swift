/// Why a model directory could not be loaded; every case names the file or tensor and what was expected.
public enum CheckpointError: Error, Equatable, Sendable {
    /// A file of the model directory could not be opened or read.
    case unreadable(path: String, reason: String)
}
