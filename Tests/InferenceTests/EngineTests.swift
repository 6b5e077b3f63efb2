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
    @Test(arguments: [(64, 48, 0), (112, 112, 1), (224, 224, 2), (640, 640, 4)])
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
        for stage in 1...model.network.stages.count {
            for part in ["conv1", "conv2", "conv3", "add"] { #expect(names.contains("layer\(stage) \(part)")) }
        }
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
