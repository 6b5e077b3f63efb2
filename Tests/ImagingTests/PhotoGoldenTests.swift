import Foundation
import TestSupport
import Testing

@testable import Imaging

/// Photos the fixtures do not have — 1000 to 4096 pixels on a side (the sizes a DCT-scaled decode would shrink),
/// progressive, 4:4:4, EXIF-rotated — against timm's tensor from `Tests/Fixtures/make-photo-goldens.py` (which first
/// checks its pipeline against the fixtures' own timm goldens, bit for bit). The default decode is exact.
@Suite struct PhotoGoldenTests {
    /// The photos and goldens, made once into a temporary directory named for the generator's contents (so a
    /// changed script makes new ones and repeated runs reuse them), written under a unique name and renamed into
    /// place, so parallel test processes never read a half-written set.
    static let directory: Result<URL, PhotoGoldenError> = {
        let packageRoot = Fixtures.packageRoot
        let scripts = ["Tests/Fixtures/make-photo-goldens.py", "Tests/Fixtures/timm_transform.py"].map {
            packageRoot.appendingPathComponent($0)
        }
        guard let sources = try? scripts.map({ try Data(contentsOf: $0) }) else {
            return .failure(PhotoGoldenError(message: "cannot read \(scripts.map(\.path))"))
        }
        // FNV-1a over the generator's sources.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sources.joined() { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let temporary = FileManager.default.temporaryDirectory
        let output = temporary.appendingPathComponent("seresnet-photo-goldens-\(String(hash, radix: 16))")
        if FileManager.default.fileExists(atPath: output.appendingPathComponent("manifest.json").path) { return .success(output) }
        let staging = temporary.appendingPathComponent("seresnet-photo-goldens-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scripts[0].path, staging.path]
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
            // A hung generator must not hang the suite.
            let deadline = DispatchTime.now() + .seconds(300)
            DispatchQueue.global().asyncAfter(deadline: deadline) { if process.isRunning { process.terminate() } }
            let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                return .failure(
                    PhotoGoldenError(
                        message: "it needs python3 with numpy and Pillow (scripts/test.sh installs them into .venv-test); it said: \(text)")
                )
            }
        } catch {
            return .failure(PhotoGoldenError(message: "cannot run python3: \(error)"))
        }
        // Another process may have finished first: then its set is used and this one dropped.
        if (try? FileManager.default.moveItem(at: staging, to: output)) == nil { try? FileManager.default.removeItem(at: staging) }
        return .success(output)
    }()

    static let photos = [
        "photo-3000x2000-420.jpg", "photo-1411x1411-progressive.jpg", "photo-2400x1600-444.jpg", "photo-1000x1900-422.jpg",
        "photo-4096x2304-420.jpg", "photo-2000x3000-exif6.jpg", "photo-1800x1200-exif8.jpg",
    ]

    static func load(_ name: String) throws -> (bytes: [UInt8], golden: [Float]) {
        let directory = try Self.directory.get()
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
        let golden = Fixtures.floats(
            try Data(contentsOf: directory.appendingPathComponent(name.replacingOccurrences(of: ".jpg", with: ".input.f32"))))
        return (bytes, golden)
    }

    @Test(arguments: photos)
    func fullResolutionDecodeIsTimmsTensorBitForBit(name: String) throws {
        let (bytes, golden) = try Self.load(name)
        let config = try Fixtures.config()
        var actual = [Float](repeating: .nan, count: config.outputCount)
        let decoded = try bytes.withUnsafeBytes { raw in
            try actual.withUnsafeMutableBufferPointer { try decodeAndPreprocess(raw, config: config, into: $0) }
        }
        #expect(decoded.scaleEighths == 8)
        let maxDelta = zip(actual, golden).map { abs($0 - $1) }.max() ?? .infinity
        let differing = zip(actual, golden).filter { $0 != $1 }.count
        #expect(golden.count == actual.count && differing == 0, "\(name): \(differing) values differ, max |Δ| \(maxDelta)")
    }

    /// Opt-in DCT scaling on the same photos: decoded smaller, within the fixtures' reduced-scale tolerance.
    @Test(arguments: photos)
    func dctScaledDecodeStaysWithinTheReducedTolerance(name: String) throws {
        let (bytes, golden) = try Self.load(name)
        let config = try Fixtures.config()
        var actual = [Float](repeating: .nan, count: config.outputCount)
        let decoded = try bytes.withUnsafeBytes { raw in
            try actual.withUnsafeMutableBufferPointer { try decodeAndPreprocess(raw, config: config, dctScaling: true, into: $0) }
        }
        #expect(decoded.scaleEighths < 8, "\(name) should be large enough to decode at a reduced scale")
        let deltas = zip(actual, golden).map { abs($0 - $1) }
        let mean = deltas.reduce(0, +) / Float(deltas.count)
        #expect(mean <= 0.01, "\(name) at \(decoded.scaleEighths)/8: mean |Δ| \(mean)")
    }
}

/// Why the photo goldens could not be made (the script's own output).
struct PhotoGoldenError: Error, CustomStringConvertible {
    let message: String
    var description: String { "Tests/Fixtures/make-photo-goldens.py failed: \(message)" }
}
