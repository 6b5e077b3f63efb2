import Foundation

/// Why a model's preprocessing configuration was rejected; each case names the field and what is accepted.
public enum PreprocessConfigError: Error, Equatable, Sendable {
    /// The file is not JSON, or not a JSON object.
    case invalidJSON(String)
    /// config.json has no `pretrained_cfg` object (not a timm/Hugging Face model config).
    case missingPretrainedConfig
    /// A field is present but has the wrong type or an impossible value.
    case invalidField(name: String, reason: String)
    /// A field names a mode this pipeline does not implement.
    case unsupported(name: String, value: String, supported: [String])

    /// Operator-facing text naming the field and the fix.
    public var message: String {
        switch self {
        case .invalidJSON(let reason):
            return "config.json is not a JSON object: \(reason)"
        case .missingPretrainedConfig:
            return "config.json has no \"pretrained_cfg\" object; expected a timm model config as saved to the Hugging Face hub"
        case .invalidField(let name, let reason):
            return "pretrained_cfg.\(name) is invalid: \(reason)"
        case .unsupported(let name, let value, let supported):
            return "pretrained_cfg.\(name) = \"\(value)\" is not supported; supported: \(supported.joined(separator: ", "))"
        }
    }
}

/// How timm's eval transform cuts the resized image down to the model input.
public enum CropMode: String, Sendable {
    /// Resize the shorter side, then take the centre (timm's default).
    case center
}

/// timm's eval transform for one model, from its `pretrained_cfg`: resize the shorter side to
/// `floor(input / crop_pct)`, centre-crop to the input size, scale to [0, 1], normalize per channel.
public struct PreprocessConfig: Sendable, Equatable {
    /// Model input height in pixels (`input_size[1]`).
    public let inputHeight: Int
    /// Model input width in pixels (`input_size[2]`).
    public let inputWidth: Int
    /// Fraction of the resized image the crop keeps (`crop_pct`).
    public let cropPct: Double
    /// Resampling filter for the resize (`interpolation`).
    public let interpolation: Interpolation
    /// Per-channel RGB mean subtracted after scaling to [0, 1].
    public let mean: [Float]
    /// Per-channel RGB standard deviation divided by last.
    public let std: [Float]
    /// Crop policy (`crop_mode`).
    public let cropMode: CropMode
    /// `(v / 255 − mean[c]) / std[c]` for every 8-bit value, channel-major: exactly torchvision's float32
    /// ToTensor + Normalize arithmetic, looked up instead of recomputed per pixel.
    let normalizationTable: [Float]

    /// Target of the shorter-side resize: `floor(input_size / crop_pct)` as timm computes it (235 for 224/0.95).
    public var resizeShorterSide: Int { Int((Double(inputHeight) / cropPct).rounded(.down)) }

    /// Floats one preprocessed image occupies: 3 × height × width (CHW).
    public var outputCount: Int { 3 * inputHeight * inputWidth }

    /// A validated configuration. Non-square inputs are refused: timm switches to a different resize
    /// (`ResizeKeepRatio`, bilinear) for them, which this pipeline does not reproduce.
    public init(
        inputHeight: Int, inputWidth: Int, cropPct: Double, interpolation: Interpolation = .bicubic,
        mean: [Float], std: [Float], cropMode: CropMode = .center
    ) throws {
        guard inputHeight > 0, inputWidth > 0, inputHeight <= 4096, inputWidth <= 4096 else {
            throw PreprocessConfigError.invalidField(
                name: "input_size", reason: "height and width must be in 1...4096, got \(inputHeight)×\(inputWidth)")
        }
        guard inputHeight == inputWidth else {
            throw PreprocessConfigError.unsupported(
                name: "input_size", value: "[3, \(inputHeight), \(inputWidth)]", supported: ["square sizes [3, N, N]"])
        }
        guard cropPct.isFinite, cropPct > 0, Double(inputHeight) / cropPct <= 16384 else {
            throw PreprocessConfigError.invalidField(name: "crop_pct", reason: "must be a positive number, got \(cropPct)")
        }
        guard mean.count == 3, mean.allSatisfy(\.isFinite) else {
            throw PreprocessConfigError.invalidField(name: "mean", reason: "expected 3 finite numbers (RGB), got \(mean)")
        }
        guard std.count == 3, std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
            throw PreprocessConfigError.invalidField(name: "std", reason: "expected 3 finite non-zero numbers (RGB), got \(std)")
        }
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.cropPct = cropPct
        self.interpolation = interpolation
        self.mean = mean
        self.std = std
        self.cropMode = cropMode
        var table = [Float](repeating: 0, count: 3 * 256)
        for channel in 0..<3 {
            for value in 0..<256 {
                table[channel * 256 + value] = (Float(value) / 255 - mean[channel]) / std[channel]
            }
        }
        normalizationTable = table
    }

    /// Reads `pretrained_cfg` from a model's config.json. Missing fields take timm's `resolve_data_config`
    /// defaults: input 3×224×224, crop_pct 0.875, bicubic, ImageNet mean/std, centre crop.
    public init(configJSON: Data) throws {
        let file: ConfigFile
        do {
            file = try JSONDecoder().decode(ConfigFile.self, from: configJSON)
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            let name = path.drop { $0 == "pretrained_cfg" }.joined(separator: ".")
            throw PreprocessConfigError.invalidField(name: name.isEmpty ? "(root)" : name, reason: context.debugDescription)
        } catch {
            throw PreprocessConfigError.invalidJSON(String(describing: error))
        }
        guard let cfg = file.pretrainedCfg else { throw PreprocessConfigError.missingPretrainedConfig }

        let size = cfg.inputSize ?? [3, 224, 224]
        guard size.count == 3, size.allSatisfy({ $0 == $0.rounded() && $0 >= 1 && $0 <= 4096 }) else {
            throw PreprocessConfigError.invalidField(name: "input_size", reason: "expected [channels, height, width], got \(size)")
        }
        guard size[0] == 3 else {
            throw PreprocessConfigError.unsupported(name: "input_size", value: "\(Int(size[0])) channels", supported: ["3 (RGB)"])
        }
        let interpolationName = cfg.interpolation ?? "bicubic"
        guard let interpolation = Interpolation(rawValue: interpolationName) else {
            throw PreprocessConfigError.unsupported(
                name: "interpolation", value: interpolationName, supported: Interpolation.allCases.map(\.rawValue))
        }
        let cropModeName = cfg.cropMode ?? "center"
        guard let cropMode = CropMode(rawValue: cropModeName) else {
            throw PreprocessConfigError.unsupported(name: "crop_mode", value: cropModeName, supported: ["center"])
        }
        try self.init(
            inputHeight: Int(size[1]), inputWidth: Int(size[2]),
            cropPct: cfg.cropPct ?? 0.875,
            interpolation: interpolation,
            mean: (cfg.mean ?? [0.485, 0.456, 0.406]).map { Float($0) },
            std: (cfg.std ?? [0.229, 0.224, 0.225]).map { Float($0) },
            cropMode: cropMode)
    }
}

/// The part of a Hugging Face timm config.json this pipeline reads; every other key is ignored.
private struct ConfigFile: Decodable {
    let pretrainedCfg: PretrainedCfg?

    enum CodingKeys: String, CodingKey {
        case pretrainedCfg = "pretrained_cfg"
    }
}

/// `pretrained_cfg` fields that shape the eval transform; absent or null fields decode as nil.
private struct PretrainedCfg: Decodable {
    let inputSize: [Double]?
    let cropPct: Double?
    let interpolation: String?
    let mean: [Double]?
    let std: [Double]?
    let cropMode: String?

    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size"
        case cropPct = "crop_pct"
        case interpolation
        case mean
        case std
        case cropMode = "crop_mode"
    }
}
