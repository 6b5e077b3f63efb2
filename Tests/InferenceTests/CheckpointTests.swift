import Foundation
import TestSupport
import Testing

@testable import Inference

/// Malformed checkpoints: each failure mode gives its documented error naming the tensor, never a crash.
@Suite(.needsFixtures) struct CheckpointTests {
    /// The tiny fixture's tensors as (name → entry, f32 values), to rewrite into broken variants.
    static let tinyTensors: [(name: String, shape: [Int], values: [Float])] = {
        let file = try! SafetensorsFile(path: Fixtures.tinyModel.appendingPathComponent("model.safetensors").path)
        return file.entries.values.filter { $0.dtype == .f32 }.sorted { $0.name < $1.name }.map {
            ($0.name, $0.shape, try! file.floats($0))
        }
    }()

    /// Writes a model directory with the fixture's config and the given safetensors bytes.
    static func modelDirectory(weights: Data) throws -> URL {
        let directory = try Fixtures.temporaryDirectory()
        try Fixtures.data("tiny-seresnet/config.json").write(
            to: directory.appendingPathComponent("config.json"))
        try weights.write(to: directory.appendingPathComponent("model.safetensors"))
        return directory
    }

    static func load(weights: Data) throws -> LoadedModel {
        let directory = try modelDirectory(weights: weights)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try ModelDirectory(path: directory.path).load()
    }

    static func rewritten(_ transform: (inout [(name: String, shape: [Int], values: [Float])]) -> Void) throws -> Data {
        var tensors = tinyTensors
        transform(&tensors)
        var writer = SafetensorsWriter()
        for t in tensors { writer.add(t.name, shape: t.shape, values: t.values) }
        return try writer.serialized()
    }

    /// A safetensors file from a literal header and data bytes.
    static func rawFile(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        var out = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: data)
        return out
    }

    static func expectError(_ weights: Data, _ matches: (CheckpointError) -> Bool, _ comment: Comment) {
        do {
            _ = try load(weights: weights)
            Issue.record("loaded a malformed checkpoint: \(comment)")
        } catch let error as CheckpointError {
            #expect(matches(error), "\(comment): got \(error)")
        } catch {
            Issue.record("\(comment): unexpected error type \(error)")
        }
    }

    @Test func truncatedFiles() throws {
        let good = try Fixtures.data("tiny-seresnet/model.safetensors")
        Self.expectError(
            Data(good.prefix(5)),
            {
                if case .truncated = $0 { return true }
                return false
            }, "5 bytes")
        Self.expectError(
            Data(good.prefix(40_000)),
            {
                if case .offsetOutOfRange = $0 { return true }
                if case .absurdHeaderLength = $0 { return true }
                return false
            }, "cut inside the data")
        Self.expectError(
            Data(good.prefix(good.count - 1)),
            {
                if case .offsetOutOfRange(let tensor, _, let end, let dataSize) = $0 { return !tensor.isEmpty && end > dataSize }
                return false
            }, "one byte short")
    }

    @Test func absurdHeaderLengthIsRefusedBeforeAllocating() {
        Self.expectError(
            Self.rawFile(header: "{}", declaredLength: UInt64.max),
            {
                if case .absurdHeaderLength(_, let length, _) = $0 { return length == UInt64.max }
                return false
            }, "2^64-1 header length")
        Self.expectError(
            Self.rawFile(header: "{}", declaredLength: 1 << 40),
            {
                if case .absurdHeaderLength = $0 { return true }
                return false
            }, "1 TiB header length")
    }

    @Test func nonJSONHeader() {
        Self.expectError(
            Self.rawFile(header: "this is not json"),
            {
                if case .malformedHeader = $0 { return true }
                return false
            }, "text header")
        Self.expectError(
            Self.rawFile(header: "[1, 2, 3]"),
            {
                if case .malformedHeader = $0 { return true }
                return false
            }, "array header")
    }

    @Test func badEntries() {
        let cases: [(String, String)] = [
            (#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}"#, "offsets beyond data"),
            (#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, "size disagrees with shape"),
            (#"{"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}"#, "unknown dtype"),
            (#"{"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, "negative dimension"),
            (#"{"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 8]}}"#, "overflowing shape"),
            (#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, "reversed offsets"),
            (#"{"a": {"dtype": "F32", "shape": [2]}}"#, "no offsets"),
        ]
        for (header, comment) in cases {
            Self.expectError(
                Self.rawFile(header: header, data: Array(repeating: 0, count: 8)),
                {
                    switch $0 {
                    case .badTensorEntry(let tensor, _), .offsetOutOfRange(let tensor, _, _, _): return tensor == "a"
                    default: return false
                    }
                }, Comment(rawValue: comment))
        }
    }

    @Test func missingTensorIsNamedWithItsExpectedShape() throws {
        let weights = try Self.rewritten { $0.removeAll { $0.name == "layer3.2.bn2.running_var" } }
        Self.expectError(weights, { $0 == .missingTensor(tensor: "layer3.2.bn2.running_var", expectedShape: [64]) }, "missing BN variance")
    }

    @Test func unexpectedTensorIsNamed() throws {
        let weights = try Self.rewritten { $0.append(("head.extra.weight", [3], [1, 2, 3])) }
        Self.expectError(weights, { $0 == .unexpectedTensor(tensor: "head.extra.weight", shape: [3]) }, "extra tensor")
    }

    @Test func misShapedTensorNamesExpectedAndFound() throws {
        let weights = try Self.rewritten { tensors in
            let i = tensors.firstIndex { $0.name == "layer2.1.conv2.weight" }!
            tensors[i] = (tensors[i].name, [32, 16, 3, 6], tensors[i].values)
        }
        Self.expectError(
            weights, { $0 == .shapeMismatch(tensor: "layer2.1.conv2.weight", expected: [32, 32, 3, 3], found: [32, 16, 3, 6]) },
            "conv2 shape")
        let classifier = try Self.rewritten { tensors in
            let i = tensors.firstIndex { $0.name == "fc.bias" }!
            tensors[i] = ("fc.bias", [999], Array(tensors[i].values.prefix(999)))
        }
        Self.expectError(classifier, { $0 == .shapeMismatch(tensor: "fc.bias", expected: [1000], found: [999]) }, "fc.bias shape")
    }

    @Test func wronglyTypedTensorIsNamed() throws {
        var writer = SafetensorsWriter()
        for t in Self.tinyTensors where t.name != "fc.bias" { writer.add(t.name, shape: t.shape, values: t.values) }
        writer.add("fc.bias", shape: [1000], integers: Array(repeating: 1, count: 1000))
        Self.expectError(try writer.serialized(), { $0 == .unsupportedDType(tensor: "fc.bias", dtype: "I64") }, "I64 bias")
    }

    @Test func missingFilesAndBadConfig() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: CheckpointError.self) { try ModelDirectory(path: directory.path).load() }
        try Data("{\"num_classes\": 3}".utf8).write(to: directory.appendingPathComponent("config.json"))
        do {
            _ = try ModelDirectory(path: directory.path).load()
            Issue.record("loaded without architecture")
        } catch let error as CheckpointError {
            guard case .badConfig = error else {
                Issue.record("got \(error)")
                return
            }
        }
    }

    @Test(arguments: [SafetensorsDType.f16, .bf16])
    func halfPrecisionCheckpointsLoad(_ dtype: SafetensorsDType) throws {
        // Re-encode the tiny model in F16/BF16 by hand (the writer only writes F32) and compare with the F32 logits
        // of the same rounded weights: the conversion must be exact, so the engine sees identical values.
        var header: [String: Any] = [:]
        var data = Data()
        var rounded: [(String, [Int], [Float])] = []
        for t in Self.tinyTensors {
            var bits: [UInt16] = []
            var values: [Float] = []
            for v in t.values {
                if dtype == .f16 {
                    let h = Float16(v)
                    bits.append(h.bitPattern)
                    values.append(Float(h))
                } else {
                    let b = UInt16(v.bitPattern >> 16)
                    bits.append(b)
                    values.append(Float(bitPattern: UInt32(b) << 16))
                }
            }
            header[t.name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [data.count, data.count + 2 * bits.count]]
            bits.map(\.littleEndian).withUnsafeBytes { data.append(contentsOf: $0) }
            rounded.append((t.name, t.shape, values))
        }
        let json = try JSONSerialization.data(withJSONObject: header)
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(data)
        let half = try Self.load(weights: file)

        var writer = SafetensorsWriter()
        for (name, shape, values) in rounded { writer.add(name, shape: shape, values: values) }
        let full = try Self.load(weights: try writer.serialized())

        let input = try Fixtures.floats("tiny-seresnet/random-batch2.input.f32")
        let a = InferenceEngine(network: half.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 2).classify(input, batch: 2)
        let b = InferenceEngine(network: full.network, inputHeight: 224, inputWidth: 224, maxBatch: 2, threads: 2).classify(input, batch: 2)
        #expect(a == b)
    }
}
