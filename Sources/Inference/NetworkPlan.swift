import CBLAS
import CKernels

/// How the engine runs a network, decided once at load: for every convolution its algorithm and its weights in
/// the order that algorithm reads them (`ConvolutionPlan`, `WinogradWeights`). The network itself stays a plain
/// description; the plan is immutable and shared by every engine that serves it.
public final class NetworkPlan: @unchecked Sendable {
    /// The network as the engines read it: without convolution weights when they are packed here (the plan's
    /// copies replace them; drop other references to the loaded network to free its copy).
    public let network: SEResNet
    public let kernels: KernelSelection
    public let precision: Precision
    /// The table the convolutions and the classifier run with: bf16 products with `--precision bf16`; baseline when every
    /// product runs on OpenBLAS.
    public let table: KernelTable
    /// The fp32 table of the same instruction set: SE and everything between products.
    let fp32Table: KernelTable
    /// The instruction set of the engine's own kernels, nil when every convolution runs on OpenBLAS.
    public var instructionSet: KernelInstructionSet? { table.instructionSet }
    let stem: ConvolutionPlan
    let stages: [[BottleneckPlan]]
    /// The classifier (classes × features, with its bias) packed for the engine's GEMM; nil with OpenBLAS.
    let classifier: PackedMatrix?

    /// With the engine's kernels, conv2 layers up to this width use F(4×4, 3×3), wider ones F(2×2, 3×3), as ncnn
    /// chooses for ResNets (OpenBLAS keeps F(2×2) everywhere: F(4×4)'s transforms exist only in CKernels). At 224²
    /// that is layer1 and layer2 (56² and 28² maps); layer3's 14² would pad to 16² (31% more tiles) and has too few
    /// tiles at batch 1 to pay. The measurements behind the choice are in docs/performance.md.
    static let f4MaxChannels = 128

    /// With `--precision bf16`, F(4×4) layers up to this width multiply in bf16 too (layer1), wider ones (layer2) in fp32.
    /// F(4×4)'s output transform amplifies the rounding of its bf16 operands (5–8 % of a layer's largest output, where
    /// F(2×2) stays under 0.5 %); layer1's products in bf16 kept fp32's top-1 answers on the conditioned model as before
    /// (287 of 288 crops, against 286 with F(4×4) all fp32), layer2's too lost four (docs/precision.md).
    static let bf16F4MaxChannels = 64

    /// The only input size its engines run, when the plan was made for one (`init`'s `inputSize`); nil: any.
    public let inputSize: (height: Int, width: Int)?

    /// With int8: the products' input scales (from `seresnet calibrate`); nil otherwise.
    public let calibration: CalibrationFile?

    /// Packs every convolution's weights for `kernels` and `precision` (OpenBLAS keeps the network's own). Block by
    /// block, each block's folded weights are let go once packed, so when the caller hands over the only reference to the
    /// network (`consume`) the two copies never coexist in full: peak memory stays near one copy. `precision` must be one
    /// this CPU runs with `kernels` (`Precision.problem`). int8 needs `calibration` (the products' input scales): its
    /// convolutions after the stem and its classifier take int8 products, every 3×3 unfolded (Winograd's transforms do
    /// not carry over to integers), conv1, conv2 and each residual add handing their successors u8 operands; SE and the block
    /// outputs (the residuals) stay fp32, the stem too (bf16 products where the CPU has AVX512_BF16: its own direct kernel,
    /// more exact than int8 and faster than fp32).
    ///
    /// With `inputSize`, the only input size its engines will run: a stride-1 3×3 that runs as Winograd at every batch size
    /// there (it pays from one image) gets no unfolded copy of its weights (`BottleneckPlan.conv2` nil). At 224² that is
    /// every one: 33 MB of fp32 weights (17 MB of bf16) that no pass would read. Without it, every input size is served.
    public init(
        network: consuming SEResNet, kernels: KernelSelection = .auto, precision: Precision = .fp32, calibration: CalibrationFile? = nil,
        inputSize: (height: Int, width: Int)? = nil
    ) {
        guard let table = kernels.table(precision: precision) else {
            preconditionFailure(precision.problem(kernels: kernels) ?? "no kernel table")
        }
        precondition(precision != .int8 || calibration != nil, "int8 needs a calibration file (seresnet calibrate)")
        self.calibration = precision == .int8 ? calibration : nil
        let int8 = precision == .int8
        /// The input scale of the product named `name` (int8), nil otherwise.
        func scale(_ name: String) -> Float? { int8 ? calibration!.tensors[name]!.scale : nil }
        self.kernels = kernels
        self.precision = precision
        self.table = table
        let fp32Table = kernels.table(precision: .fp32)!
        self.fp32Table = fp32Table
        let products = table.hasProducts
        let kept = products ? network.withoutWeights() : network
        self.network = kept
        classifier =
            products
            ? network.classifierWeight.withUnsafeBufferPointer {
                PackedMatrix(
                    $0.baseAddress!, rows: network.architecture.numClasses, columns: network.architecture.featureCount,
                    bias: network.classifierBias, kernels: table, inputScale: scale("fc"))
            } : nil
        self.inputSize = inputSize
        // The map size at each block's input (after the stem and its 3×3 stride-2 pooling), where `inputSize` is given.
        var side: (height: Int, width: Int)? = nil
        if let size = inputSize {
            let stemShape = network.stem.shape
            side = ((stemShape.outputSide(size.height) - 1) / 2 + 1, (stemShape.outputSide(size.width) - 1) / 2 + 1)
        }
        var stem: ConvolutionLayer? = network.stem
        var pending = network.stages
        _ = consume network
        self.stem = ConvolutionPlan(stem.take()!, kernels: int8 ? (kernels.table(precision: .bf16) ?? fp32Table) : table)
        var stages: [[BottleneckPlan]] = []
        for s in pending.indices {
            var blocks: [BottleneckPlan] = []
            for b in pending[s].indices {
                let block = pending[s][b]
                // F(4×4) for narrow layers with the engine's kernels; with --precision bf16 its products stay fp32 but for
                // the narrowest (`bf16F4MaxChannels`), F(2×2)'s take the plan's table.
                let tile = products && block.spec.width <= Self.f4MaxChannels ? 4 : 2
                let winogradTable = tile == 4 && block.spec.width > Self.bf16F4MaxChannels ? fp32Table : table
                pending[s][b] = kept.stages[s][b]
                let name = "layer\(s + 1).\(b)"
                // int8: conv1 and conv2 write their output as the next product's u8 operand (whole groups of 4 channels),
                // and every block but the first reads its input as quads its predecessor's residual add wrote.
                let chained = int8 && block.spec.width % 4 == 0
                let quadInput = int8 && (s, b) != (0, 0) && block.spec.inChannels % 4 == 0
                let successor = b + 1 < pending[s].count ? (s, b + 1) : s + 1 < pending.count ? (s + 1, 0) : nil
                let outputQuadScale = successor.flatMap { next in
                    int8 && block.spec.outChannels % 4 == 0 ? scale("layer\(next.0 + 1).\(next.1).conv1") : nil
                }
                let winograd = block.spec.stride == 1 && !int8 ? WinogradWeights(block.conv2, tile: tile, kernels: winogradTable) : nil
                // Unfolded weights only where some pass unfolds (Winograd does not pay at every batch size of `inputSize`).
                let alwaysWinograd = side.map { winograd?.pays(batch: 1, height: $0.height, width: $0.width) ?? false } ?? false
                side = side.map { (block.conv2.shape.outputSide($0.height), block.conv2.shape.outputSide($0.width)) }
                // Where conv3 may end the block (products with the residual epilogue; conv3's K one block of the kernels in
                // every table, ≤ 256 values: layer1–3, since y is written over the shortcut), SE is folded with conv3.
                let conv3EndsBlock = table.hasResidualProducts && block.conv3.shape.inChannels <= Int(CK_GEMM_K_BLOCK)
                blocks.append(
                    BottleneckPlan(
                        block: kept.stages[s][b],
                        conv1: ConvolutionPlan(block.conv1, kernels: table, inputScale: scale("\(name).conv1"), takesQuads: quadInput),
                        conv2: alwaysWinograd
                            ? nil : ConvolutionPlan(block.conv2, kernels: table, inputScale: scale("\(name).conv2"), takesQuads: chained),
                        conv3: ConvolutionPlan(block.conv3, kernels: table, inputScale: scale("\(name).conv3"), takesQuads: chained),
                        // The downsample reads the block's input, as conv1 does.
                        downsample: block.downsample.map {
                            ConvolutionPlan($0, kernels: table, inputScale: scale("\(name).conv1"), takesQuads: quadInput)
                        },
                        squeezeExcitation: products
                            ? block.squeezeExcitation.map {
                                SqueezeExcitationPlan($0, kernels: fp32Table, conv3: conv3EndsBlock ? block.conv3 : nil)
                            } : nil,
                        conv3EndsBlock: conv3EndsBlock, winograd: winograd,
                        quantizedChain: chained, outputQuadScale: outputQuadScale))
            }
            stages.append(blocks)
        }
        self.stages = stages
    }

    /// Every convolution with its algorithm, in forward order, named as `StageProfile` names the parts
    /// ("stem", "layer1.0 conv1", …). What `seresnet bench --profile` and `GET /v1/model` report.
    public var layers: [(name: String, algorithm: String)] {
        var result = [(name: "stem", algorithm: stem.algorithm)]
        for (s, blocks) in stages.enumerated() {
            for (b, block) in blocks.enumerated() {
                let prefix = "layer\(s + 1).\(b)"
                result.append(("\(prefix) conv1", block.conv1.algorithm))
                let conv2: String
                if let winograd = block.winograd, let unfolded = block.conv2 {
                    conv2 = "\(winograd.algorithm) (from \(winograd.minimumTiles) tiles; below: \(unfolded.algorithm))"
                } else {
                    conv2 = block.winograd?.algorithm ?? block.conv2!.algorithm
                }
                result.append(("\(prefix) conv2", conv2))
                result.append(("\(prefix) conv3", block.conv3.algorithm))
                if let downsample = block.downsample { result.append(("\(prefix) downsample", downsample.algorithm)) }
            }
        }
        return result
    }
}

/// One bottleneck's convolutions as planned.
struct BottleneckPlan {
    let block: Bottleneck
    let conv1: ConvolutionPlan
    /// conv2 unfolded (im2col tiles); nil where it always runs as Winograd (`NetworkPlan`'s `inputSize`).
    let conv2: ConvolutionPlan?
    let conv3: ConvolutionPlan
    let downsample: ConvolutionPlan?
    /// SE's two products packed for the engine's fp32 GEMM; nil with OpenBLAS or without SE.
    let squeezeExcitation: SqueezeExcitationPlan?
    /// Whether conv3 can end the block (SE's scale, the shortcut and ReLU in its epilogue), where a pass's split allows
    /// (`PassSchedule.endsInConv3`): products with `gemm_residual`, K one block in every table; SE then folded with it.
    let conv3EndsBlock: Bool
    /// conv2 transformed for Winograd F(4×4) or F(2×2) when it has stride 1, used where it pays (`WinogradWeights.pays`).
    let winograd: WinogradWeights?
    /// int8: conv1 and conv2 write u8 quads at the next product's input scale (the requantization in their epilogue), which
    /// conv2 and conv3 read as their operands; no fp32 intermediate exists.
    let quantizedChain: Bool
    /// int8, but for the network's last block: its residual add also writes its output as u8 quads at this scale (the
    /// next block's conv1 input scale), which that block's conv1 and downsample read (`takesQuads`).
    let outputQuadScale: Float?
}

/// Squeeze-and-excitation's two matrices with their biases, packed for the engine's GEMM.
struct SqueezeExcitationPlan {
    /// hidden × channels
    let reduce: PackedMatrix
    /// channels × hidden
    let expand: PackedMatrix

    /// `reduce` folded with the block's conv3, for blocks whose conv3 ends them (`BlockSchedule.residualInConv3`): SE's
    /// squeeze is then taken from conv3's input. conv3 is a 1×1 convolution, linear, without padding, so the means of its
    /// output planes are W3·m + b3 for the means m of its input's, and SE's first layer W1·(W3·m + b3) + b1 =
    /// (W1·W3)·m + (W1·b3 + b1): hidden × conv3's input channels, computed in double at load. nil without `conv3`.
    let reduceFromInput: PackedMatrix?

    init(_ se: SqueezeExcitation, kernels: KernelTable, conv3: ConvolutionLayer? = nil) {
        reduce = se.reduceWeight.withUnsafeBufferPointer {
            PackedMatrix($0.baseAddress!, rows: se.hidden, columns: se.channels, bias: se.reduceBias, kernels: kernels)
        }
        expand = se.expandWeight.withUnsafeBufferPointer {
            PackedMatrix($0.baseAddress!, rows: se.channels, columns: se.hidden, bias: se.expandBias, kernels: kernels)
        }
        reduceFromInput = conv3.map { conv3 in
            let shape = conv3.shape
            precondition(shape.kernel == 1 && shape.stride == 1 && shape.outChannels == se.channels, "conv3 feeds SE")
            let (hidden, channels, inputs) = (se.hidden, se.channels, shape.inChannels)
            let w1 = se.reduceWeight.map(Double.init)
            let w3 = conv3.weights.map(Double.init)
            var folded = [Double](repeating: 0, count: hidden * inputs)
            cblas_dgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(hidden), Int32(inputs), Int32(channels), 1, w1, Int32(channels), w3,
                Int32(inputs), 0, &folded, Int32(inputs))
            let bias = (0..<hidden).map { h in
                Float((0..<channels).reduce(Double(se.reduceBias[h])) { $0 + w1[h * channels + $1] * Double(conv3.bias[$1]) })
            }
            return folded.map(Float.init).withUnsafeBufferPointer {
                PackedMatrix($0.baseAddress!, rows: hidden, columns: inputs, bias: bias, kernels: kernels)
            }
        }
    }
}
