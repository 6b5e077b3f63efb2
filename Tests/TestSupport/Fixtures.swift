import Foundation
import Testing

/// The test data in `Tests/Fixtures` (its README says how each file was made; `SHA256SUMS` lists them). Every
/// Swift test reads fixtures through here, so a missing or unreadable file fails the test that needs it with one
/// message naming the file, never a crash of the whole test process.
public enum Fixtures {
    /// The package root: `#filePath` is `<root>/Tests/TestSupport/Fixtures.swift`.
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `Tests/Fixtures`.
    public static let root = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// The tiny timm-made SE-ResNet model directory (timm's Hugging Face layout).
    public static let tinyModel = root.appendingPathComponent("tiny-seresnet")

    /// A file under `Tests/Fixtures`, checked to exist.
    public static func url(_ relativePath: String) throws -> URL {
        let url = root.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw FixtureError.missing(relativePath) }
        return url
    }

    /// A file under `Tests/Fixtures`, read whole.
    public static func data(_ relativePath: String) throws -> Data {
        let url = try url(relativePath)
        // Data(contentsOf:) leaks its 4 KiB read buffer on a 0-byte file (swift-foundation, seen with
        // `swift test --sanitize=address`); bad-empty.jpg is exactly that, so skip the read for it.
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        if size == 0 { return Data() }
        do { return try Data(contentsOf: url) } catch { throw FixtureError.unreadable(relativePath, "\(error)") }
    }

    /// A file under `Tests/Fixtures` as bytes.
    public static func bytes(_ relativePath: String) throws -> [UInt8] { [UInt8](try data(relativePath)) }

    /// A JPEG from `Tests/Fixtures/images`.
    public static func image(_ name: String) throws -> [UInt8] { try bytes("images/\(name)") }

    /// A raw little-endian float32 file under `Tests/Fixtures` (no header, C order).
    public static func floats(_ relativePath: String) throws -> [Float] { floats(try data(relativePath)) }

    /// A JSON object under `Tests/Fixtures`.
    public static func jsonObject(_ relativePath: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data(relativePath)) as? [String: Any] else {
            throw FixtureError.unreadable(relativePath, "not a JSON object")
        }
        return object
    }

    /// Raw little-endian float32 values.
    public static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0..<data.count / 4).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    /// Valid images with a golden tensor, from `golden/manifest.json`.
    public static func goldenImages() throws -> [String] {
        guard let images = try jsonObject("golden/manifest.json")["images"] as? [String: Any] else {
            throw FixtureError.unreadable("golden/manifest.json", "no \"images\" object")
        }
        return images.keys.sorted()
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seresnet-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Why a fixture could not be read; the message says what to do.
public enum FixtureError: Error, CustomStringConvertible {
    case missing(String)
    case unreadable(String, String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "test fixture Tests/Fixtures/\(path) is missing: the repository's test data is incomplete "
                + "(git status Tests/Fixtures; `sha256sum -c SHA256SUMS` in Tests/Fixtures lists what is wrong)"
        case .unreadable(let path, let reason):
            return "test fixture Tests/Fixtures/\(path) cannot be read: \(reason)"
        }
    }
}

/// max |a − b| over two equally long arrays.
public func maxAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The tiny model's engine tolerance (Tests/Fixtures/README.md): max |Δlogit| ≤ 1e-4 · max(1, max |logit|).
public func logitTolerance(_ reference: [Float]) -> Float {
    1e-4 * max(1, reference.map(abs).max() ?? 0)
}

extension Fixtures {
    /// What is missing from `Tests/Fixtures` (every file `SHA256SUMS` lists must exist), or nil when nothing is.
    /// The SHA-256 sums themselves are checked by `Tests/python/test_repository.py`, which `scripts/test.sh` runs first.
    public static let problem: String? = {
        guard let manifest = try? String(contentsOf: root.appendingPathComponent("SHA256SUMS"), encoding: .utf8) else {
            return "Tests/Fixtures/SHA256SUMS is missing: the repository's test data is incomplete"
        }
        let missing = manifest.split(separator: "\n").compactMap { line -> String? in
            guard let space = line.firstIndex(of: " ") else { return nil }
            let path = line[space...].drop(while: { $0 == " " || $0 == "*" })
            return FileManager.default.fileExists(atPath: root.appendingPathComponent(String(path)).path) ? nil : String(path)
        }
        return missing.isEmpty ? nil : FixtureError.missing(missing.joined(separator: ", ")).description
    }()
}

extension Trait where Self == ConditionTrait {
    /// For suites that load fixtures while they are set up (a static model or service): skipped when a fixture is
    /// missing, so one test (`fixturesArePresent`) fails with the reason instead of the whole test process crashing.
    public static var needsFixtures: Self {
        .enabled(if: Fixtures.problem == nil, Comment(rawValue: Fixtures.problem ?? ""))
    }
}
