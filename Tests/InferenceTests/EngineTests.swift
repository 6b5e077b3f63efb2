import Foundation
import TestSupport
import Testing

@testable import Inference

/// Whole-network properties: batching, architecture variants, synthetic weights.
@Suite(.needsFixtures) struct EngineTests {
    @Test func eachImageOfABatchEqualsRunningItAlone() throws {
        let model = TimmGoldenTests.model
        let engine = InferenceEngine(network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: 5, threads: 2)
        let images = ["cat-baseline-420", "astronaut-restart", "coffee-gray", "cat-wide-1600x300", "one-pixel-1x1"]
        let inputs = try images.map { try Fixtures.floats("golden/\($0).input.f32") }
        let batched = engine.classify(inputs.flatMap { $0 }, batch: 5)
        for (i, input) in inputs.enumerated() {
            let alone = engine.classify(input, batch: 1)
            let slice = Array(batched[i * 1000..<(i + 1) * 1000])
            #expect(maxAbsoluteDifference(slice, alone) <= logitTolerance(alone), "\(images[i])")
        }
    }

    /// Batches run their large-map stages image by image, then gather: every split (none, some stages, all of them) gives
    /// each image what it gets alone.
    @Test(arguments: [(64, 48, 0), (160, 160, 1), (224, 224, 1), (640, 640, 3)])
    func imageByImageStagesGatherEachImage(_ size: (height: Int, width: Int, stages: Int)) {
        let model = TimmGoldenTests.model
        #expect(InferenceEngine.imageByImageStages(model.network, height: size.height, width: size.width) == size.stages)
        let engine = InferenceEngine(network: model.network, inputHeight: size.height, inputWidth: size.width, maxBatch: 3, threads: 2)
        #expect(engine.imageByImageStageNames == (0..<size.stages).map { "layer\($0 + 1)" })
        let single = InferenceEngine(network: model.network, inputHeight: size.height, inputWidth: size.width, maxBatch: 1, threads: 1)
        #expect(single.imageByImageStageNames.isEmpty)
        let inputs = (0..<3).map { KernelTests.randomValues(engine.inputSize, seed: 30 + UInt64($0)) }
        let batched = engine.classify(inputs.flatMap { $0 }, batch: 3)
        for (i, input) in inputs.enumerated() {
            let alone = engine.classify(input, batch: 1)
            #expect(maxAbsoluteDifference(Array(batched[i * 1000..<(i + 1) * 1000]), alone) <= logitTolerance(alone), "image \(i)")
        }
    }

    /// A plan made for one input size keeps no unfolded conv2 weights where Winograd runs at every batch size of it
    /// (the tiny model at 224²: layer3, whose 14² maps give F(4×4) 16 tiles from one image; layer4's 7² give it 4, and
    /// layer1–2 are narrower than Winograd's 64 channels), all of them at 64×48, and its engines answer bit for bit as
    /// engines on a plan for every size.
    @Test(arguments: [(224, 224, ["layer3"]), (64, 48, [])])
    func planForOneInputSizeKeepsOnlyTheWeightsItsPassesRead(_ size: (height: Int, width: Int, winogradOnly: [String])) {
        let model = TimmGoldenTests.model
        let plan = NetworkPlan(network: model.network, inputSize: (size.height, size.width))
        for (s, blocks) in plan.stages.enumerated() {
            for (b, block) in blocks.enumerated() {
                let alwaysWinograd = block.block.spec.stride == 1 && size.winogradOnly.contains("layer\(s + 1)")
                #expect((block.conv2 == nil) == alwaysWinograd, "layer\(s + 1).\(b) at \(size.height)×\(size.width)")
            }
        }
        let sized = InferenceEngine(plan: plan, inputHeight: size.height, inputWidth: size.width, maxBatch: 3, threads: 2)
        let general = InferenceEngine(network: model.network, inputHeight: size.height, inputWidth: size.width, maxBatch: 3, threads: 2)
        let inputs = (0..<3).flatMap { KernelTests.randomValues(sized.inputSize, seed: 40 + UInt64($0)) }
        #expect(sized.classify(inputs, batch: 3) == general.classify(inputs, batch: 3))
        let first = Array(inputs.prefix(sized.inputSize))
        #expect(sized.classify(first, batch: 1) == general.classify(first, batch: 1))
        #expect(plan.layers.count == NetworkPlan(network: model.network).layers.count)
    }

    @Test func engineWithOneThreadEqualsTwoThreads() throws {
        let model = TimmGoldenTests.model
        let input = try Fixtures.floats("tiny-seresnet/random-batch2.input.f32")
        let one = InferenceEngine(network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 1).classify(
            input, batch: 2)
        let two = InferenceEngine(network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 2).classify(
            input, batch: 2)
        #expect(maxAbsoluteDifference(one, two) <= logitTolerance(one))
    }

    @Test func profileChargesEveryPartOfEveryPassAndChangesNothing() throws {
        let model = TimmGoldenTests.model
        let input = try Fixtures.floats("tiny-seresnet/random-batch2.input.f32")
        let engine = InferenceEngine(network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 2)
        let plain = engine.classify(input, batch: 2)
        let profile = StageProfile()
        engine.profile = profile
        let started = DispatchTime.now().uptimeNanoseconds
        var profiled: [Float] = []
        for _ in 0..<3 { profiled = engine.classify(input, batch: 2) }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        #expect(profiled == plain)
        #expect(profile.passes == 3)
        let names = profile.parts.map(\.name)
        #expect(names.first == "stem" && names.last == "head")
        // A stage whose blocks all end in conv3's epilogue has no separate add.
        let schedule = engine.schedule(batch: 2)
        for stage in 1...model.network.stages.count {
            for part in ["conv1", "conv2", "conv3"] { #expect(names.contains("layer\(stage) \(part)")) }
            let conv3s = schedule.filter { $0.name.hasPrefix("layer\(stage).") && $0.name.hasSuffix("conv3") }
            let fused = conv3s.filter { $0.algorithm.contains("residual add") }.count
            #expect(names.contains("layer\(stage) add") == (fused < conv3s.count), "layer\(stage): \(fused) of \(conv3s.count) fused")
        }
        #expect(schedule.contains { $0.algorithm.contains("residual add") }, "the tiny model's first stages end in conv3")
        #expect(names.contains("layer1 se") == (model.network.stages[0][0].squeezeExcitation != nil))
        #expect(names.contains { $0.hasSuffix("downsample") })
        // The parts tile each pass: their sum is the passes' wall time (less the copies in and out of `classify`).
        let total = profile.parts.reduce(0) { $0 + $1.milliseconds }
        #expect(total > 0 && total <= elapsed)
    }

    @Test(arguments: [SyntheticWeights.Preset.resnet50, .seresnet101, .tiny])
    func syntheticPresetsLoadThroughTheSameCode(_ preset: SyntheticWeights.Preset) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try SyntheticWeights.write(preset: preset, seed: 3, to: directory.path)
        let model = try ModelDirectory(path: directory.path).load()
        #expect(model.network.architecture == preset.architecture)
        #expect(model.network.architecture.hasSqueezeExcitation == (preset != .resnet50))
        // A small input keeps this fast; the logits must be finite and depend on the input.
        let engine = InferenceEngine(network: model.network, inputHeight: 64, inputWidth: 48, maxBatch: 2, threads: 2)
        let input = KernelTests.randomValues(2 * engine.inputSize, seed: 4)
        let logits = engine.classify(input, batch: 2)
        #expect(logits.allSatisfy { $0.isFinite })
        #expect(maxAbsoluteDifference(Array(logits[0..<1000]), Array(logits[1000..<2000])) > 1e-3)
    }

    /// `synth-weights --conditioned`: the logits spread as the conditioning asks (std 3 over the classes on its noise
    /// images), and bn3 is scaled by 0.2 against the plain model of the same seed.
    @Test func conditionedWeightsSpreadTheLogitsAsAsked() throws {
        let plain = try Fixtures.temporaryDirectory()
        let conditioned = try Fixtures.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: plain)
            try? FileManager.default.removeItem(at: conditioned)
        }
        try SyntheticWeights.write(preset: .tiny, seed: 5, to: plain.path)
        try SyntheticWeights.write(preset: .tiny, seed: 5, conditioned: true, to: conditioned.path)
        let spread = try SyntheticWeights.logitSpread(of: ModelDirectory(path: conditioned.path))
        #expect(abs(spread - SyntheticWeights.conditionedLogitSpread) < 0.01, "spread \(spread)")
        let a = try SafetensorsFile(path: plain.appendingPathComponent("model.safetensors").path)
        let b = try SafetensorsFile(path: conditioned.appendingPathComponent("model.safetensors").path)
        for name in ["layer2.1.bn3.weight", "layer3.0.bn3.bias"] {
            let x = try a.floats(try #require(a.entries[name]))
            let y = try b.floats(try #require(b.entries[name]))
            #expect(zip(x, y).allSatisfy { abs($0 * 0.2 - $1) <= 1e-7 * abs($0) }, "\(name)")
        }
    }

    /// The engine run without each optimization of the pass (`PassOptimization`, what `bench --without` compares against)
    /// answers as with it: fp32 within the logit tolerance (SE's means summed in another order), bf16 with the same top-1
    /// class on the conditioned tiny model and within the bf16 test's probability bound; with it again, bit for bit as
    /// before; and `EngineComparison` times both, pass by pass.
    @Test(arguments: [Precision.fp32, .bf16])
    func enginesWithoutAnOptimizationAnswerAsTheFullOne(_ precision: Precision) throws {
        guard precision != .bf16 || KernelTable.cpuHasBF16 else {
            print("EngineTests: this CPU lacks AVX512_BF16: engines without optimizations are compared in fp32 only")
            return
        }
        let (model, images) = try Self.conditionedTinyModelAndImages()
        let batch = 3
        let plan = NetworkPlan(network: model.network, precision: precision)
        let engine = InferenceEngine(plan: plan, inputHeight: 224, inputWidth: 224, maxBatch: batch, threads: 2)
        for (slot, image) in images.prefix(batch).enumerated() { _ = engine.inputSlot(slot).update(fromContentsOf: image) }
        // A batch of three and the first image alone.
        func answers(without: Set<PassOptimization>) -> [[Float]] {
            [batch, 1].map { Array(engine.run(batch: $0, without: without)) }
        }
        let expected = answers(without: [])
        for without in PassOptimization.allCases.map({ Set([$0]) }) + [Set(PassOptimization.allCases)] {
            for (a, e) in zip(answers(without: without), expected) {
                for image in 0..<a.count / engine.numClasses {
                    let range = image * engine.numClasses..<(image + 1) * engine.numClasses
                    let (p, q) = (softmax(Array(e[range])), softmax(Array(a[range])))
                    #expect(p.indices.max { p[$0] < p[$1] } == q.indices.max { q[$0] < q[$1] }, "\(without) image \(image)")
                    if precision == .fp32 {
                        #expect(maxAbsoluteDifference(Array(a[range]), Array(e[range])) <= logitTolerance(Array(e[range])), "\(without)")
                    } else {
                        #expect(maxAbsoluteDifference(p, q) <= 0.015, "\(without) image \(image)")
                    }
                }
            }
            #expect(answers(without: []) == expected, "the engine's own decisions again after \(without)")
            let comparison = EngineComparison(engine, without: without, batch: batch, pairs: 3, warmup: 1)
            #expect(comparison.first.count == 3 && comparison.second.count == 3 && comparison.medianRatio > 0)
        }
    }

    /// bf16 products against fp32, the whole network: on a conditioned model (where fp32 implementations agree exactly,
    /// as on trained weights) every fixture image and a random batch keep fp32's top-1 class, and no probability moves by
    /// more than 0.015 (OpenVINO's bf16 keeps within 0.009 of fp32 on the full-size conditioned model).
    @Test(.enabled(if: KernelTable.cpuHasBF16, "this CPU lacks AVX512_BF16"), .needsFixtures)
    func bf16AgreesWithFP32OnAConditionedModel() throws {
        let (model, images) = try Self.conditionedTinyModelAndImages()
        let batch = images.count
        let engines = [Precision.fp32, .bf16].map {
            InferenceEngine(network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: batch, threads: 2, precision: $0)
        }
        let input = images.flatMap { $0 } + KernelTests.randomValues(2 * engines[0].inputSize, seed: 12)
        let logits = engines.map { Array($0.classify(Array(input.prefix(batch * $0.inputSize)), batch: batch)) }
        let classes = engines[0].numClasses
        var worst: Float = 0
        for image in 0..<batch {
            let p = softmax(Array(logits[0][image * classes..<(image + 1) * classes]))
            let q = softmax(Array(logits[1][image * classes..<(image + 1) * classes]))
            #expect(p.indices.max { p[$0] < p[$1] } == q.indices.max { q[$0] < q[$1] }, "image \(image): top-1 changed")
            worst = max(worst, maxAbsoluteDifference(p, q))
        }
        #expect(worst <= 0.015, "max |Δp| \(worst)")
        #expect(logits[0] != logits[1], "bf16 products must differ from fp32 somewhere")
    }

    /// int8 products against fp32, the whole network, on a conditioned tiny model calibrated (minmax) on the fixture
    /// images and judged on the same images: the engine's int8 path end to end (per-layer scales, the
    /// unfolded 3×3s, the quantized classifier) keeps fp32's top-1 class on most images, and every probability within a
    /// stated bound. Deterministic: the kernels' sums are exact and the calibration is taken at a fixed thread count.
    @Test(.enabled(if: KernelSelection.auto.table(precision: .int8) != nil, "this CPU has no int8 kernels (AVX2)"), .needsFixtures)
    func int8AgreesWithFP32OnAConditionedModel() throws {
        let (model, images) = try Self.conditionedTinyModelAndImages()
        let batch = images.count
        let fp32 = InferenceEngine(network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: batch, threads: 2)
        let ranges = ActivationRanges()
        fp32.observer = { ranges.observeRange($0, $1) }
        let input = images.flatMap { $0 }
        let reference = Array(fp32.classify(input, batch: batch))
        let calibration = CalibrationFile(
            model: "tiny", weightsSHA256: model.weightsSHA256, method: .minmax, percentile: nil, images: batch, ranges: ranges)
        var results: [(kernels: KernelSelection, agree: Int, worst: Float)] = []
        for kernels in [KernelSelection.auto, .avx2] where kernels.table(precision: .int8) != nil {
            let int8 = InferenceEngine(
                network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: batch, threads: 2, kernels: kernels,
                precision: .int8, calibration: calibration)
            #expect(int8.plan.layers.allSatisfy { !$0.algorithm.contains("Winograd") })
            let logits = Array(int8.classify(input, batch: batch))
            let classes = int8.numClasses
            var agree = 0
            var worst: Float = 0
            for image in 0..<batch {
                let p = softmax(Array(reference[image * classes..<(image + 1) * classes]))
                let q = softmax(Array(logits[image * classes..<(image + 1) * classes]))
                if p.indices.max(by: { p[$0] < p[$1] }) == q.indices.max(by: { q[$0] < q[$1] }) { agree += 1 }
                worst = max(worst, maxAbsoluteDifference(p, q))
            }
            print("int8 (\(int8.plan.table.name)) against fp32: top-1 \(agree) of \(batch), max |Δp| \(worst)")
            results.append((kernels, agree, worst))
            #expect(logits != reference, "int8 products must differ from fp32 somewhere")
            #expect(logits.allSatisfy { $0.isFinite })
        }
        // Measured on Zen 4 (2026-12-06): VNNI 11 of 12 and max |Δp| 0.013; AVX2 (7-bit weights) 9 of 12 and 0.008. The
        // bounds leave room for another CPU's fp32 stem and SE (other kernels there) to round differently.
        for result in results {
            #expect(result.agree * 3 >= batch * 2, "\(result.kernels): top-1 kept on \(result.agree) of \(batch) images")
            #expect(result.worst <= 0.05, "\(result.kernels): max |Δp| \(result.worst)")
        }
    }

    /// The tiny synthetic model conditioned as reduced precision is judged (seed 11), and the fixture images' timm inputs.
    static func conditionedTinyModelAndImages() throws -> (LoadedModel, [[Float]]) {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try SyntheticWeights.write(preset: .tiny, seed: 11, conditioned: true, to: directory.path)
        let model = try ModelDirectory(path: directory.path).load()
        let images = try Fixtures.goldenImages().map { try Fixtures.floats("golden/\(($0 as NSString).deletingPathExtension).input.f32") }
        return (model, images)
    }

    func softmax(_ logits: [Float]) -> [Float] {
        let top = logits.max() ?? 0
        let e = logits.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    @Test func syntheticWeightsAreDeterministic() throws {
        let a = try Fixtures.temporaryDirectory()
        let b = try Fixtures.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: a)
            try? FileManager.default.removeItem(at: b)
        }
        try SyntheticWeights.write(preset: .tiny, seed: 42, to: a.path)
        try SyntheticWeights.write(preset: .tiny, seed: 42, to: b.path)
        let first = try Data(contentsOf: a.appendingPathComponent("model.safetensors"))
        let second = try Data(contentsOf: b.appendingPathComponent("model.safetensors"))
        #expect(first == second)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: a.appendingPathComponent("config.json"))) as! [String: Any]
        let pretrained = config["pretrained_cfg"] as! [String: Any]
        #expect(pretrained["input_size"] as? [Int] == [3, 224, 224])
        #expect(pretrained["crop_pct"] as? Double == 0.95)
    }

    @Test func flopCountMatchesSEResNet50() throws {
        let architecture = SyntheticWeights.Preset.seresnet50.architecture
        // timm reports 4.11 GMACs for seresnet50 at 224².
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try SyntheticWeights.write(preset: .seresnet50, seed: 0, to: directory.path)
        let model = try ModelDirectory(path: directory.path).load()
        #expect(model.network.architecture == architecture)
        #expect(model.network.parameterCount == 28_088_024)
        let engine = InferenceEngine(network: model.network, inputHeight: 224, inputWidth: 224, maxBatch: 1, threads: 1)
        #expect(abs(Double(engine.multiplyAccumulatesPerImage) / 1e9 - 4.09) < 0.03)
    }
}
