import Foundation
import Imaging

/// Reads the shared reference data (../shared/fixtures from the package root, or $SHARED_FIXTURES).
enum Fixtures {
    static let root: URL = {
        if let path = ProcessInfo.processInfo.environment["SHARED_FIXTURES"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        // #filePath is <root>/Tests/ImagingTests/Fixtures.swift.
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }()

    static func image(_ name: String) throws -> [UInt8] {
        let url = root.appendingPathComponent("images/\(name)")
        // Data(contentsOf:) leaks its 4 KiB read buffer on a 0-byte file (swift-foundation, seen with
        // `swift test --sanitize=address`); bad-empty.jpg is exactly that, so skip the read for it.
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        return size == 0 ? [] : [UInt8](try Data(contentsOf: url))
    }

    /// A golden CHW float32 tensor produced by timm's eval transform.
    static func golden(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: root.appendingPathComponent("golden/\(name)"))
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The preprocessing config of the shared tiny model (same data config as the goldens).
    static func config() throws -> PreprocessConfig {
        try PreprocessConfig(configJSON: Data(contentsOf: root.appendingPathComponent("tiny-seresnet/config.json")))
    }

    /// Valid images with a golden tensor, from the golden manifest.
    static let goldenImages: [String] = {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("golden/manifest.json")),
            let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let images = manifest["images"] as? [String: Any]
        else { return [] }
        return images.keys.sorted()
    }()
}
