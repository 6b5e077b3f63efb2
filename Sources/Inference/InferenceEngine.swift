import CBLAS
import Foundation

/// One image's last-stage feature maps: `channels` maps of `height × width`, map by map.
public struct FeatureMaps: Sendable {
    public let values: [Float]
    public let channels: Int
    public let height: Int
    public let width: Int
}

/// Runs an `SEResNet` on batches of up to `maxBatch` images of a fixed input size.
///
/// Plan once, run many: every activation buffer for `maxBatch` lives in one workspace allocated here, so
/// `run` allocates nothing. Not thread-safe: one engine serves one batch at a time (the service owns it).
/// Activations are kept channel-major over the batch, (C, N, H, W), so each 1×1 convolution is one GEMM
/// over all images; the input slots are ordinary (N, 3, H, W) images for the image pipeline to fill.
public final class InferenceEngine {
    public let network: SEResNet
    /// Each convolution's algorithm and packed weights (shared with other engines of the same network).
    public let plan: NetworkPlan
    public let maxBatch: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let threads: Int
    /// Multiply-accumulates of one image's forward pass.
    public let multiplyAccumulatesPerImage: Int
    /// The same by part of the pass (`StageProfile`'s names), as a direct convolution would do them.
    public let multiplyAccumulatesByPart: [String: Int]
    /// Names of the stages that run image by image within a batch of several images (`imageByImageStages`); none when
    /// the engine takes one image at a time.
    public var imageByImageStageNames: [String] { (0..<workspace.imageByImageStages).map { "layer\($0 + 1)" } }
    /// When set, every forward pass charges its parts' wall time to it.
    public var profile: StageProfile?
    /// When set, every forward pass shows it the input of each product after the stem, by the name its convolution has
    /// in the checkpoint (`layer1.0.conv1`, …; `fc` for the classifier): calibration (`ActivationRanges`) watches them.
    /// A block's `conv1` input is also its downsample's.
    public var observer: ((_ name: String, _ values: UnsafeBufferPointer<Float>) -> Void)?

    private let loop: ParallelLoop
    private let convolutions: ConvolutionRunner
    /// What each convolution does for each batch size 1...maxBatch (index batch − 1), decided here, read by every pass.
    private let schedules: [PassSchedule]
    /// The same decisions without some optimizations of the pass (`run(batch:without:)`), made on first use.
    private var schedulesWithout: [Set<PassOptimization>: [PassSchedule]] = [:]
    private let input: UnsafeMutablePointer<Float>
    private let logits: UnsafeMutablePointer<Float>
    private let workspace: Workspace
    /// Where the last pass left layer4's output, (C, N, h, w), and its size.
    private var lastFeatures: (base: UnsafeMutablePointer<Float>, batch: Int, height: Int, width: Int)?

    /// Plans `network` for `kernels` and `precision` (packing its weights), then as `init(plan:…)`.
    public convenience init(
        network: SEResNet, inputHeight: Int, inputWidth: Int, maxBatch: Int, threads: Int, kernels: KernelSelection = .auto,
        precision: Precision = .fp32, calibration: CalibrationFile? = nil
    ) {
        self.init(
            plan: NetworkPlan(network: network, kernels: kernels, precision: precision, calibration: calibration), inputHeight: inputHeight,
            inputWidth: inputWidth, maxBatch: maxBatch, threads: threads)
    }

    /// Plans geometry and allocates the workspace. OpenBLAS is set to one thread (process-wide): the engine
    /// splits every GEMM over its own `threads`.
    public init(plan: NetworkPlan, inputHeight: Int, inputWidth: Int, maxBatch: Int, threads: Int) {
        precondition(maxBatch >= 1 && threads >= 1 && inputHeight >= 1 && inputWidth >= 1)
        precondition(
            plan.inputSize.map { $0 == (inputHeight, inputWidth) } ?? true,
            "the plan was made for \(plan.inputSize.map { "\($0.height)×\($0.width)" } ?? "") inputs only")
        let network = plan.network
        self.network = network
        self.plan = plan
        self.maxBatch = maxBatch
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.threads = threads
        self.loop = ParallelLoop(threads: threads)
        // OpenBLAS stays single-threaded: the engine splits each GEMM over its threads itself (ConvolutionRunner).
        openblas_set_num_threads(1)
        let architecture = network.architecture
        input = .allocate(capacity: maxBatch * architecture.inputChannels * inputHeight * inputWidth)
        input.initialize(repeating: 0, count: maxBatch * architecture.inputChannels * inputHeight * inputWidth)
        logits = .allocate(capacity: maxBatch * architecture.numClasses)
        workspace = Workspace(plan: plan, height: inputHeight, width: inputWidth, batch: maxBatch, threads: threads)
        convolutions = ConvolutionRunner(
            loop: loop, maxPatchRows: Self.maxPatchRows(network, maxBatch: maxBatch),
            directScratchFloats: plan.stem.direct?.scratchFloats(width: inputWidth) ?? 0,
            sumsFloats: Self.channelSumsFloats(network, height: inputHeight, width: inputWidth, maxBatch: maxBatch, threads: threads))
        schedules = (1...maxBatch).map { [convolutions] in
            PassSchedule(plan: plan, batch: $0, height: inputHeight, width: inputWidth, runner: convolutions)
        }
        multiplyAccumulatesByPart = Self.multiplyAccumulatesByPart(network, height: inputHeight, width: inputWidth)
        multiplyAccumulatesPerImage = multiplyAccumulatesByPart.values.reduce(0, +)
    }

    deinit {
        input.deallocate()
        logits.deallocate()
        workspace.deallocate()
        convolutions.deallocate()
    }

    /// Values per input image: channels × height × width.
    public var inputSize: Int { network.architecture.inputChannels * inputHeight * inputWidth }
    public var numClasses: Int { network.architecture.numClasses }

    /// The (C, H, W) float buffer of batch slot `index`, to be filled before `run`.
    public func inputSlot(_ index: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(index >= 0 && index < maxBatch)
        return UnsafeMutableBufferPointer(start: input + index * inputSize, count: inputSize)
    }

    /// Runs the first `batch` slots; returns (batch × classes) logits, valid until the next `run`. `without` leaves
    /// optimizations of the pass out (the same weights and workspace, other decisions), to measure what each is worth
    /// (`EngineComparison`); the answers are the same up to the order of summation of SE's means and, in bf16, roundings.
    @discardableResult
    public func run(batch: Int, without: Set<PassOptimization> = []) -> UnsafeBufferPointer<Float> {
        precondition(batch >= 1 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        var decided = schedules
        if !without.isEmpty {
            if schedulesWithout[without] == nil {
                schedulesWithout[without] = (1...maxBatch).map { [convolutions] in
                    PassSchedule(plan: plan, batch: $0, height: inputHeight, width: inputWidth, runner: convolutions, without: without)
                }
            }
            decided = schedulesWithout[without]!
        }
        forward(batch: batch, schedules: decided)
        return UnsafeBufferPointer(start: logits, count: batch * numClasses)
    }

    /// The last run's layer4 output for batch slot `slot`: (C, h, w) feature maps, channel by channel, the input of the
    /// global average pool (class activation maps weight them). Read from the workspace, so valid until the next `run`.
    public func features(slot: Int) -> FeatureMaps {
        guard let last = lastFeatures, slot >= 0, slot < last.batch else { preconditionFailure("no image in slot \(slot) of the last run") }
        let channels = network.architecture.featureCount
        let plane = last.height * last.width
        var values = [Float](repeating: 0, count: channels * plane)
        values.withUnsafeMutableBufferPointer { out in
            for channel in 0..<channels {
                (out.baseAddress! + channel * plane).update(from: last.base + (channel * last.batch + slot) * plane, count: plane)
            }
        }
        return FeatureMaps(values: values, channels: channels, height: last.height, width: last.width)
    }

    /// Convenience: copies `images` ((batch, C, H, W) floats) into the slots, runs, returns a copy of the logits.
    public func classify(_ images: [Float], batch: Int) -> [Float] {
        precondition(images.count == batch * inputSize)
        images.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: images.count) }
        return Array(run(batch: batch))
    }

    private func forward(batch n: Int, schedules: [PassSchedule]) {
        let w = workspace
        let profile = self.profile
        profile?.beginPass()
        var height = 0
        var width = 0
        var current = w.x
        var next = w.y
        // int8: where the current block's input waits as u8 quads (written by the previous block's residual add).
        var quads = w.quads
        // The stem and the stages with large maps run image by image when the batch has several (see
        // `imageByImageStages`); their last block writes its output straight into the batch's layout (`gathered`).
        let early = n > 1 ? w.imageByImageStages : 0
        // bf16: whether the current block input is bf16 pairs (the previous block's `writesPairs`).
        var pairs = false
        if early > 0 {
            for image in 0..<n {
                var x = w.x
                var y = w.y
                pairs = false
                (height, width) = stem(images: image, count: 1, into: x, split: schedules[0].stem)
                for stage in 0..<early {
                    let last = stage == early - 1
                    runStage(
                        stage, batch: 1, schedule: schedules[0], current: &x, next: &y, quads: &quads, pairs: &pairs,
                        height: &height, width: &width,
                        output: last ? Kernels.Destination(base: w.gathered, first: image, count: n) : nil,
                        quadsOutput: last ? Kernels.Destination(base: w.gatheredQuads, first: image, count: n) : nil)
                }
            }
            current = w.gathered
            next = w.x
            quads = w.gatheredQuads
        } else {
            (height, width) = stem(images: 0, count: n, into: current, split: schedules[n - 1].stem)
        }
        for stage in early..<plan.stages.count {
            runStage(
                stage, batch: n, schedule: schedules[n - 1], current: &current, next: &next, quads: &quads, pairs: &pairs,
                height: &height, width: &width)
        }
        precondition(!pairs, "the last block writes fp32 features")

        lastFeatures = (current, n, height, width)
        // Head: global average pool (C, N, h, w) → (C, N); fc → (N, classes)
        let architecture = network.architecture
        Kernels.channelMeans(
            current, channels: architecture.featureCount, batch: n, planeSize: height * width, into: w.means, loop: loop,
            kernels: plan.fp32Table)
        observer?("fc", UnsafeBufferPointer(start: w.means, count: architecture.featureCount * n))
        if let classifier = plan.classifier {
            // bf16 products read the features as bf16 pairs, int8 ones as u8 quads (SE's scale buffer is free by now and
            // large enough).
            let features =
                classifier.kernels.packOperand(
                    w.means, rows: architecture.featureCount, columns: n, ldb: n, into: w.scale, ldOut: n, scale: classifier.operandScale)
                ? w.scale : w.means
            Kernels.classifier(
                packed: classifier, features: features, batch: n, transposed: w.transposedLogits, into: logits, loop: loop,
                scratch: convolutions.packScratch)
        } else {
            network.classifierWeight.withUnsafeBufferPointer { weight in
                network.classifierBias.withUnsafeBufferPointer { bias in
                    Kernels.classifier(
                        features: w.means, batch: n, featureCount: architecture.featureCount,
                        weight: weight.baseAddress!, bias: bias.baseAddress!, classes: architecture.numClasses, into: logits, loop: loop)
                }
            }
        }
        profile?.mark("head")
        profile?.endPass()
    }

    /// Stem of input images image..<image + count: (N, 3, H, W) → conv 7×7/2 + BN + ReLU → (64, N, H/2, W/2) → maxpool
    /// 3×3/2 → (64, N, H/4, W/4) into `output`. Returns the output's height and width.
    private func stem(
        images image: Int, count n: Int, into output: UnsafeMutablePointer<Float>, split: ConvolutionSplit
    ) -> (height: Int, width: Int) {
        let w = workspace
        let architecture = network.architecture
        let stemInput = PlanarTensor.imageMajor(
            input + image * inputSize, channels: architecture.inputChannels, batch: n, height: inputHeight, width: inputWidth)
        let height = network.stem.shape.outputSide(inputHeight)
        let width = network.stem.shape.outputSide(inputWidth)
        convolutions.run(plan.stem, input: stemInput, output: w.t1, epilogue: .biasReLU, split: split)
        Kernels.maxPool3x3Stride2(
            .channelMajor(w.t1, channels: architecture.stemWidth, batch: n, height: height, width: width), into: output, loop: loop,
            kernels: plan.fp32Table)
        profile?.mark("stem")
        return ((height - 1) / 2 + 1, (width - 1) / 2 + 1)
    }

    /// The blocks of stage `stageIndex` on `batch` images, as `schedule` decides (the pass's for `batch`): each reads
    /// `current` and writes `next`, then they swap, so `current` ends as the stage's output; `height` and `width` follow
    /// the maps. With `output`, the last block writes there instead (and `current` is then not the output). int8: `quads`
    /// holds the first block's input as u8 quads where it reads them, and each block's residual add leaves the next
    /// block's there (`w.quads`), the last block's in `quadsOutput` when given (the batch's layout, as `output`). bf16:
    /// `pairs` says whether `current` holds bf16 pairs, and each block leaves it saying whether its output does
    /// (`BlockSchedule.writesPairs`).
    private func runStage(
        _ stageIndex: Int, batch n: Int, schedule: PassSchedule, current: inout UnsafeMutablePointer<Float>,
        next: inout UnsafeMutablePointer<Float>, quads: inout UnsafeMutablePointer<Float>, pairs inputPairs: inout Bool,
        height: inout Int, width: inout Int, output: Kernels.Destination? = nil, quadsOutput: Kernels.Destination? = nil
    ) {
        let w = workspace
        let profile = self.profile
        let name = "layer\(stageIndex + 1)"
        let blocks = plan.stages[stageIndex]
        for (index, planned) in blocks.enumerated() {
            let decided = schedule.blocks[stageIndex][index]
            let block = planned.block
            let spec = block.spec
            let x =
                planned.conv1.takesQuads
                ? PlanarTensor.channelMajorQuads(quads, channels: spec.inChannels, batch: n, height: height, width: width)
                : inputPairs
                    ? PlanarTensor.channelMajorPairs(current, channels: spec.inChannels, batch: n, height: height, width: width)
                    : PlanarTensor.channelMajor(current, channels: spec.inChannels, batch: n, height: height, width: width)
            // The block's output as bf16 pairs (fp32 where calibration observes it).
            let outputPairs = decided.writesPairs && observer == nil
            precondition(
                !inputPairs || planned.downsample != nil || outputPairs, "an identity shortcut in pairs is read by a conv3 writing pairs")
            let outHeight = block.conv2.shape.outputSide(height)
            let outWidth = block.conv2.shape.outputSide(width)

            // int8: conv1's and conv2's outputs are u8 quads at their successor's input scale (fp32 otherwise).
            let chained = planned.quantizedChain
            precondition(!chained || observer == nil, "calibration observes the fp32 engine")
            func intermediate(_ data: UnsafeMutablePointer<Float>, height: Int, width: Int) -> PlanarTensor {
                chained
                    ? .channelMajorQuads(data, channels: spec.width, batch: n, height: height, width: width)
                    : .channelMajor(data, channels: spec.width, batch: n, height: height, width: width)
            }

            if let observer {
                observer("\(name).\(index).conv1", UnsafeBufferPointer(start: current, count: spec.inChannels * n * height * width))
            }
            // conv1 1×1 + BN + ReLU: (Cin, N, H, W) → (width, N, H, W)
            convolutions.run(
                planned.conv1, input: x, output: w.t1,
                epilogue: chained ? .quantized(scale: planned.conv2!.packed!.operandScale) : .biasReLU, split: decided.conv1)
            if let observer { observer("\(name).\(index).conv2", UnsafeBufferPointer(start: w.t1, count: spec.width * n * height * width)) }
            profile?.mark("\(name) conv1")
            // conv2 3×3/stride + BN + ReLU: → (width, N, H/s, W/s)
            let t1 = intermediate(w.t1, height: height, width: width)
            // Where conv3 ends the block, SE's squeeze comes from conv3's input: conv2 takes its channel means as it goes.
            let inputMeans = decided.residualInConv3 && block.squeezeExcitation != nil ? w.inputMeans : nil
            // bf16: Winograd writes conv3's operand, bf16 pairs (fp32 where calibration observes it).
            let pairs = decided.conv2WritesPairs && observer == nil
            if let winograd = planned.winograd, decided.winograd {
                winograd.run(
                    input: t1, output: w.t2, transformedInput: w.winogradInput, products: w.winogradProducts, loop: loop,
                    packScratch: convolutions.packScratch, means: inputMeans, sums: w.winogradSums,
                    pairs: pairs ? planned.conv3.kernels : nil)
            } else {
                convolutions.run(
                    planned.conv2!, input: t1, output: w.t2,
                    epilogue: chained ? .quantized(scale: planned.conv3.packed!.operandScale) : .biasReLU, channelMeans: inputMeans,
                    split: decided.conv2!)
            }
            profile?.mark("\(name) conv2")
            if let observer {
                observer("\(name).\(index).conv3", UnsafeBufferPointer(start: w.t2, count: spec.width * n * outHeight * outWidth))
            }
            let planeSize = outHeight * outWidth
            let last = index == blocks.count - 1
            let conv3Input =
                pairs
                ? PlanarTensor.channelMajorPairs(w.t2, channels: spec.width, batch: n, height: outHeight, width: outWidth)
                : intermediate(w.t2, height: outHeight, width: outWidth)
            // SE: MLP on the means of conv3's output (`w.means`), or with `fromInput` on those of its input → per-(channel,
            // image) scale
            func excite(fromInput: Bool = false) -> UnsafePointer<Float>? {
                guard let se = block.squeezeExcitation else { return nil }
                if let packed = planned.squeezeExcitation {
                    Kernels.squeezeExcitation(
                        reduce: fromInput ? packed.reduceFromInput! : packed.reduce, expand: packed.expand,
                        means: fromInput ? w.inputMeans : w.means, batch: n, hidden: w.hidden, scale: w.scale, loop: loop,
                        scratch: convolutions.packScratch)
                } else {
                    Kernels.squeezeExcitation(se, means: w.means, batch: n, hidden: w.hidden, scale: w.scale, loop: loop)
                }
                return UnsafePointer(w.scale)
            }
            // shortcut: identity, or 1×1/stride conv + BN (into `into`)
            func shortcut(into: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
                guard let downsample = planned.downsample else { return UnsafePointer(current) }
                convolutions.run(downsample, input: x, output: into, epilogue: .bias, split: decided.downsample)
                profile?.mark("\(name) downsample")
                return UnsafePointer(into)
            }
            if decided.residualInConv3 {
                // The shortcut first; SE from the means of conv3's input (`SqueezeExcitationPlan.reduceFromInput`); then conv3 1×1 +
                // BN with y = relu(conv3 · se_scale + shortcut) in its epilogue → (Cout, N, H/s, W/s), over the shortcut
                // itself: the block's input (read by conv1 by then), or the downsample's output, written into `next` for
                // that. The last block of an image-by-image stage writes y into the batch's layout instead.
                // With pairs out, the downsample's fp32 output cannot be overwritten in place by pairs (a pair row lands on
                // an fp32 row another thread may still read): it goes to `w.shortcut`.
                let destination = last ? output : nil
                let residualInput = shortcut(into: destination == nil && !outputPairs ? next : w.shortcut)
                var scale = excite(fromInput: true)
                if let byChannel = scale, n > 1 {
                    // conv3's epilogue reads an image's scales as one row: (C, N) → (N, C).
                    for c in 0..<spec.outChannels {
                        for image in 0..<n { w.scaleByImage[image * spec.outChannels + c] = byChannel[c * n + image] }
                    }
                    scale = UnsafePointer(w.scaleByImage)
                }
                if scale != nil { profile?.mark("\(name) se") }
                let target = planned.downsample == nil ? current : next
                convolutions.run(
                    planned.conv3, input: conv3Input, output: target, epilogue: .bias,
                    residual: .init(
                        scale: scale, shortcut: residualInput, destination: destination,
                        shortcutPairs: planned.downsample == nil && inputPairs, outputPairs: outputPairs),
                    split: decided.conv3)
                profile?.mark("\(name) conv3")
                inputPairs = outputPairs
                if target == next { swap(&current, &next) }
                height = outHeight
                width = outWidth
                continue
            }
            // conv3 1×1 + BN: → (Cout, N, H/s, W/s), and with SE its channel means (the squeeze), taken tile by tile
            convolutions.run(
                planned.conv3, input: conv3Input, output: next, epilogue: .bias,
                channelMeans: block.squeezeExcitation == nil ? nil : w.means, split: decided.conv3)
            profile?.mark("\(name) conv3")
            let scale = excite()
            if scale != nil { profile?.mark("\(name) se") }
            let residualInput = shortcut(into: w.shortcut)
            // y = relu(conv3 · se_scale + shortcut), and with int8 y as the next block's operand (its conv1 and downsample
            // have read this block's input quads by now)
            if let quadScale = planned.outputQuadScale {
                let target = last ? quadsOutput : nil
                Kernels.scaleAddReLU(
                    next, scale: scale, shortcut: residualInput, channels: spec.outChannels, batch: n, planeSize: planeSize,
                    loop: loop, kernels: plan.table, into: last ? output : nil, quantizingAt: quadScale,
                    quads: target ?? Kernels.Destination(base: w.quads, first: 0, count: n))
                quads = target?.base ?? w.quads
            } else {
                Kernels.scaleAddReLU(
                    next, scale: scale, shortcut: residualInput, channels: spec.outChannels, batch: n, planeSize: planeSize,
                    loop: loop, kernels: plan.fp32Table, into: last ? output : nil)
            }
            profile?.mark("\(name) add")
            precondition(!outputPairs, "pairs are written by conv3's epilogue")
            inputPairs = false
            swap(&current, &next)
            height = outHeight
            width = outWidth
        }
    }

    /// What each convolution of a pass on `batch` images does, in forward order, named as `StageProfile` names the parts:
    /// its algorithm and how it is split over the threads (`seresnet bench --profile` and `GET /v1/model` report it).
    public func schedule(batch: Int) -> [(name: String, algorithm: String, split: String)] {
        precondition(batch >= 1 && batch <= maxBatch)
        let pass = schedules[batch - 1]
        var result = [(name: "stem", algorithm: plan.stem.algorithm, split: pass.stem.rawValue)]
        for (s, blocks) in plan.stages.enumerated() {
            // Stages run image by image decide for one image.
            let decided = batch > 1 && s < workspace.imageByImageStages ? schedules[0].blocks[s] : pass.blocks[s]
            for (b, planned) in blocks.enumerated() {
                let prefix = "layer\(s + 1).\(b)"
                let block = decided[b]
                result.append(("\(prefix) conv1", planned.conv1.algorithm, block.conv1.rawValue))
                if let winograd = planned.winograd, block.winograd {
                    let pairs = block.conv2WritesPairs ? "; writes conv3's operand as bf16 pairs" : ""
                    result.append(("\(prefix) conv2", winograd.algorithm + pairs, block.winogradSplit))
                } else {
                    result.append(("\(prefix) conv2", planned.conv2!.algorithm, block.conv2!.rawValue))
                }
                let ends =
                    (block.residualInConv3 ? "; SE's scale, the residual add and ReLU in its epilogue" : "")
                    + (block.writesPairs ? "; writes the block's output as bf16 pairs" : "")
                result.append(("\(prefix) conv3", planned.conv3.algorithm + ends, block.conv3.rawValue))
                if let downsample = planned.downsample, let split = block.downsample {
                    result.append(("\(prefix) downsample", downsample.algorithm, split.rawValue))
                }
            }
        }
        return result
    }

    /// Stages whose output maps have at least this many pixels per image run image by image within a batch.
    static let imageByImagePixels = 1000

    /// How many leading stages run image by image on a batch of several images: those whose output maps have at least
    /// `imageByImagePixels` pixels (at 224², layer1's 56 × 56). Their activations are large and their weights small: a
    /// batch-8 layer1 tensor is 26 MB in fp32 where one image's stays in L2 and L3, and re-reading its weights for each
    /// image costs little. layer2 (28 × 28) runs on the whole batch: image by image, its Winograd weights (2.4 MB a block,
    /// fp32 products) were read once per image, which cost most when another tenant loads the memory; layer3's weights
    /// are 20–40 MB; layer4 and the head gain from the batch either way (docs/performance.md).
    static func imageByImageStages(_ network: SEResNet, height: Int, width: Int) -> Int {
        var h = (network.stem.shape.outputSide(height) - 1) / 2 + 1
        var w = (network.stem.shape.outputSide(width) - 1) / 2 + 1
        var stages = 0
        for stage in network.stages {
            for block in stage {
                h = block.conv2.shape.outputSide(h)
                w = block.conv2.shape.outputSide(w)
            }
            guard h * w >= imageByImagePixels else { break }
            stages += 1
        }
        return stages
    }

    /// Floats of partial channel sums the convolution runner needs for the squeeze-excitation blocks' last convolutions
    /// (`ConvolutionRunner.sumsFloats`), at every batch size up to `maxBatch`.
    private static func channelSumsFloats(_ network: SEResNet, height: Int, width: Int, maxBatch: Int, threads: Int) -> Int {
        var h = (network.stem.shape.outputSide(height) - 1) / 2 + 1
        var w = (network.stem.shape.outputSide(width) - 1) / 2 + 1
        var floats = 0
        for block in network.stages.joined() {
            h = block.conv2.shape.outputSide(h)
            w = block.conv2.shape.outputSide(w)
            guard block.squeezeExcitation != nil else { continue }
            for batch in 1...maxBatch {
                floats = max(
                    floats,
                    ConvolutionRunner.sumsFloats(outChannels: block.spec.outChannels, batch: batch, planeSize: h * w, threads: threads))
            }
        }
        return floats
    }

    /// Largest patch matrix height (Cin·k·k) of any layer, and enough for a whole unfolded layer whose
    /// columns are too few to split (see ConvolutionRunner).
    private static func maxPatchRows(_ network: SEResNet, maxBatch: Int) -> Int {
        var rows = network.stem.shape.inChannels * 49
        for block in network.stages.joined() {
            rows = max(rows, block.conv2.shape.inChannels * 9, block.spec.inChannels)
        }
        return rows
    }

    /// Multiply-accumulates of one image by part of the forward pass, named as `StageProfile` names them (direct
    /// convolution counts: Winograd does fewer).
    private static func multiplyAccumulatesByPart(_ network: SEResNet, height: Int, width: Int) -> [String: Int] {
        var parts: [String: Int] = [:]
        var h = network.stem.shape.outputSide(height)
        var w = network.stem.shape.outputSide(width)
        func macs(_ layer: ConvolutionLayer, _ outH: Int, _ outW: Int) -> Int {
            layer.shape.outChannels * layer.shape.inChannels * layer.shape.kernel * layer.shape.kernel * outH * outW
        }
        parts["stem"] = macs(network.stem, h, w)
        h = (h - 1) / 2 + 1
        w = (w - 1) / 2 + 1
        for (stageIndex, stage) in network.stages.enumerated() {
            let name = "layer\(stageIndex + 1)"
            for block in stage {
                let oh = block.conv2.shape.outputSide(h)
                let ow = block.conv2.shape.outputSide(w)
                parts["\(name) conv1", default: 0] += macs(block.conv1, h, w)
                parts["\(name) conv2", default: 0] += macs(block.conv2, oh, ow)
                parts["\(name) conv3", default: 0] += macs(block.conv3, oh, ow)
                if let d = block.downsample { parts["\(name) downsample", default: 0] += macs(d, oh, ow) }
                if let se = block.squeezeExcitation { parts["\(name) se", default: 0] += 2 * se.channels * se.hidden }
                h = oh
                w = ow
            }
        }
        parts["head"] = network.architecture.numClasses * network.architecture.featureCount
        return parts
    }
}

/// The engine's preallocated buffers, sized for the largest layer: at the maximum batch for the stages that run on
/// the whole batch, at one image for the stem and the stages that run image by image.
private struct Workspace {
    /// Block input and output (they alternate).
    let x, y: UnsafeMutablePointer<Float>
    /// Bottleneck intermediates (also the stem's output before pooling).
    let t1, t2: UnsafeMutablePointer<Float>
    let shortcut: UnsafeMutablePointer<Float>
    /// The image-by-image stages' output in the batch's (C, N, H, W) layout, written there by their last blocks (then
    /// one of the alternating block inputs and outputs); nil for a maximum batch of 1.
    let gatheredBuffer: UnsafeMutablePointer<Float>?
    /// int8: block inputs as u8 quads (4-byte elements, a quarter of x's floats), and the image-by-image stages' output so
    /// in the batch's layout (as `gathered`).
    let quads, gatheredQuads: UnsafeMutablePointer<Float>
    /// Winograd transformed inputs and products, one block's worth per thread (`WinogradWeights.scratchSizes`).
    let winogradInput, winogradProducts: UnsafeMutablePointer<Float>
    /// (C, N) channel means, SE hidden activations and SE scales.
    let means, hidden, scale: UnsafeMutablePointer<Float>
    /// (width, N): conv3's input channel means, where SE's squeeze is taken from them; (N, C): SE's scales image by image.
    let inputMeans, scaleByImage: UnsafeMutablePointer<Float>
    /// Winograd's per-block channel sums for `inputMeans` (`WinogradWeights.sumsFloats`).
    let winogradSums: UnsafeMutablePointer<Float>
    /// (classes, N) logits before they are transposed to (N, classes).
    let transposedLogits: UnsafeMutablePointer<Float>
    /// Leading stages that run image by image on batches of more than one image (`InferenceEngine.imageByImageStages`).
    let imageByImageStages: Int

    var gathered: UnsafeMutablePointer<Float> { gatheredBuffer! }

    init(plan: NetworkPlan, height: Int, width: Int, batch: Int, threads: Int) {
        let network = plan.network
        let early = batch > 1 ? InferenceEngine.imageByImageStages(network, height: height, width: width) : 0
        imageByImageStages = early
        // Floats per buffer: the most any part needs, times the images it runs on. Block inputs and outputs alternate
        // between x and y within one image's stages (`single`: the stem's and those stages' outputs), then between
        // `gathered` and x on the whole batch (`whole`: the later stages' outputs); without image-by-image stages
        // everything runs on the whole batch and x and y take both.
        var single = 0
        var whole = 0
        var intermediate = 0
        var shortcutSize = 0
        var gatheredSize = 0
        var channels = 0
        var widths = 0
        var hiddenSize = 1
        var winogradIn = 0
        var winogradOut = 0
        var winogradSumsSize = 0
        var h = network.stem.shape.outputSide(height)
        var w = network.stem.shape.outputSide(width)
        let stem = network.stem.shape
        let stemImages = early > 0 ? 1 : batch
        intermediate = stem.outChannels * h * w * stemImages
        h = (h - 1) / 2 + 1
        w = (w - 1) / 2 + 1
        single = stem.outChannels * h * w * stemImages
        for (stageIndex, stage) in plan.stages.enumerated() {
            let images = stageIndex < early ? 1 : batch
            for planned in stage {
                let spec = planned.block.spec
                let block = planned.block
                let oh = block.conv2.shape.outputSide(h)
                let ow = block.conv2.shape.outputSide(w)
                intermediate = max(intermediate, spec.width * h * w * images)
                let output = spec.outChannels * oh * ow
                if stageIndex < early {
                    single = max(single, output)
                    // The last image-by-image stage's output, gathered for the whole batch.
                    if stageIndex == early - 1 { gatheredSize = max(gatheredSize, output * batch) }
                } else {
                    whole = max(whole, output * batch)
                }
                if spec.hasDownsample { shortcutSize = max(shortcutSize, spec.outChannels * oh * ow * images) }
                channels = max(channels, spec.outChannels)
                widths = max(widths, spec.width)
                hiddenSize = max(hiddenSize, spec.seWidth ?? 1)
                if let winograd = planned.winograd {
                    let sizes = winograd.workspaceSizes(batch: images, height: h, width: w, threads: threads)
                    winogradIn = max(winogradIn, sizes.input)
                    winogradOut = max(winogradOut, sizes.product)
                    winogradSumsSize = max(winogradSumsSize, winograd.sumsFloats(batch: images, height: h, width: w))
                }
                h = oh
                w = ow
            }
        }
        x = .allocateAligned(max(single, whole))
        y = .allocateAligned(early > 0 ? single : max(single, whole))
        t1 = .allocateAligned(intermediate)
        t2 = .allocateAligned(intermediate)
        shortcut = .allocateAligned(shortcutSize)
        gatheredBuffer = early > 0 ? .allocateAligned(max(gatheredSize, whole)) : nil
        let int8 = plan.precision == .int8
        quads = .allocateAligned(int8 ? (max(single, whole) + 3) / 4 : 1)
        gatheredQuads = .allocateAligned(int8 && early > 0 ? (gatheredSize + 3) / 4 : 1)
        winogradInput = .allocateAligned(winogradIn)
        winogradProducts = .allocateAligned(winogradOut)
        means = .allocateAligned(channels * batch)
        hidden = .allocateAligned(hiddenSize * batch)
        scale = .allocateAligned(channels * batch)
        inputMeans = .allocateAligned(widths * batch)
        scaleByImage = .allocateAligned(channels * batch)
        winogradSums = .allocateAligned(winogradSumsSize)
        transposedLogits = .allocateAligned(network.architecture.numClasses * batch)
    }

    func deallocate() {
        let buffers = [x, y, t1, t2, shortcut, quads, gatheredQuads, winogradInput, winogradProducts, means, hidden, scale]
        for pointer in buffers + [inputMeans, scaleByImage, winogradSums, transposedLogits] {
            pointer.deallocate()
        }
        gatheredBuffer?.deallocate()
    }
}

/// Optimizations of the forward pass an engine can run without (`InferenceEngine.run(batch:without:)`), to measure
/// what each is worth (`EngineComparison`, `seresnet bench --without`). Without them the answers are the same up to the
/// order of summation of SE's means and, in bf16, where values are rounded.
public enum PassOptimization: String, CaseIterable, Sendable {
    /// conv3 ends the block where the plan allows (`BlockSchedule.residualInConv3`); without, a pass after it applies
    /// SE's scale, the shortcut and ReLU, SE's squeeze taken from conv3's output.
    case conv3Epilogue = "conv3-epilogue"
    /// bf16: Winograd writes conv3's operand as bf16 pairs (`BlockSchedule.conv2WritesPairs`); without, fp32 rows that
    /// conv3 converts.
    case winogradPairs = "winograd-pairs"
    /// bf16: blocks whose conv3 ends them write their output as bf16 pairs, which the next block's 1×1s read as they are
    /// and its conv3 reads as its shortcut (`BlockSchedule.writesPairs`); without, fp32 outputs that those 1×1s convert.
    case residualPairs = "residual-pairs"
}

/// One bottleneck's decisions for one batch size.
struct BlockSchedule {
    let conv1: ConvolutionSplit
    /// Whether conv2 runs as Winograd (where it pays at this size), else unfolded with `conv2`'s split.
    let winograd: Bool
    /// How Winograd splits its work: "channels" or "tile rows".
    let winogradSplit: String
    /// nil where conv2 always runs as Winograd (the plan holds no unfolded weights for it).
    let conv2: ConvolutionSplit?
    let conv3: ConvolutionSplit
    let downsample: ConvolutionSplit?
    /// Whether SE's scale, the residual add and the ReLU run in conv3's epilogue (`ConvolutionRunner.Residual`, SE's
    /// squeeze then taken from conv3's input), else in a pass after it (`PassSchedule.endsInConv3`).
    let residualInConv3: Bool
    /// Whether Winograd writes conv2's output as conv3's operand, bf16 pairs (`KernelTable.writesWinogradPairs`), so
    /// conv3 reads it without converting it: where conv2 runs as Winograd and conv3's products are bf16.
    let conv2WritesPairs: Bool
    /// Whether the block's output (the residual stream) is bf16 pairs (`PlanarTensor.channelMajorPairs`), written by conv3's
    /// epilogue: where conv3 ends the block in bf16 and the next block reads pairs — its 1×1s are bf16 products (conv1
    /// and the downsample take the pairs as their operand, unconverted) and its shortcut is its downsample's output or,
    /// identity, read as pairs by its own conv3 writing pairs (`PassSchedule.residualPairs`).
    var writesPairs = false
}

/// Every decision of a pass on `batch` images, made when the engine is made: the stem's and each block's splits, and where
/// Winograd runs. Stages that run image by image read the batch-1 schedule.
struct PassSchedule {
    let stem: ConvolutionSplit
    private(set) var blocks: [[BlockSchedule]]

    /// Whether a block's conv3 ends it (`BlockSchedule.residualInConv3`): where the plan allows it
    /// (`BottleneckPlan.conv3EndsBlock`) and conv3 splits by columns, or by output channels on one image (each thread's
    /// share in one call; on a batch, calls image by image would read the weights once per image). On a batch, a column
    /// chunk runs image by image (SE's scale is one value per row of an image), each piece in the kernel `gemm` would
    /// choose for it (the small-n one up to 200 columns).
    static func endsInConv3(_ planned: BottleneckPlan, split: ConvolutionSplit, batch: Int) -> Bool {
        planned.conv3EndsBlock && (split == .columns || (split == .channels && batch == 1))
    }

    init(plan: NetworkPlan, batch: Int, height: Int, width: Int, runner: ConvolutionRunner, without: Set<PassOptimization> = []) {
        let network = plan.network
        stem = runner.schedule(plan.stem, batch: batch, height: height, width: width)
        var h = (network.stem.shape.outputSide(height) - 1) / 2 + 1
        var w = (network.stem.shape.outputSide(width) - 1) / 2 + 1
        blocks = plan.stages.map { stage in
            stage.map { planned in
                let conv2 = planned.block.conv2.shape
                let (outH, outW) = (conv2.outputSide(h), conv2.outputSide(w))
                let winograd = planned.winograd.map { $0.pays(batch: batch, height: h, width: w) } ?? false
                let conv3 = runner.schedule(planned.conv3, batch: batch, height: outH, width: outW)
                let block = BlockSchedule(
                    conv1: runner.schedule(planned.conv1, batch: batch, height: h, width: w),
                    winograd: winograd,
                    winogradSplit: planned.winograd?.splitsByChannels(batch: batch, height: h, width: w) == true ? "channels" : "tile rows",
                    conv2: planned.conv2.map { runner.schedule($0, batch: batch, height: h, width: w) },
                    conv3: conv3,
                    downsample: planned.downsample.map { runner.schedule($0, batch: batch, height: h, width: w) },
                    residualInConv3: !without.contains(.conv3Epilogue) && Self.endsInConv3(planned, split: conv3, batch: batch),
                    conv2WritesPairs: !without.contains(.winogradPairs) && winograd && planned.conv3.packed != nil
                        && planned.conv3.kernels.writesWinogradPairs)
                (h, w) = (outH, outW)
                return block
            }
        }
        if !without.contains(.residualPairs) { blocks = Self.residualPairs(plan: plan, blocks: blocks) }
    }

    /// `blocks` with `writesPairs` decided, from the last block back: a block writes pairs where conv3 ends it in bf16
    /// and the next block takes them. The next block's conv1 and downsample must be bf16 products of fewer than 2048 input
    /// channels (wider ones may split by K, which reads fp32); it takes pairs through its downsample (whose fp32 output
    /// is then its shortcut) or, identity, only if it writes pairs itself (conv3 reads and writes the stream in place). A
    /// stage's first block has a downsample, so what crosses a stage boundary does not depend on the batch (the stages
    /// that run image by image read the batch-1 schedule, the rest the batch's). The last block's output is the pooled
    /// features: fp32.
    static func residualPairs(plan: NetworkPlan, blocks: [[BlockSchedule]]) -> [[BlockSchedule]] {
        var blocks = blocks
        let order = blocks.indices.flatMap { s in blocks[s].indices.map { (s, $0) } }
        var nextTakesPairs = false
        for (s, b) in order.reversed() {
            let planned = plan.stages[s][b]
            let conv3 = planned.conv3
            blocks[s][b].writesPairs =
                nextTakesPairs && blocks[s][b].residualInConv3 && conv3.packed != nil && conv3.kernels.kGroup == 2
                && conv3.kernels.hasResidualProducts && planned.block.spec.outChannels % 2 == 0
            let readsPairs = [planned.conv1] + (planned.downsample.map { [$0] } ?? [])
            nextTakesPairs =
                readsPairs.allSatisfy { $0.packed != nil && $0.kernels.kGroup == 2 && $0.layer.shape.kernel == 1 }
                && planned.block.spec.inChannels < 2048 && (planned.downsample != nil || blocks[s][b].writesPairs)
        }
        // An identity block writes pairs in place over its input, so only where that input is pairs.
        var previousWrites = false
        for (s, b) in order {
            if plan.stages[s][b].downsample == nil && !previousWrites { blocks[s][b].writesPairs = false }
            previousWrites = blocks[s][b].writesPairs
        }
        return blocks
    }
}
