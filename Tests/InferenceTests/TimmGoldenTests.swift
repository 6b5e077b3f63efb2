import Foundation
import TestSupport
import Testing

@testable import Inference

/// The tiny timm-made SE-ResNet against timm's own logits.
@Suite(.needsFixtures) struct TimmGoldenTests {
    static let model = try! ModelDirectory(path: Fixtures.tinyModel.path).load()

    /// Every kernel family the engine can plan with (OpenBLAS, and the engine's own AVX2 and widest kernels).
    static let kernelSelections: [KernelSelection] = [.auto, .avx2, .blas]

    @Test(arguments: kernelSelections)
    func randomBatchOfTwoMatchesTimm(kernels: KernelSelection) throws {
        let input = try Fixtures.floats("tiny-seresnet/random-batch2.input.f32")
        let expected = try Fixtures.floats("tiny-seresnet/random-batch2.logits.f32")
        let engine = InferenceEngine(
            network: Self.model.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 2, kernels: kernels)
        let logits = engine.classify(input, batch: 2)
        #expect(maxAbsoluteDifference(logits, expected) <= logitTolerance(expected), "\(kernels)")
    }

    static var goldenImages: [String] {
        ((try? Fixtures.jsonObject("tiny-seresnet/golden.json"))?["images"] as? [String: Any])?.keys.sorted() ?? []
    }

    @Test(arguments: goldenImages, kernelSelections)
    func goldenInputMatchesTimm(image: String, kernels: KernelSelection) throws {
        let stem = (image as NSString).deletingPathExtension
        let input = try Fixtures.floats("golden/\(stem).input.f32")
        let expected = try Fixtures.floats("tiny-seresnet/\(stem).logits.f32")
        let engine = InferenceEngine(
            network: Self.model.network, inputHeight: 224, inputWidth: 224, maxBatch: 1, threads: 1, kernels: kernels)
        let logits = engine.classify(input, batch: 1)
        #expect(maxAbsoluteDifference(logits, expected) <= logitTolerance(expected), "\(image) \(kernels)")
    }

    /// Class activation maps from the engine's layer4 output in a batch of two (the golden image in slot 1) against
    /// timm's `fc.weight[c] · forward_features(x)`, for its top-3 classes.
    @Test(arguments: goldenImages, [KernelSelection.auto, .blas])
    func classActivationMapsMatchTimm(image: String, kernels: KernelSelection) throws {
        let stem = (image as NSString).deletingPathExtension
        let golden = try #require(
            (try Fixtures.jsonObject("tiny-seresnet/golden.json")["images"] as? [String: Any])?[image] as? [String: Any])
        let cam = try #require(golden["cam"] as? [String: Any])
        let classes = try #require(cam["classes"] as? [Int])
        let expected = try Fixtures.floats("tiny-seresnet/\(stem).cam.f32")
        let input = try Fixtures.floats("golden/\(stem).input.f32")
        let engine = InferenceEngine(
            network: Self.model.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 2, kernels: kernels)
        _ = engine.classify(try Fixtures.floats("tiny-seresnet/random-batch2.input.f32").prefix(input.count) + input, batch: 2)
        let features = engine.features(slot: 1)
        #expect(features.channels == 512 && features.height == 7 && features.width == 7)
        let maps = ClassActivationMap.maps(features, network: engine.network, classes: classes).flatMap { $0 }
        #expect(maxAbsoluteDifference(maps, expected) <= logitTolerance(expected), "\(image) \(kernels)")
        // A map's mean plus the class's bias is its logit (global average pooling is linear).
        let logits = try Fixtures.floats("tiny-seresnet/\(stem).logits.f32")
        for (k, c) in classes.enumerated() {
            let mean = maps[k * 49..<(k + 1) * 49].reduce(0, +) / 49
            #expect(abs(mean + engine.network.classifierBias[c] - logits[c]) <= logitTolerance(logits))
        }
    }

    @Test func weightsHashMatchesTheFixtureManifest() throws {
        let manifest = try Fixtures.jsonObject("tiny-seresnet/golden.json")
        #expect(Self.model.weightsSHA256 == manifest["weights_sha256"] as? String)
    }

    @Test func architectureIsDerivedFromTheTensors() {
        let architecture = Self.model.network.architecture
        #expect(architecture.depths == [3, 4, 6, 3])
        #expect(architecture.stemWidth == 64)
        #expect(architecture.stageWidths == [16, 32, 64, 128])
        #expect(architecture.stageOutputs == [64, 128, 256, 512])
        #expect(architecture.numClasses == 1000)
        #expect(architecture.hasSqueezeExcitation)
        #expect(Self.model.config.name == "seresnet50_tiny_test.random_test_weights")
    }
}

/// The repository's test data is complete: suites that load it while they are set up are marked `.needsFixtures`
/// and skip when it is not, so this is the one failure that says what is missing.
@Suite struct FixtureTests {
    @Test func fixturesArePresent() {
        #expect(Fixtures.problem == nil, "\(Fixtures.problem ?? "")")
    }
}
