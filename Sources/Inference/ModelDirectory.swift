import COpenSSL
import Dispatch
import Foundation

/// What the engine needs from timm's `config.json` (the preprocessing half is read by `Imaging`).
public struct ModelConfig: Sendable {
    /// timm architecture name, e.g. "seresnet50".
    public let architecture: String
    /// Pretrained tag, e.g. "a1_in1k", if the config has one.
    public let tag: String?
    /// Input (channels, height, width) the weights were trained for (`pretrained_cfg.input_size`).
    public let inputSize: [Int]
    /// The file's raw bytes, for the image pipeline to read `pretrained_cfg` from.
    public let json: Data

    /// "architecture.tag" as timm and the Hugging Face hub name models, e.g. "seresnet50.a1_in1k".
    public var name: String { tag.map { "\(architecture).\($0)" } ?? architecture }

    /// Parses a config.json; `path` is used in error messages only.
    public init(json: Data, path: String) throws {
        guard let root = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw CheckpointError.badConfig(path: path, reason: "not a JSON object")
        }
        guard let architecture = root["architecture"] as? String else {
            throw CheckpointError.badConfig(path: path, reason: "missing string field 'architecture'")
        }
        let pretrained = root["pretrained_cfg"] as? [String: Any] ?? [:]
        let input = (pretrained["input_size"] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [3, 224, 224]
        guard input.count == 3, input.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
            throw CheckpointError.badConfig(
                path: path,
                reason: "pretrained_cfg.input_size must be [channels, height, width], found \(pretrained["input_size"] ?? "nothing")")
        }
        self.architecture = architecture
        self.tag = pretrained["tag"] as? String
        self.inputSize = input
        self.json = json
    }
}

/// A model directory in timm's Hugging Face layout: `config.json` + `model.safetensors`.
public struct ModelDirectory: Sendable {
    public let path: String
    public var configPath: String { (path as NSString).appendingPathComponent("config.json") }
    public var weightsPath: String { (path as NSString).appendingPathComponent("model.safetensors") }

    public init(path: String) { self.path = path }

    /// Reads and validates config and weights, folds BatchNorm and hashes the weights file (concurrently).
    public func load() throws -> LoadedModel {
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw CheckpointError.unreadable(
                path: configPath, reason: FileManager.default.fileExists(atPath: configPath) ? "cannot read file" : "no such file")
        }
        let config = try ModelConfig(json: configData, path: configPath)
        let file = try SafetensorsFile(path: weightsPath)
        // Hashing 100+ MB takes tens of milliseconds; overlap it with folding instead of adding it to start-up.
        let hashing = DispatchGroup()
        nonisolated(unsafe) var digest = ""
        DispatchQueue.global().async(group: hashing) { digest = SHA256.hexDigest(of: file) }
        let network: SEResNet
        do {
            network = try SEResNet(checkpoint: file)
        } catch {
            hashing.wait()
            throw error
        }
        hashing.wait()
        if config.inputSize[0] != network.architecture.inputChannels {
            throw CheckpointError.badConfig(
                path: configPath,
                reason: "input_size has \(config.inputSize[0]) channels but conv1.weight expects \(network.architecture.inputChannels)")
        }
        return LoadedModel(network: network, config: config, weightsSHA256: digest, weightsBytes: file.fileSize)
    }
}

/// A model ready to serve: the network, its config and the identity of its weights.
public struct LoadedModel: Sendable {
    public let network: SEResNet
    public let config: ModelConfig
    /// Lowercase hex SHA-256 of `model.safetensors`.
    public let weightsSHA256: String
    public let weightsBytes: Int

    /// Plans the network for `kernels` and `precision` and returns the plan with this model holding the plan's copy of the network
    /// (without the weights it packed). Consuming: the plan receives the only reference to the loaded network, so
    /// it frees each block's folded weights as it packs them and the two copies never coexist in full.
    /// `inputSize` (default: the config's `input_size`) is the only size the plan's engines will run (`NetworkPlan`).
    public consuming func planned(
        kernels: KernelSelection, precision: Precision = .fp32, calibration: CalibrationFile? = nil,
        inputSize: (height: Int, width: Int)? = nil
    ) -> (model: LoadedModel, plan: NetworkPlan) {
        let (network, config, weightsSHA256, weightsBytes) = (self.network, self.config, self.weightsSHA256, self.weightsBytes)
        _ = consume self
        let size = inputSize ?? (config.inputSize[1], config.inputSize[2])
        let plan = NetworkPlan(
            network: consume network, kernels: kernels, precision: precision, calibration: calibration, inputSize: size)
        return (LoadedModel(network: plan.network, config: config, weightsSHA256: weightsSHA256, weightsBytes: weightsBytes), plan)
    }
}

/// SHA-256 through OpenSSL's libcrypto (SHA-NI accelerated where the CPU has it).
public enum SHA256 {
    /// Hex digest of a mapped safetensors file, releasing its pages chunk by chunk as they are hashed.
    static func hexDigest(of file: SafetensorsFile) -> String {
        let all = file.fileBytes
        let chunk = 8 << 20
        var chunks: [UnsafeRawBufferPointer] = []
        var offset = 0
        while offset < all.count {
            chunks.append(UnsafeRawBufferPointer(rebasing: all[offset..<min(all.count, offset + chunk)]))
            offset += chunk
        }
        return hexDigest(chunks: chunks) { index in file.releaseRange(index * chunk, count: chunks[index].count) }
    }

    private static func hexDigest(chunks: [UnsafeRawBufferPointer], after: (Int) -> Void) -> String {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        for (index, chunk) in chunks.enumerated() {
            EVP_DigestUpdate(context, chunk.baseAddress, chunk.count)
            after(index)
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
