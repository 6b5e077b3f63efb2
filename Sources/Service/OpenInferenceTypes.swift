import Foundation

/// The service's name and version as the Open Inference Protocol's server metadata reports them.
public enum ServiceInfo {
    public static let name = "seresnet"
    public static let version = "0.5.0"
}

/// The Open Inference Protocol v2 REST shapes (kserve/open-inference-protocol `inference_rest.md`) and the binary
/// tensor extension's framing (Triton `extension_binary_data.md`), for a model with one input, `image` (BYTES
/// `[-1, 1]`, each element a JPEG; requests may also say `[B]`), and one output, `probabilities` (FP32 `[-1, classes]`).
public enum OpenInference {
    public static let inputName = "image"
    public static let outputName = "probabilities"
    public static let modelVersion = "1"
    /// The request and response header that gives the JSON part's length when binary data follows it.
    public static let headerLengthField = "Inference-Header-Content-Length"

    /// A `parameters` value: the protocol allows booleans, integers, numbers and strings.
    public enum Parameter: Codable, Sendable, Equatable {
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int.self) {
                self = .int(value)
            } else if let value = try? container.decode(Double.self) {
                self = .double(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .bool(let value): try container.encode(value)
            case .int(let value): try container.encode(value)
            case .double(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            }
        }

        var int: Int? {
            switch self {
            case .int(let value): return value
            case .double(let value) where value == value.rounded() && abs(value) < 1e9: return Int(value)
            default: return nil
            }
        }

        var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    }

    /// A tensor's `data`: flat or nested lists of scalars, in row-major order.
    public indirect enum TensorData: Decodable, Sendable {
        case list([TensorData])
        case string(String)
        case number(Double)
        case bool(Bool)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([TensorData].self) {
                self = .list(list)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else {
                self = .number(try container.decode(Double.self))
            }
        }

        /// The scalars in row-major order.
        var flattened: [TensorData] {
            if case .list(let items) = self { return items.flatMap(\.flattened) }
            return [self]
        }
    }

    /// `POST /v2/models/{m}/infer` body (its JSON part). Unknown fields (the kserve client's `model_name`) are ignored.
    public struct InferenceRequest: Decodable, Sendable {
        public struct Input: Decodable, Sendable {
            public let name: String
            public let shape: [Int]
            public let datatype: String
            public let parameters: [String: Parameter]?
            public let data: TensorData?
        }
        public struct RequestedOutput: Decodable, Sendable {
            public let name: String
            public let parameters: [String: Parameter]?
        }
        public let id: String?
        public let parameters: [String: Parameter]?
        public let inputs: [Input]
        public let outputs: [RequestedOutput]?
    }

    /// The inference response's JSON part.
    public struct InferenceResponse: Encodable, Sendable {
        public struct Output: Encodable, Sendable {
            public let name: String
            public let datatype: String
            public let shape: [Int]
            public let parameters: [String: Parameter]?
            public let data: OutputData?
        }
        public enum OutputData: Encodable, Sendable {
            case fp32([Float])
            case bytes([String])

            public func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .fp32(let values): try container.encode(values)
                case .bytes(let values): try container.encode(values)
                }
            }
        }
        public let modelName: String
        public let modelVersion: String
        public let id: String?
        public let outputs: [Output]

        enum CodingKeys: String, CodingKey {
            case modelName = "model_name"
            case modelVersion = "model_version"
            case id, outputs
        }
    }

    public struct ServerMetadata: Codable, Sendable {
        public let name: String
        public let version: String
        public let extensions: [String]
    }

    public struct TensorMetadata: Codable, Sendable {
        public let name: String
        public let datatype: String
        public let shape: [Int]
    }

    public struct ModelMetadata: Codable, Sendable {
        public let name: String
        public let versions: [String]
        public let platform: String
        public let inputs: [TensorMetadata]
        public let outputs: [TensorMetadata]
        /// Weights' SHA-256, preprocessing, label count: what a client may want to check before trusting answers.
        public let properties: [String: String]
    }

    public struct Liveness: Codable, Sendable { public let live: Bool }
    public struct Readiness: Codable, Sendable { public let ready: Bool }
    public struct ModelReadiness: Codable, Sendable {
        public let name: String
        public let ready: Bool
    }
    public struct ModelList: Codable, Sendable { public let models: [String] }

    /// What a client asked for in one output.
    public struct OutputRequest: Equatable, Sendable {
        /// Nil: the probabilities; k: the classification extension's top k as `"score:index:label"` strings.
        public var classification: Int?
        public var binary: Bool
    }

    /// Why a request body cannot be read. The wire formats stay free of the service (so they can be fuzzed on their
    /// own); `ServiceError(_:)` turns a refusal into the service's error.
    public enum Refusal: Error, Equatable, Sendable {
        case empty
        case tooManyImages(count: Int, limit: Int)
        /// What is wrong, naming the field or element.
        case invalid(String)
    }

    /// An inference request read and checked: the JPEGs and the outputs to send.
    public struct ParsedRequest: Sendable {
        public var id: String?
        public var images: [[UInt8]]
        public var outputs: [OutputRequest]
    }

    /// Reads an inference request: a JSON body, the binary tensor extension (`headerLength` = the JSON part's
    /// length, tensors after it), or raw binary (`headerLength` 0: the body is one JPEG, outputs go back binary). A
    /// body that starts like a JPEG without the header is raw binary too, as `/classify` sniffs its bodies.
    public static func parse(body: [UInt8], headerLength: Int?, classes: Int, maxImages: Int) throws(Refusal) -> ParsedRequest {
        if headerLength == 0 || (headerLength == nil && body.count >= 2 && body[0] == 0xFF && body[1] == 0xD8) {
            guard !body.isEmpty else { throw .empty }
            return ParsedRequest(id: nil, images: [body], outputs: [OutputRequest(classification: nil, binary: true)])
        }
        let jsonEnd = headerLength ?? body.count
        guard jsonEnd <= body.count else {
            throw invalid("\(headerLengthField) is \(jsonEnd) but the body has only \(body.count) bytes.")
        }
        guard jsonEnd > 0 else { throw .empty }
        let request: InferenceRequest
        do {
            request = try JSONDecoder().decode(InferenceRequest.self, from: Data(body[..<jsonEnd]))
        } catch let error as DecodingError {
            throw invalid("The inference request is not valid: \(describe(error)).")
        } catch {
            throw invalid("The inference request is not valid JSON.")
        }
        guard request.inputs.count == 1, let input = request.inputs.first else {
            throw invalid(
                "The request must have exactly one input, '\(inputName)' (BYTES, one JPEG per element); it has \(request.inputs.count).")
        }
        guard input.name == inputName else { throw invalid("Unknown input '\(input.name)'; the model's only input is '\(inputName)'.") }
        guard input.datatype == "BYTES" else {
            throw invalid("Input '\(inputName)' must be BYTES (one encoded JPEG per element), not \(input.datatype).")
        }
        guard input.shape.count == 1 || (input.shape.count == 2 && input.shape[1] == 1), input.shape[0] >= 1 else {
            throw invalid("Input '\(inputName)' must have shape [B] (or [B, 1]) with B ≥ 1 images; got \(input.shape).")
        }
        let count = input.shape[0]
        guard count <= maxImages else { throw .tooManyImages(count: count, limit: maxImages) }

        var images: [[UInt8]]
        let binary = body[jsonEnd...]
        if let size = input.parameters?["binary_data_size"] {
            guard headerLength != nil else {
                throw invalid("Input '\(inputName)' declares binary_data_size but the request has no \(headerLengthField) header.")
            }
            guard let size = size.int, size >= 0, size <= binary.count else {
                throw invalid("Input '\(inputName)' declares binary_data_size \(size) but \(binary.count) bytes follow the JSON.")
            }
            guard size == binary.count else {
                throw invalid("\(binary.count - size) bytes follow the declared binary data of input '\(inputName)'.")
            }
            images = try lengthPrefixedElements(binary)
        } else if let data = input.data {
            guard binary.isEmpty else { throw invalid("Binary data follows the JSON but input '\(inputName)' has its data in JSON.") }
            images = try data.flattened.enumerated().map { index, element throws(Refusal) in
                guard case .string(let text) = element else {
                    throw invalid("Element \(index) of input '\(inputName)' must be a base64 string of a JPEG.")
                }
                guard let bytes = Data(base64Encoded: text) else {
                    throw invalid("Element \(index) of input '\(inputName)' is not valid base64.")
                }
                return Array(bytes)
            }
        } else if headerLength != nil {
            // One input and no binary_data_size: the rest of the body is its data (as Triton accepts).
            images = try lengthPrefixedElements(binary)
        } else {
            throw invalid("Input '\(inputName)' has no data: send base64 strings in \"data\" or binary data after the JSON.")
        }
        guard images.count == count else {
            throw invalid("Input '\(inputName)' has shape \(input.shape) but carries \(images.count) elements.")
        }

        let binaryByDefault = request.parameters?["binary_data_output"]?.bool ?? false
        var outputs: [OutputRequest] = []
        for requested in request.outputs ?? [] {
            guard requested.name == outputName else {
                throw invalid("Unknown output '\(requested.name)'; the model's only output is '\(outputName)'.")
            }
            var output = OutputRequest(classification: nil, binary: requested.parameters?["binary_data"]?.bool ?? binaryByDefault)
            if let k = requested.parameters?["classification"] {
                guard let k = k.int, (1...classes).contains(k) else {
                    throw invalid("Output '\(outputName)': classification must be an integer from 1 to \(classes).")
                }
                output.classification = k
            }
            outputs.append(output)
        }
        if outputs.isEmpty { outputs = [OutputRequest(classification: nil, binary: binaryByDefault)] }
        return ParsedRequest(id: request.id, images: images, outputs: outputs)
    }

    /// BYTES elements in the binary extension's framing: a 4-byte little-endian length, then the bytes.
    static func lengthPrefixedElements(_ bytes: ArraySlice<UInt8>) throws(Refusal) -> [[UInt8]] {
        var elements: [[UInt8]] = []
        var cursor = bytes.startIndex
        while cursor < bytes.endIndex {
            guard bytes.endIndex - cursor >= 4 else {
                throw invalid("Element \(elements.count) of input '\(inputName)': its 4-byte length prefix is cut short.")
            }
            let length = (0..<4).reduce(0) { $0 | Int(bytes[cursor + $1]) << (8 * $1) }
            cursor += 4
            guard length <= bytes.endIndex - cursor else {
                throw invalid(
                    "Element \(elements.count) of input '\(inputName)' declares \(length) bytes but only \(bytes.endIndex - cursor) remain."
                )
            }
            elements.append(Array(bytes[cursor..<cursor + length]))
            cursor += length
        }
        return elements
    }

    /// Appends BYTES elements in the binary extension's framing.
    static func appendLengthPrefixed(_ element: [UInt8], to bytes: inout [UInt8]) {
        let length = UInt32(element.count)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
        bytes += element
    }

    static func invalid(_ reason: String) -> Refusal { .invalid(reason) }

    /// A decoding error in words: what is wrong and where (`inputs[0].shape`).
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "the top level" : text)
        }
        switch error {
        case .keyNotFound(let key, let context): return "the field '\(path(context.codingPath + [key]))' is missing"
        case .typeMismatch(let type, let context): return "'\(path(context.codingPath))' should be \(typeName(type))"
        case .valueNotFound(let type, let context): return "'\(path(context.codingPath))' is null, expected \(typeName(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not JSON" : "'\(path(context.codingPath))' is malformed"
        @unknown default: return "it cannot be read"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is [Int].Type: return "an array of integers"
        case is [Any].Type: return "an array"
        case is [String: Any].Type: return "an object"
        default: return "\(type)".contains("Array") ? "an array" : "an object"
        }
    }
}
