import Foundation
import TestSupport
import Testing

@testable import Imaging

@Suite struct PreprocessConfigTests {
    static func config(_ pretrained: String) throws -> PreprocessConfig {
        try PreprocessConfig(configJSON: Data(#"{"architecture": "x", "pretrained_cfg": \#(pretrained)}"#.utf8))
    }

    @Test func readsTheSharedModelConfig() throws {
        let config = try Fixtures.config()
        #expect(config.inputHeight == 224 && config.inputWidth == 224)
        #expect(config.cropPct == 0.95)
        #expect(config.interpolation == .bicubic)
        #expect(config.mean == [0.485, 0.456, 0.406])
        #expect(config.std == [0.229, 0.224, 0.225])
        #expect(config.cropMode == .center)
        #expect(config.resizeShorterSide == 235)
        #expect(config.outputCount == 3 * 224 * 224)
    }

    @Test func resizeTargetIsFloorOfInputOverCropPct() throws {
        let imagenet: [Float] = [0.5, 0.5, 0.5]
        for (size, pct, expected) in [(224, 0.875, 256), (224, 1.0, 224), (288, 1.0, 288), (256, 0.95, 269), (224, 0.9, 248)] {
            let config = try PreprocessConfig(inputHeight: size, inputWidth: size, cropPct: pct, mean: imagenet, std: imagenet)
            #expect(config.resizeShorterSide == expected, "\(size) / \(pct)")
        }
    }

    @Test func missingFieldsTakeTimmDefaults() throws {
        let config = try Self.config("{}")
        #expect(config.inputHeight == 224 && config.cropPct == 0.875 && config.interpolation == .bicubic)
        #expect(config.mean == [0.485, 0.456, 0.406] && config.std == [0.229, 0.224, 0.225])
        #expect(try Self.config(#"{"interpolation": "bilinear", "crop_pct": null}"#).interpolation == .bilinear)
    }

    @Test func normalizationTableIsTorchvisionArithmetic() throws {
        let config = try Fixtures.config()
        for value in [0, 1, 127, 255] {
            #expect(config.normalizationTable[256 + value] == (Float(value) / 255 - Float(0.456)) / Float(0.224))
        }
    }

    @Test func rejectsWhatItCannotReproduce() throws {
        #expect(throws: PreprocessConfigError.missingPretrainedConfig) {
            try PreprocessConfig(configJSON: Data(#"{"architecture": "resnet50"}"#.utf8))
        }
        #expect(
            throws: PreprocessConfigError.unsupported(
                name: "interpolation", value: "nearest",
                supported: ["bilinear", "bicubic", "box", "hamming", "lanczos"])
        ) {
            try Self.config(#"{"interpolation": "nearest"}"#)
        }
        #expect(throws: PreprocessConfigError.unsupported(name: "crop_mode", value: "squash", supported: ["center"])) {
            try Self.config(#"{"crop_mode": "squash"}"#)
        }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"input_size": [3, 224, 256]}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"input_size": [1, 224, 224]}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"input_size": [224, 224]}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"input_size": [3, 224.5, 224.5]}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"crop_pct": 0}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"crop_pct": "0.9"}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"std": [0.2, 0, 0.2]}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"mean": [0.5, 0.5]}"#) }
        #expect(throws: PreprocessConfigError.self) { try Self.config(#"{"mean": [true, 0.5, 0.5]}"#) }
        #expect(throws: PreprocessConfigError.self) { try PreprocessConfig(configJSON: Data("not json".utf8)) }
        #expect(throws: PreprocessConfigError.self) { try PreprocessConfig(configJSON: Data("[1, 2]".utf8)) }
    }

    @Test func errorMessagesNameTheField() {
        let error = PreprocessConfigError.unsupported(name: "interpolation", value: "nearest", supported: ["bicubic"])
        #expect(error.message.contains("pretrained_cfg.interpolation") && error.message.contains("bicubic"))
        #expect(PreprocessConfigError.invalidField(name: "std", reason: "zero").message.contains("pretrained_cfg.std"))
    }
}

@Suite struct DecodeScaleTests {
    @Test func picksTheSmallestScaleKeepingTwiceTheTarget() {
        #expect(jpegDecodeScale(width: 4096, height: 4096, targetShorterSide: 235) == 1)  // 512 ≥ 470
        #expect(jpegDecodeScale(width: 4032, height: 3024, targetShorterSide: 235) == 2)  // 378 < 470 ≤ 756
        #expect(jpegDecodeScale(width: 1880, height: 3000, targetShorterSide: 235) == 2)  // 470 exactly
        #expect(jpegDecodeScale(width: 1877, height: 3000, targetShorterSide: 235) == 2)  // ceil(469.25) = 470
        #expect(jpegDecodeScale(width: 1876, height: 3000, targetShorterSide: 235) == 4)  // 469 < 470
        #expect(jpegDecodeScale(width: 940, height: 940, targetShorterSide: 235) == 4)
        #expect(jpegDecodeScale(width: 939, height: 2000, targetShorterSide: 235) == 4)  // ceil(469.5) = 470
        #expect(jpegDecodeScale(width: 937, height: 2000, targetShorterSide: 235) == 8)  // ceil(468.5) = 469
        #expect(jpegDecodeScale(width: 451, height: 300, targetShorterSide: 235) == 8)
        #expect(jpegDecodeScale(width: 1, height: 1, targetShorterSide: 235) == 8)
        #expect(jpegDecodeScale(width: 4096, height: 4096, targetShorterSide: nil) == 8)
        #expect(jpegDecodeScale(width: 4096, height: 4096, targetShorterSide: 0) == 8)
    }

    @Test func largeFixtureDecodesAtOneEighth() throws {
        let image = try decodeJPEG(try Fixtures.image("astronaut-large-4096x4096.jpg"), targetShorterSide: 235)
        #expect(image.scaleEighths == 1)
        #expect(image.width == 512 && image.height == 512)
        #expect(image.originalWidth == 4096 && image.originalHeight == 4096)
        #expect(image.pixels.count == 512 * 512 * 3)
    }

    @Test func scaledSizesFollowLibjpegRounding() throws {
        // 1600×300 with a target of 75: 4/8 gives a 150-pixel shorter side, exactly 2 × 75.
        let image = try decodeJPEG(try Fixtures.image("cat-wide-1600x300.jpg"), targetShorterSide: 75)
        #expect(image.scaleEighths == 4)
        #expect(image.width == 800 && image.height == 150)
        #expect(image.originalWidth == 1600 && image.originalHeight == 300)
    }
}
