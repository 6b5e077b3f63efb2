/// A convolution with BatchNorm folded in: y = W ∗ x + b. Weights are PyTorch's (out, in, k, k) row-major,
/// which is exactly the (out) × (in·k·k) GEMM operand the im2col layout needs.
public struct ConvolutionLayer: Sendable {
    public let shape: ConvolutionShape
    /// Empty once a `NetworkPlan` has packed them (see `SEResNet.withoutWeights`).
    public let weights: [Float]
    public let bias: [Float]

    /// The same layer without its weights (its shape and bias stay).
    func withoutWeights() -> ConvolutionLayer { ConvolutionLayer(shape: shape, weights: [], bias: bias) }
}

/// Squeeze-and-excitation: s = σ(W2 · relu(W1 · mean_hw(x) + b1) + b2); y = x · s per channel.
public struct SqueezeExcitation: Sendable {
    public let channels: Int
    public let hidden: Int
    /// (hidden) × (channels); empty once a `NetworkPlan` has packed it, as `expandWeight`.
    public let reduceWeight: [Float]
    public let reduceBias: [Float]
    /// (channels) × (hidden)
    public let expandWeight: [Float]
    public let expandBias: [Float]
}

/// One bottleneck block with folded weights.
public struct Bottleneck: Sendable {
    public let spec: BottleneckSpec
    public let conv1: ConvolutionLayer
    public let conv2: ConvolutionLayer
    public let conv3: ConvolutionLayer
    public let downsample: ConvolutionLayer?
    public let squeezeExcitation: SqueezeExcitation?
}

/// A loaded (SE-)ResNet: immutable, BatchNorm folded into the convolutions, ready for `InferenceEngine`.
public struct SEResNet: Sendable {
    public static let batchNormEpsilon = 1e-5

    public let architecture: ResNetArchitecture
    public let stem: ConvolutionLayer
    public let stages: [[Bottleneck]]
    /// (classes) × (features). A `NetworkPlan` packs its own copy and keeps this one: class activation maps read it.
    public let classifierWeight: [Float]
    public let classifierBias: [Float]
    /// Parameters of the original checkpoint (BatchNorm affine included, running statistics not).
    public let parameterCount: Int

    /// The same network with its convolutions' and SE's weight matrices dropped (shapes and biases stay): what a
    /// `NetworkPlan` keeps once it has packed the weights into its own order, so they are not held twice. The
    /// classifier's weights stay (classes × features, 8 MB for ImageNet's SE-ResNet-50): class activation maps use them.
    func withoutWeights() -> SEResNet {
        SEResNet(
            architecture: architecture, stem: stem.withoutWeights(),
            stages: stages.map { blocks in
                blocks.map { block in
                    Bottleneck(
                        spec: block.spec, conv1: block.conv1.withoutWeights(), conv2: block.conv2.withoutWeights(),
                        conv3: block.conv3.withoutWeights(), downsample: block.downsample?.withoutWeights(),
                        squeezeExcitation: block.squeezeExcitation.map {
                            SqueezeExcitation(
                                channels: $0.channels, hidden: $0.hidden, reduceWeight: [], reduceBias: $0.reduceBias, expandWeight: [],
                                expandBias: $0.expandBias)
                        })
                }
            },
            classifierWeight: classifierWeight, classifierBias: classifierBias, parameterCount: parameterCount)
    }

    private init(
        architecture: ResNetArchitecture, stem: ConvolutionLayer, stages: [[Bottleneck]], classifierWeight: [Float],
        classifierBias: [Float],
        parameterCount: Int
    ) {
        self.architecture = architecture
        self.stem = stem
        self.stages = stages
        self.classifierWeight = classifierWeight
        self.classifierBias = classifierBias
        self.parameterCount = parameterCount
    }

    /// Validates every tensor of `file` against the architecture derived from it, then folds BatchNorm.
    /// Tensors are released from memory as they are consumed, so peak memory stays near one copy.
    public init(checkpoint file: SafetensorsFile) throws {
        var shapes: [String: [Int]] = [:]
        for (name, entry) in file.entries where !name.hasSuffix("num_batches_tracked") {
            shapes[name] = entry.shape
        }
        let architecture = try ResNetArchitecture.derive(from: shapes)
        let expected = architecture.expectedTensors
        var expectedNames = Set<String>()
        var parameters = 0
        for (name, shape) in expected {
            expectedNames.insert(name)
            guard let entry = file.entries[name] else { throw CheckpointError.missingTensor(tensor: name, expectedShape: shape) }
            guard entry.shape == shape else { throw CheckpointError.shapeMismatch(tensor: name, expected: shape, found: entry.shape) }
            guard [.f32, .f16, .bf16].contains(entry.dtype) else {
                throw CheckpointError.unsupportedDType(tensor: name, dtype: entry.dtype.rawValue)
            }
            if !name.hasSuffix("running_mean") && !name.hasSuffix("running_var") { parameters += entry.elementCount }
        }
        for (name, entry) in file.entries.sorted(by: { $0.key < $1.key }) where !expectedNames.contains(name) {
            if name.hasSuffix("num_batches_tracked") { continue }
            throw CheckpointError.unexpectedTensor(tensor: name, shape: entry.shape)
        }

        let reader = TensorReader(file: file)
        self.architecture = architecture
        self.parameterCount = parameters
        self.stem = try reader.foldedConvolution("conv1", batchNorm: "bn1", shape: architecture.stem)
        var stages: [[Bottleneck]] = []
        for (s, specs) in architecture.stages.enumerated() {
            var blocks: [Bottleneck] = []
            for (b, spec) in specs.enumerated() {
                let p = "layer\(s + 1).\(b)"
                var se: SqueezeExcitation?
                if let hidden = spec.seWidth {
                    se = SqueezeExcitation(
                        channels: spec.outChannels, hidden: hidden,
                        reduceWeight: try reader.take("\(p).se.fc1.weight"), reduceBias: try reader.take("\(p).se.fc1.bias"),
                        expandWeight: try reader.take("\(p).se.fc2.weight"), expandBias: try reader.take("\(p).se.fc2.bias"))
                }
                let conv2 = try reader.foldedConvolution("\(p).conv2", batchNorm: "\(p).bn2", shape: spec.conv2)
                blocks.append(
                    Bottleneck(
                        spec: spec,
                        conv1: try reader.foldedConvolution("\(p).conv1", batchNorm: "\(p).bn1", shape: spec.conv1),
                        conv2: conv2,
                        conv3: try reader.foldedConvolution("\(p).conv3", batchNorm: "\(p).bn3", shape: spec.conv3),
                        downsample: spec.hasDownsample
                            ? try reader.foldedConvolution("\(p).downsample.0", batchNorm: "\(p).downsample.1", shape: spec.downsample)
                            : nil,
                        squeezeExcitation: se))
            }
            stages.append(blocks)
        }
        self.stages = stages
        self.classifierWeight = try reader.take("fc.weight")
        self.classifierBias = try reader.take("fc.bias")
    }
}

/// Reads validated tensors as f32 and releases their pages once consumed.
private struct TensorReader {
    let file: SafetensorsFile

    func take(_ name: String) throws -> [Float] {
        let entry = file.entries[name]!
        let values = try file.floats(entry)
        file.release(entry)
        return values
    }

    /// conv(x) then BN: y = γ (W∗x − μ)/√(σ²+ε) + β = (W·s) ∗ x + (β − μ·s), s = γ/√(σ²+ε), computed in Double.
    func foldedConvolution(_ conv: String, batchNorm bn: String, shape: ConvolutionShape) throws -> ConvolutionLayer {
        var weights = try take("\(conv).weight")
        let gamma = try take("\(bn).weight")
        let beta = try take("\(bn).bias")
        let mean = try take("\(bn).running_mean")
        let variance = try take("\(bn).running_var")
        let perOutput = weights.count / shape.outChannels
        var bias = [Float](repeating: 0, count: shape.outChannels)
        for o in 0..<shape.outChannels {
            let scale = Double(gamma[o]) / (Double(variance[o]) + SEResNet.batchNormEpsilon).squareRoot()
            for i in o * perOutput..<(o + 1) * perOutput { weights[i] = Float(Double(weights[i]) * scale) }
            bias[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
        }
        return ConvolutionLayer(shape: shape, weights: weights, bias: bias)
    }
}
