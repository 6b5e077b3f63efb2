/// Why a model directory could not be loaded; every case names the file or tensor and what was expected.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file of the model directory is missing or could not be read.
    case unreadable(path: String, reason: String)
    /// The safetensors file ends before the header or a tensor it declares.
    case truncated(path: String, reason: String)
    /// The 8-byte header length is larger than the file or than any sane header (100 MB).
    case absurdHeaderLength(path: String, headerLength: UInt64, fileSize: Int)
    /// The safetensors header is not the JSON object the format requires.
    case malformedHeader(path: String, reason: String)
    /// One header entry is malformed (bad dtype, shape or offsets).
    case badTensorEntry(tensor: String, reason: String)
    /// A tensor's data offsets point outside the file's data section.
    case offsetOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// The architecture needs this tensor but the checkpoint lacks it.
    case missingTensor(tensor: String, expectedShape: [Int])
    /// The checkpoint holds a tensor the derived architecture does not use.
    case unexpectedTensor(tensor: String, shape: [Int])
    /// A tensor has a different shape from the one the architecture needs.
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    /// A tensor is stored in a dtype the engine does not read (only F32, F16 and BF16 are).
    case unsupportedDType(tensor: String, dtype: String)
    /// The checkpoint is not a ResNet/SE-ResNet with bottleneck blocks the engine can run.
    case unsupportedArchitecture(reason: String)
    /// config.json is missing a field or has one of the wrong type.
    case badConfig(path: String, reason: String)
    /// A calibration file that is not one `seresnet calibrate` writes (another format or version, a missing tensor…).
    case badCalibration(path: String, reason: String)
    /// A calibration file made for other weights.
    case calibrationForOtherWeights(path: String, calibrated: String, loaded: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .truncated(let path, let reason):
            return "\(path) is truncated: \(reason)"
        case .absurdHeaderLength(let path, let length, let size):
            return "\(path): header length \(length) does not fit a file of \(size) bytes (not a safetensors file?)"
        case .malformedHeader(let path, let reason):
            return "\(path): malformed safetensors header: \(reason)"
        case .badTensorEntry(let tensor, let reason):
            return "tensor '\(tensor)': \(reason)"
        case .offsetOutOfRange(let tensor, let begin, let end, let dataSize):
            return "tensor '\(tensor)': data offsets [\(begin), \(end)) fall outside the \(dataSize)-byte data section"
        case .missingTensor(let tensor, let shape):
            return "tensor '\(tensor)' is missing (expected shape \(shape)); is this a timm ResNet/SE-ResNet checkpoint?"
        case .unexpectedTensor(let tensor, let shape):
            return "unexpected tensor '\(tensor)' with shape \(shape): the derived ResNet/SE-ResNet architecture has no such parameter"
        case .shapeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .unsupportedDType(let tensor, let dtype):
            return "tensor '\(tensor)' has dtype \(dtype); only F32, F16 and BF16 are supported"
        case .unsupportedArchitecture(let reason):
            return "unsupported architecture: \(reason)"
        case .badConfig(let path, let reason):
            return "\(path): \(reason)"
        case .badCalibration(let path, let reason):
            return "\(path): not a usable calibration file: \(reason)"
        case .calibrationForOtherWeights(let path, let calibrated, let loaded):
            return
                "\(path) was made for weights with SHA-256 \(calibrated.prefix(12))…, not these (\(loaded.prefix(12))…); run seresnet calibrate again"
        }
    }
}
