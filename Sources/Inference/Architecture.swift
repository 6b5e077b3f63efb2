/// Geometry of one convolution: (N, inChannels, H, W) → (N, outChannels, H', W').
public struct ConvolutionShape: Sendable, Equatable {
    public let outChannels: Int
    public let inChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int

    /// PyTorch weight shape (out, in, k, k).
    public var weightShape: [Int] { [outChannels, inChannels, kernel, kernel] }
    /// Output side for an input side (PyTorch's floor rule).
    public func outputSide(_ input: Int) -> Int { (input + 2 * padding - kernel) / stride + 1 }
}

/// One bottleneck block of a (SE-)ResNet, timm/ResNet-v1.5 style (the stride sits on the 3×3 conv).
public struct BottleneckSpec: Sendable, Equatable {
    public let inChannels: Int
    public let width: Int
    public let outChannels: Int
    public let stride: Int
    /// Whether the shortcut is a 1×1 conv (with the block's stride) + BN instead of the identity.
    public let hasDownsample: Bool
    /// Hidden width of the squeeze-excitation MLP, or nil for a block without SE.
    public let seWidth: Int?

    public var conv1: ConvolutionShape { ConvolutionShape(outChannels: width, inChannels: inChannels, kernel: 1, stride: 1, padding: 0) }
    public var conv2: ConvolutionShape { ConvolutionShape(outChannels: width, inChannels: width, kernel: 3, stride: stride, padding: 1) }
    public var conv3: ConvolutionShape { ConvolutionShape(outChannels: outChannels, inChannels: width, kernel: 1, stride: 1, padding: 0) }
    public var downsample: ConvolutionShape {
        ConvolutionShape(outChannels: outChannels, inChannels: inChannels, kernel: 1, stride: stride, padding: 0)
    }
}

/// A ResNet/SE-ResNet with bottleneck blocks, as derived from a checkpoint's tensor names and shapes.
public struct ResNetArchitecture: Sendable, Equatable {
    public let inputChannels: Int
    public let stemWidth: Int
    public let stages: [[BottleneckSpec]]
    public let numClasses: Int

    /// Blocks per stage, e.g. [3, 4, 6, 3] for SE-ResNet-50.
    public var depths: [Int] { stages.map(\.count) }
    /// Output channels per stage, e.g. [256, 512, 1024, 2048].
    public var stageOutputs: [Int] { stages.map { $0.last!.outChannels } }
    /// Bottleneck (3×3) width per stage, e.g. [64, 128, 256, 512].
    public var stageWidths: [Int] { stages.map { $0[0].width } }
    /// Channels entering the classifier.
    public var featureCount: Int { stages.last!.last!.outChannels }
    /// Whether every block has squeeze-excitation (false for a plain ResNet).
    public var hasSqueezeExcitation: Bool { stages.allSatisfy { $0.allSatisfy { $0.seWidth != nil } } }
    public var stem: ConvolutionShape {
        ConvolutionShape(outChannels: stemWidth, inChannels: inputChannels, kernel: 7, stride: 2, padding: 3)
    }

    /// Every parameter tensor the architecture needs, with its shape (BN tensors included, buffers too).
    public var expectedTensors: [(name: String, shape: [Int])] {
        var tensors: [(String, [Int])] = []
        func batchNorm(_ prefix: String, _ channels: Int) {
            for field in ["weight", "bias", "running_mean", "running_var"] { tensors.append(("\(prefix).\(field)", [channels])) }
        }
        tensors.append(("conv1.weight", stem.weightShape))
        batchNorm("bn1", stemWidth)
        for (s, stage) in stages.enumerated() {
            for (b, block) in stage.enumerated() {
                let p = "layer\(s + 1).\(b)"
                tensors.append(("\(p).conv1.weight", block.conv1.weightShape))
                batchNorm("\(p).bn1", block.width)
                tensors.append(("\(p).conv2.weight", block.conv2.weightShape))
                batchNorm("\(p).bn2", block.width)
                tensors.append(("\(p).conv3.weight", block.conv3.weightShape))
                batchNorm("\(p).bn3", block.outChannels)
                if let rd = block.seWidth {
                    tensors.append(("\(p).se.fc1.weight", [rd, block.outChannels, 1, 1]))
                    tensors.append(("\(p).se.fc1.bias", [rd]))
                    tensors.append(("\(p).se.fc2.weight", [block.outChannels, rd, 1, 1]))
                    tensors.append(("\(p).se.fc2.bias", [block.outChannels]))
                }
                if block.hasDownsample {
                    tensors.append(("\(p).downsample.0.weight", block.downsample.weightShape))
                    batchNorm("\(p).downsample.1", block.outChannels)
                }
            }
        }
        tensors.append(("fc.weight", [numClasses, featureCount]))
        tensors.append(("fc.bias", [numClasses]))
        return tensors
    }

    /// Derives the architecture from tensor names and shapes (`layerS.B.` keys give the depths, shapes the
    /// widths, `se.*` keys the SE widths, `fc.weight` the classes).
    public static func derive(from shapes: [String: [Int]]) throws -> ResNetArchitecture {
        func shape(_ name: String, rank: Int) throws -> [Int] {
            guard let found = shapes[name] else {
                throw CheckpointError.missingTensor(tensor: name, expectedShape: [])
            }
            guard found.count == rank else {
                throw CheckpointError.unsupportedArchitecture(
                    reason: "'\(name)' has rank \(found.count) (shape \(found)), expected rank \(rank)")
            }
            return found
        }
        if shapes["conv1.0.weight"] != nil {
            throw CheckpointError.unsupportedArchitecture(
                reason: "deep stem ('conv1.0.weight', ResNet-D/C variants) is not supported; expected a 7×7 'conv1.weight'")
        }
        let stem = try shape("conv1.weight", rank: 4)
        guard stem[2] == 7, stem[3] == 7 else {
            throw CheckpointError.shapeMismatch(tensor: "conv1.weight", expected: [stem[0], stem[1], 7, 7], found: stem)
        }

        // Stage and block indices present in the names: layer1.0.…, layer1.1.…, layer2.0.…
        var blockCounts: [Int: Int] = [:]
        for name in shapes.keys where name.hasPrefix("layer") {
            let parts = name.split(separator: ".")
            guard parts.count >= 3, let stage = Int(parts[0].dropFirst(5)), let block = Int(parts[1]), stage >= 1, block >= 0 else {
                throw CheckpointError.unsupportedArchitecture(reason: "cannot read stage/block indices from tensor name '\(name)'")
            }
            blockCounts[stage] = max(blockCounts[stage] ?? 0, block + 1)
        }
        guard !blockCounts.isEmpty else {
            throw CheckpointError.unsupportedArchitecture(reason: "no 'layerN.M.' tensors: not a ResNet checkpoint")
        }
        let stageCount = blockCounts.keys.max()!
        guard stageCount <= 8, blockCounts.values.allSatisfy({ $0 <= 256 }) else {
            throw CheckpointError.unsupportedArchitecture(
                reason: "implausible depth \(blockCounts.sorted { $0.key < $1.key }.map(\.value))")
        }

        var stages: [[BottleneckSpec]] = []
        var channels = stem[0]
        for s in 1...stageCount {
            guard let depth = blockCounts[s] else {
                throw CheckpointError.missingTensor(tensor: "layer\(s).0.conv1.weight", expectedShape: [])
            }
            var blocks: [BottleneckSpec] = []
            for b in 0..<depth {
                let p = "layer\(s).\(b)"
                if shapes["\(p).conv3.weight"] == nil, shapes["\(p).conv2.weight"] != nil {
                    throw CheckpointError.unsupportedArchitecture(
                        reason: "'\(p)' has no conv3: basic blocks (ResNet-18/34) are not supported, only bottlenecks")
                }
                let conv1 = try shape("\(p).conv1.weight", rank: 4)
                let conv2 = try shape("\(p).conv2.weight", rank: 4)
                let conv3 = try shape("\(p).conv3.weight", rank: 4)
                let width = conv1[0]
                if conv2[1] != width, conv2[1] > 0, width % conv2[1] == 0, conv2[2] == 3, conv2[3] == 3 {
                    throw CheckpointError.unsupportedArchitecture(
                        reason: "'\(p).conv2.weight' \(conv2) is a grouped convolution (ResNeXt); not supported")
                }
                var seWidth: Int?
                if shapes["\(p).se.fc1.weight"] != nil {
                    seWidth = try shape("\(p).se.fc1.weight", rank: 4)[0]
                }
                let hasDownsample = shapes["\(p).downsample.0.weight"] != nil
                let stride = (s > 1 && b == 0) ? 2 : 1
                if (stride != 1 || channels != conv3[0]) && !hasDownsample {
                    throw CheckpointError.missingTensor(tensor: "\(p).downsample.0.weight", expectedShape: [conv3[0], channels, 1, 1])
                }
                blocks.append(
                    BottleneckSpec(
                        inChannels: channels, width: width, outChannels: conv3[0],
                        stride: stride, hasDownsample: hasDownsample, seWidth: seWidth))
                channels = conv3[0]
            }
            stages.append(blocks)
        }
        let fc = try shape("fc.weight", rank: 2)
        return ResNetArchitecture(inputChannels: stem[1], stemWidth: stem[0], stages: stages, numClasses: fc[0])
    }
}
