import CBLAS
import Foundation

/// Runs an `SEResNet` on batches of up to `maxBatch` images of a fixed input size.
///
/// Plan once, run many: every activation buffer for `maxBatch` lives in one workspace allocated here, so
/// `run` allocates nothing. Not thread-safe: one engine serves one batch at a time (the service owns it).
/// Activations are kept channel-major over the batch, (C, N, H, W), so each 1×1 convolution is one GEMM
/// over all images; the input slots are ordinary (N, 3, H, W) images for the image pipeline to fill.
public final class InferenceEngine {
    public let network: SEResNet
    public let maxBatch: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let threads: Int
    /// Multiply-accumulates of one image's forward pass.
    public let multiplyAccumulatesPerImage: Int

    private let loop: ParallelLoop
    private let input: UnsafeMutablePointer<Float>
    private let logits: UnsafeMutablePointer<Float>
    private let workspace: Workspace

    /// Plans geometry and allocates the workspace. `threads` sets OpenBLAS's (process-wide) thread count too.
    public init(network: SEResNet, inputHeight: Int, inputWidth: Int, maxBatch: Int, threads: Int) {
        precondition(maxBatch >= 1 && threads >= 1 && inputHeight >= 1 && inputWidth >= 1)
        self.network = network
        self.maxBatch = maxBatch
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.threads = threads
        self.loop = ParallelLoop(threads: threads)
        openblas_set_num_threads(Int32(threads))
        let architecture = network.architecture
        input = .allocate(capacity: maxBatch * architecture.inputChannels * inputHeight * inputWidth)
        input.initialize(repeating: 0, count: maxBatch * architecture.inputChannels * inputHeight * inputWidth)
        logits = .allocate(capacity: maxBatch * architecture.numClasses)
        workspace = Workspace(network: network, height: inputHeight, width: inputWidth, batch: maxBatch)
        multiplyAccumulatesPerImage = Self.multiplyAccumulates(network, height: inputHeight, width: inputWidth)
    }

    deinit {
        input.deallocate()
        logits.deallocate()
        workspace.deallocate()
    }

    /// Values per input image: channels × height × width.
    public var inputSize: Int { network.architecture.inputChannels * inputHeight * inputWidth }
    public var numClasses: Int { network.architecture.numClasses }

    /// The (C, H, W) float buffer of batch slot `index`, to be filled before `run`.
    public func inputSlot(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(index >= 0 && index < maxBatch)
        return UnsafeMutableBufferPointer(start: input + index * inputSize, count: inputSize)
    }

    /// Runs the first `batch` slots; returns (batch × classes) logits, valid until the next `run`.
    @discardableResult
    public func run(batch: Int) -> UnsafeBufferPointer<Float> {
        precondition(batch >= 1 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        forward(batch: batch)
        return UnsafeBufferPointer(start: logits, count: batch * numClasses)
    }

    /// Convenience: copies `images` ((batch, C, H, W) floats) into the slots, runs, returns a copy of the logits.
    public func classify(_ images: [Float], batch: Int) -> [Float] {
        precondition(images.count == batch * inputSize)
        images.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: images.count) }
        return Array(run(batch: batch))
    }

    private func forward(batch n: Int) {
        let w = workspace
        let architecture = network.architecture
        var height = inputHeight, width = inputWidth

        // Stem: (N, 3, H, W) → conv 7×7/2 + BN + ReLU → (64, N, H/2, W/2) → maxpool 3×3/2 → (64, N, H/4, W/4)
        let stemInput = PlanarTensor.imageMajor(input, channels: architecture.inputChannels, batch: n, height: height, width: width)
        height = network.stem.shape.outputSide(height); width = network.stem.shape.outputSide(width)
        convolution(network.stem, input: stemInput, output: w.t1, columns: n * height * width)
        Kernels.addBias(w.t1, channels: architecture.stemWidth, columns: n * height * width, bias: network.stem.bias, relu: true, loop: loop)
        Kernels.maxPool3x3Stride2(.channelMajor(w.t1, channels: architecture.stemWidth, batch: n, height: height, width: width), into: w.x, loop: loop)
        height = (height - 1) / 2 + 1; width = (width - 1) / 2 + 1

        var current = w.x, next = w.y
        for stage in network.stages {
            for block in stage {
                let spec = block.spec
                let x = PlanarTensor.channelMajor(current, channels: spec.inChannels, batch: n, height: height, width: width)
                let outHeight = block.conv2.shape.outputSide(height), outWidth = block.conv2.shape.outputSide(width)
                let inColumns = n * height * width, outColumns = n * outHeight * outWidth

                // conv1 1×1 + BN + ReLU: (Cin, N, H, W) → (width, N, H, W)
                convolution(block.conv1, input: x, output: w.t1, columns: inColumns)
                Kernels.addBias(w.t1, channels: spec.width, columns: inColumns, bias: block.conv1.bias, relu: true, loop: loop)
                // conv2 3×3/stride + BN + ReLU: → (width, N, H/s, W/s)
                convolution(block.conv2, input: .channelMajor(w.t1, channels: spec.width, batch: n, height: height, width: width),
                            output: w.t2, columns: outColumns)
                Kernels.addBias(w.t2, channels: spec.width, columns: outColumns, bias: block.conv2.bias, relu: true, loop: loop)
                // conv3 1×1 + BN: → (Cout, N, H/s, W/s), SE's channel means taken in the same pass
                convolution(block.conv3, input: .channelMajor(w.t2, channels: spec.width, batch: n, height: outHeight, width: outWidth),
                            output: next, columns: outColumns)
                var scale: UnsafePointer<Float>? = nil
                if let se = block.squeezeExcitation {
                    Kernels.addBiasAndAverage(next, channels: spec.outChannels, batch: n, planeSize: outHeight * outWidth,
                                              bias: block.conv3.bias, means: w.means, loop: loop)
                    Kernels.squeezeExcitation(se, means: w.means, batch: n, hidden: w.hidden, scale: w.scale)
                    scale = UnsafePointer(w.scale)
                } else {
                    Kernels.addBias(next, channels: spec.outChannels, columns: outColumns, bias: block.conv3.bias, relu: false, loop: loop)
                }
                // shortcut: identity, or 1×1/stride conv + BN
                var shortcut = UnsafePointer(current)
                if let downsample = block.downsample {
                    convolution(downsample, input: x, output: w.shortcut, columns: outColumns)
                    Kernels.addBias(w.shortcut, channels: spec.outChannels, columns: outColumns, bias: downsample.bias, relu: false, loop: loop)
                    shortcut = UnsafePointer(w.shortcut)
                }
                // y = relu(conv3 · se_scale + shortcut)
                Kernels.scaleAddReLU(next, scale: scale, shortcut: shortcut, channels: spec.outChannels, batch: n,
                                     planeSize: outHeight * outWidth, loop: loop)
                swap(&current, &next)
                height = outHeight; width = outWidth
            }
        }

        // Head: global average pool (C, N, h, w) → (C, N); fc → (N, classes)
        Kernels.globalAveragePool(current, channels: architecture.featureCount, batch: n, planeSize: height * width, into: w.means)
        network.classifierWeight.withUnsafeBufferPointer { weight in
            network.classifierBias.withUnsafeBufferPointer { bias in
                Kernels.classifier(features: w.means, batch: n, featureCount: architecture.featureCount,
                                   weight: weight.baseAddress!, bias: bias.baseAddress!, classes: architecture.numClasses, into: logits)
            }
        }
    }

    /// output (Cout, N·Ho·Wo) = W (Cout, Cin·k·k) · patches; 1×1 stride-1 convolutions read the input directly.
    private func convolution(_ layer: ConvolutionLayer, input: PlanarTensor, output: UnsafeMutablePointer<Float>, columns: Int) {
        let shape = layer.shape
        let k = shape.inChannels * shape.kernel * shape.kernel
        let operand: UnsafePointer<Float>
        if shape.kernel == 1 && shape.stride == 1 && input.channelStride == input.columns {
            operand = UnsafePointer(input.data)
        } else if shape.kernel == 1 && input.channelStride == input.columns {
            Kernels.subsample(input, stride: shape.stride, into: workspace.columns, loop: loop)
            operand = UnsafePointer(workspace.columns)
        } else {
            Kernels.im2col(input, kernel: shape.kernel, stride: shape.stride, padding: shape.padding, into: workspace.columns, loop: loop)
            operand = UnsafePointer(workspace.columns)
        }
        layer.weights.withUnsafeBufferPointer { weights in
            Kernels.gemm(m: shape.outChannels, n: columns, k: k, a: weights.baseAddress!, lda: k, b: operand, ldb: columns, c: output, ldc: columns)
        }
    }

    private static func multiplyAccumulates(_ network: SEResNet, height: Int, width: Int) -> Int {
        var h = network.stem.shape.outputSide(height), w = network.stem.shape.outputSide(width)
        func macs(_ layer: ConvolutionLayer, _ outH: Int, _ outW: Int) -> Int {
            layer.shape.outChannels * layer.shape.inChannels * layer.shape.kernel * layer.shape.kernel * outH * outW
        }
        var total = macs(network.stem, h, w)
        h = (h - 1) / 2 + 1; w = (w - 1) / 2 + 1
        for block in network.stages.joined() {
            let oh = block.conv2.shape.outputSide(h), ow = block.conv2.shape.outputSide(w)
            total += macs(block.conv1, h, w) + macs(block.conv2, oh, ow) + macs(block.conv3, oh, ow)
            if let d = block.downsample { total += macs(d, oh, ow) }
            if let se = block.squeezeExcitation { total += 2 * se.channels * se.hidden }
            h = oh; w = ow
        }
        return total + network.architecture.numClasses * network.architecture.featureCount
    }
}

/// The engine's preallocated buffers, sized for the largest layer at the maximum batch.
private struct Workspace {
    /// Block input and output (they alternate).
    let x, y: UnsafeMutablePointer<Float>
    /// Bottleneck intermediates (also the stem's output before pooling).
    let t1, t2: UnsafeMutablePointer<Float>
    let shortcut: UnsafeMutablePointer<Float>
    /// im2col patches or a subsampled input.
    let columns: UnsafeMutablePointer<Float>
    /// (C, N) channel means, SE hidden activations and SE scales.
    let means, hidden, scale: UnsafeMutablePointer<Float>

    init(network: SEResNet, height: Int, width: Int, batch: Int) {
        var activation = 0, intermediate = 0, shortcutSize = 0, columnSize = 0, channels = 0, hiddenSize = 1
        var h = network.stem.shape.outputSide(height), w = network.stem.shape.outputSide(width)
        let stem = network.stem.shape
        intermediate = stem.outChannels * h * w
        columnSize = stem.inChannels * 49 * h * w
        h = (h - 1) / 2 + 1; w = (w - 1) / 2 + 1
        activation = stem.outChannels * h * w
        for block in network.stages.joined() {
            let spec = block.spec
            let oh = block.conv2.shape.outputSide(h), ow = block.conv2.shape.outputSide(w)
            intermediate = max(intermediate, spec.width * h * w)
            columnSize = max(columnSize, spec.width * 9 * oh * ow, spec.inChannels * oh * ow)
            activation = max(activation, spec.outChannels * oh * ow, spec.inChannels * h * w)
            if spec.hasDownsample { shortcutSize = max(shortcutSize, spec.outChannels * oh * ow) }
            channels = max(channels, spec.outChannels)
            hiddenSize = max(hiddenSize, spec.seWidth ?? 1)
            h = oh; w = ow
        }
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count * batch))
            pointer.initialize(repeating: 0, count: max(1, count * batch))
            return pointer
        }
        x = buffer(activation); y = buffer(activation)
        t1 = buffer(intermediate); t2 = buffer(intermediate)
        shortcut = buffer(shortcutSize)
        columns = buffer(columnSize)
        means = buffer(channels); hidden = buffer(hiddenSize); scale = buffer(channels)
    }

    func deallocate() {
        for pointer in [x, y, t1, t2, shortcut, columns, means, hidden, scale] { pointer.deallocate() }
    }
}
