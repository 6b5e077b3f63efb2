import Foundation
import Imaging
import TestSupport

extension Fixtures {
    /// The tiny model's preprocessing config (the same data config as the golden tensors).
    static func config() throws -> PreprocessConfig { try PreprocessConfig(configJSON: data("tiny-seresnet/config.json")) }

    /// A golden CHW float32 tensor produced by timm's eval transform.
    static func golden(_ name: String) throws -> [Float] { try floats("golden/\(name)") }

    /// The images with a golden tensor; empty when the manifest is missing (the count test then fails).
    static var goldenImageNames: [String] { (try? goldenImages()) ?? [] }
}
