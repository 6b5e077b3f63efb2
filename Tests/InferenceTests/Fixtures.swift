import Foundation

/// Locates `../shared/fixtures` (or `$SHARED_FIXTURES`) from this source file, and reads raw f32 files.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var root: URL {
        if let path = ProcessInfo.processInfo.environment["SHARED_FIXTURES"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }

    static var tinyModel: URL { root.appendingPathComponent("tiny-seresnet") }

    /// A raw little-endian float32 file.
    static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in (0..<data.count / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seresnet-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// max |a − b| over two equally long arrays.
func maxAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The fixture's engine tolerance: max |Δlogit| ≤ 1e-4 · max(1, max |logit|).
func logitTolerance(_ reference: [Float]) -> Float {
    1e-4 * max(1, reference.map(abs).max() ?? 0)
}
