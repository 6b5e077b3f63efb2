import Foundation

/// Seeded random checkpoints in timm's Hugging Face layout, for trying and testing without real weights.
public enum SyntheticWeights {
    /// Architectures `synth-weights` can make.
    public enum Preset: String, CaseIterable, Sendable {
        case seresnet50, seresnet101, seresnet152, resnet50, tiny

        /// Stem width, bottleneck widths, depths, SE or not — timm's definitions (tiny: the fixture's shape).
        public var architecture: ResNetArchitecture {
            let depths: [Int]
            let widths: [Int]
            let se: Bool
            switch self {
            case .seresnet50: (depths, widths, se) = ([3, 4, 6, 3], [64, 128, 256, 512], true)
            case .seresnet101: (depths, widths, se) = ([3, 4, 23, 3], [64, 128, 256, 512], true)
            case .seresnet152: (depths, widths, se) = ([3, 8, 36, 3], [64, 128, 256, 512], true)
            case .resnet50: (depths, widths, se) = ([3, 4, 6, 3], [64, 128, 256, 512], false)
            case .tiny: (depths, widths, se) = ([3, 4, 6, 3], [16, 32, 64, 128], true)
            }
            var channels = 64
            var stages: [[BottleneckSpec]] = []
            for (s, (depth, width)) in zip(depths, widths).enumerated() {
                stages.append(
                    (0..<depth).map { b in
                        let out = width * 4
                        // timm's SEModule: rd_channels = make_divisible(channels / 16, 8)
                        let reduced = max(8, (out / 16 + 4) / 8 * 8)
                        let spec = BottleneckSpec(
                            inChannels: b == 0 ? channels : out, width: width, outChannels: out,
                            stride: (s > 0 && b == 0) ? 2 : 1, hasDownsample: b == 0,
                            seWidth: se ? reduced : nil)
                        return spec
                    })
                channels = width * 4
            }
            return ResNetArchitecture(inputChannels: 3, stemWidth: 64, stages: stages, numClasses: 1000)
        }

        /// timm's model name for config.json.
        public var timmName: String { self == .tiny ? "seresnet50_tiny_test" : rawValue }
    }

    /// The spread of logits `conditioned` models are scaled to: a confident classifier's (per image, the standard
    /// deviation over the classes, averaged over `conditioningImages` seeded noise images).
    public static let conditionedLogitSpread: Float = 3
    /// How many seeded noise images measure the spread.
    static let conditioningImages = 4

    /// Writes `model.safetensors` and `config.json` for `preset` with weights drawn from `seed`.
    /// Convolutions get He-normal weights and every BatchNorm non-trivial statistics, so activations stay in
    /// a realistic range through the whole depth and the logits are far from uniform.
    ///
    /// `conditioned` makes a network as well-conditioned as a trained one, for judging reduced precision (a seeded random
    /// network is chaotic: rounding differences grow through its depth): every bottleneck's last BatchNorm (bn3) has its
    /// scale and shift multiplied by 0.2, as trained ResNets' small bn3 gammas are, and the classifier's weight and bias
    /// are rescaled so the logits spread like a confident classifier's (`conditionedLogitSpread`, measured with the fp32
    /// engine on seeded noise images).
    public static func write(preset: Preset, seed: UInt64, conditioned: Bool = false, to directory: String) throws {
        var random = SeededRandom(seed: seed)
        var writer = SafetensorsWriter()
        writer.metadata = [
            "format": "pt", "seresnet.synthetic": "preset=\(preset.rawValue) seed=\(seed)\(conditioned ? " conditioned" : "")",
        ]
        let architecture = preset.architecture
        var classifier: (weight: [Float], bias: [Float]) = ([], [])
        for (name, shape) in architecture.expectedTensors {
            let count = shape.reduce(1, *)
            let field = name.split(separator: ".").last!
            let isBatchNorm =
                ["running_mean", "running_var"].contains(field) || (shape.count == 1 && !name.contains("se.") && !name.hasPrefix("fc."))
            var values = [Float](repeating: 0, count: count)
            switch field {
            case "weight" where shape.count == 4:
                let fanIn = shape[1] * shape[2] * shape[3]
                let std = (2 / Double(fanIn)).squareRoot()
                for i in 0..<count { values[i] = Float(random.normal() * std) }
            case "weight" where shape.count == 2:
                let std = 1 / Double(shape[1]).squareRoot()
                for i in 0..<count { values[i] = Float(random.normal() * std) }
            case "weight" where isBatchNorm:
                // The last BN of a residual branch is a little smaller so depth does not blow activations up.
                // These ranges (with small shifts below) were tuned against onnxruntime so that logits depend
                // clearly on the input (different images, different top-5) at a realistic scale (std ≈ 2).
                let last = name.contains(".bn3.") || name.contains("downsample.1")
                for i in 0..<count { values[i] = Float(last ? random.uniform(0.5, 1.0) : random.uniform(0.5, 1.5)) }
            case "bias" where isBatchNorm:
                for i in 0..<count { values[i] = Float(random.normal() * 0.01) }
            case "bias":
                for i in 0..<count { values[i] = Float(random.normal() * 0.1) }
            case "running_mean":
                for i in 0..<count { values[i] = Float(random.normal() * 0.01) }
            case "running_var":
                for i in 0..<count { values[i] = Float(random.uniform(0.5, 2.0)) }
            default:
                preconditionFailure("unhandled synthetic tensor \(name)")
            }
            if conditioned && name.contains(".bn3.") && (field == "weight" || field == "bias") {
                for i in 0..<count { values[i] *= 0.2 }
            }
            if name == "fc.weight" { classifier.weight = values }
            if name == "fc.bias" { classifier.bias = values }
            writer.add(name, shape: shape, values: values)
            if field == "running_var" {
                writer.add(name.replacingOccurrences(of: "running_var", with: "num_batches_tracked"), shape: [], integers: [0])
            }
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let model = ModelDirectory(path: directory)
        // config.json first: each file is written atomically, so a directory that has model.safetensors is complete
        // even if an earlier run was killed half-way (scripts/quickstart.sh checks for that file).
        try config(preset: preset, seed: seed, conditioned: conditioned).write(
            to: URL(fileURLWithPath: model.configPath), options: .atomic)
        try writer.serialized().write(to: URL(fileURLWithPath: model.weightsPath), options: .atomic)
        guard conditioned else { return }
        // Measure the logits' spread with these weights, then write the classifier rescaled to the target spread.
        let factor = conditionedLogitSpread / (try logitSpread(of: model))
        writer.replace("fc.weight", values: classifier.weight.map { $0 * factor })
        writer.replace("fc.bias", values: classifier.bias.map { $0 * factor })
        try writer.serialized().write(to: URL(fileURLWithPath: model.weightsPath), options: .atomic)
    }

    /// Per image, the standard deviation of the logits over the classes, averaged over `conditioningImages` seeded noise
    /// images (uniform in the normalized input's range), with the fp32 engine.
    static func logitSpread(of model: ModelDirectory) throws -> Float {
        let loaded = try model.load()
        let size = loaded.config.inputSize
        let images = conditioningImages
        let engine = InferenceEngine(
            network: loaded.network, inputHeight: size[1], inputWidth: size[2], maxBatch: images, threads: 1, kernels: .auto)
        var random = SeededRandom(seed: 0x5EED)
        for slot in 0..<images {
            let values = engine.inputSlot(slot)
            for i in 0..<values.count { values[i] = Float(random.uniform(-2, 2.5)) }
        }
        let logits = engine.run(batch: images)
        let classes = engine.numClasses
        var total: Double = 0
        for image in 0..<images {
            let row = (0..<classes).map { Double(logits[image * classes + $0]) }
            let mean = row.reduce(0, +) / Double(classes)
            total += (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(classes)).squareRoot()
        }
        return Float(total / Double(images))
    }

    /// config.json exactly as timm's `save_for_hf` lays it out, with timm's pretrained_cfg for seresnet50.
    static func config(preset: Preset, seed: UInt64, conditioned: Bool = false) throws -> Data {
        let architecture = preset.architecture
        let object: [String: Any] = [
            "architecture": preset.timmName,
            "num_classes": architecture.numClasses,
            "num_features": architecture.featureCount,
            "global_pool": "avg",
            "model_args": ["in_chans": 3, "num_classes": architecture.numClasses, "global_pool": "avg"],
            "pretrained_cfg": [
                "tag": "synthetic_seed\(seed)\(conditioned ? "_conditioned" : "")",
                "custom_load": false,
                "input_size": [3, 224, 224],
                "test_input_size": [3, 288, 288],
                "fixed_input_size": false,
                "interpolation": "bicubic",
                "crop_pct": 0.95,
                "test_crop_pct": 1.0,
                "crop_mode": "center",
                "mean": [0.485, 0.456, 0.406],
                "std": [0.229, 0.224, 0.225],
                "num_classes": architecture.numClasses,
                "pool_size": [7, 7],
                "first_conv": "conv1",
                "classifier": "fc",
                "license": "apache-2.0",
            ] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}

/// SplitMix64: a tiny, well-mixed seeded generator (same seed → same weights on every machine).
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = max(unit(), 0x1.0p-53)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * unit())
    }
}
