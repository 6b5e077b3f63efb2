import Foundation
import HTTP
import Inference

/// Every JSON body the service writes goes through here: `Codable` types encoded by the HTTP layer's
/// `HTTPResponse.json` (keys sorted), and a non-finite number fails loudly instead of producing invalid JSON.
enum JSONBody {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] { try HTTPResponse.jsonBytes(value) }

    /// A 200 (or `status`) JSON response; an unencodable value becomes the opaque 500.
    static func response<T: Encodable>(_ value: T, status: HTTPStatus = .ok) -> HTTPResponse {
        do {
            return try HTTPResponse.json(value, status: status)
        } catch {
            return ErrorResponses.response(for: error)
        }
    }
}

/// Softmax over a row of logits, in Double (the scores the APIs report).
public enum Probabilities {
    public static func softmax(_ logits: [Float]) -> [Double] {
        let maxLogit = Double(logits.max() ?? 0)
        let exps = logits.map { exp(Double($0) - maxLogit) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    /// The k most probable classes, best first (ties by lower index).
    public static func top(_ k: Int, of logits: [Float]) -> [(index: Int, score: Double)] {
        let probabilities = softmax(logits)
        let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        return order.prefix(k).map { ($0, probabilities[$0]) }
    }

    /// A score as every API reports it: rounded to 6 decimals.
    static func reported(_ score: Double) -> Double { (score * 1e6).rounded() / 1e6 }
}

/// One image's classification: the body of `/classify`, one line of `seresnet classify`, one element of a
/// KServe v1 prediction.
public struct Classification: Sendable, Codable {
    public struct Prediction: Sendable, Equatable, Codable {
        public let index: Int
        public let label: String
        public let score: Double
    }

    public let predictions: [Prediction]
    public let model: String
    public let image: ImageSize
    public let timing: StageTiming
    /// Images in the engine batch this one ran in (reported in logs, not in the body).
    public var batchSize = 1

    enum CodingKeys: String, CodingKey {
        case predictions, model, image
        case timing = "timing_ms"
    }

    /// The top `topK` classes of an image's logits, with labels.
    public init(_ inference: ImageInference, topK: Int, labels: ClassLabels, model: String) {
        predictions = Probabilities.top(topK, of: inference.logits).map {
            Prediction(index: $0.index, label: labels[$0.index], score: Probabilities.reported($0.score))
        }
        self.model = model
        image = inference.image
        timing = inference.timing
        batchSize = inference.batchSize
    }

    /// The JSON body.
    public func jsonBytes() throws -> [UInt8] { try JSONBody.encode(self) }

    /// `Server-Timing` header value (RFC-style metric;dur=milliseconds).
    public var serverTiming: String {
        "queue;dur=\(timing.queue), decode;dur=\(timing.decode), preprocess;dur=\(timing.preprocess), inference;dur=\(timing.inference), total;dur=\(timing.total)"
    }
}

extension ClassificationService {
    /// Classifies one encoded image: inference, then softmax top-k with labels.
    public func classify(_ bytes: [UInt8], topK: Int, completion: @escaping @Sendable (Result<Classification, ServiceError>) -> Void) {
        classify(bytes, topK: topK, trace: nil, completion: completion)
    }

    func classify(
        _ bytes: [UInt8], topK: Int, trace: RequestTrace?, completion: @escaping @Sendable (Result<Classification, ServiceError>) -> Void
    ) {
        infer([bytes], trace: trace) { [self] result in
            completion(result.map { Classification($0[0], topK: topK, labels: labels, model: modelName) })
        }
    }

    /// Blocking convenience for the CLI: classify and wait.
    public func classifySynchronously(_ bytes: [UInt8], topK: Int) -> Result<Classification, ServiceError> {
        inferSynchronously([bytes]).map { Classification($0[0], topK: topK, labels: labels, model: modelName) }
    }
}

/// `{"error":{"status":…,"code":"…","message":"…"}}`: the error body of `/classify` and the service's own endpoints.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public let status: Int
        public let code: String
        public let message: String
    }
    public let error: Detail

    public init(status: Int, code: String, message: String) { error = Detail(status: status, code: code, message: message) }
}

/// `{"error":"…"}`: the error body of the Open Inference Protocol and KServe v1 (what their clients read).
public struct ProtocolErrorBody: Codable, Sendable, Equatable {
    public let error: String
}

/// `GET /v1/model`: what is loaded and how it is served.
public struct ModelDescription: Codable, Sendable {
    public struct ArchitectureInfo: Codable, Sendable {
        let family: String
        let depths: [Int]
        let stemWidth: Int
        let bottleneckWidths: [Int]
        let stageOutputs: [Int]
        let squeezeExcitation: Bool
        let seWidths: [[Int]]
        enum CodingKeys: String, CodingKey {
            case family, depths
            case stemWidth = "stem_width"
            case bottleneckWidths = "bottleneck_widths"
            case stageOutputs = "stage_outputs"
            case squeezeExcitation = "squeeze_excitation"
            case seWidths = "se_widths"
        }
    }
    public struct Preprocessing: Codable, Sendable {
        let inputSize: [Int]
        let resizeShorterSide: Int
        let interpolation: String
        let cropPct: Double
        let cropMode: String
        let mean: [Double]
        let std: [Double]
        enum CodingKeys: String, CodingKey {
            case inputSize = "input_size"
            case resizeShorterSide = "resize_shorter_side"
            case interpolation
            case cropPct = "crop_pct"
            case cropMode = "crop_mode"
            case mean, std
        }
    }
    public struct Weights: Codable, Sendable {
        let sha256: String
        let bytes: Int
    }
    public struct Engine: Codable, Sendable {
        public struct Layer: Codable, Sendable {
            let name: String
            let algorithm: String
        }
        let kernels: String
        let instructionSet: String
        /// The products' number format: "fp32", "bf16" or "int8".
        let precision: String
        /// With int8: the calibration the input scales come from.
        var calibration: Calibration? = nil
        public struct Calibration: Codable, Sendable {
            let method: String
            let percentile: Double?
            let images: Int
        }
        let layers: [Layer]
        /// Stages that run image by image within a batch of several images (their maps stay in cache).
        let imageByImageStages: [String]
        /// What runs, decided when the engines were made: for one image and for a full batch, each convolution's
        /// algorithm and how it is split over the threads ("rows", "columns", "channels", "depth"; Winograd: "tile rows"
        /// or "channels").
        let schedules: [Schedule]
        public struct Schedule: Codable, Sendable {
            public struct Layer: Codable, Sendable {
                let name: String
                let algorithm: String
                let split: String
            }
            let batch: Int
            let layers: [Layer]
        }
        enum CodingKeys: String, CodingKey {
            case kernels
            case instructionSet = "instruction_set"
            case precision, calibration
            case layers
            case imageByImageStages = "image_by_image_stages"
            case schedules
        }
    }
    public struct Serving: Codable, Sendable {
        let threads: Int
        let engines: Int
        let threadsPerEngine: Int
        let maxBatch: Int
        let maxBatchDelayMs: Double
        let maxQueue: Int
        let maxImagesPerRequest: Int
        let requestTimeoutMs: Double
        let maxPixels: Int
        enum CodingKeys: String, CodingKey {
            case threads, engines
            case threadsPerEngine = "threads_per_engine"
            case maxBatch = "max_batch"
            case maxBatchDelayMs = "max_batch_delay_ms"
            case maxQueue = "max_queue"
            case maxImagesPerRequest = "max_images_per_request"
            case requestTimeoutMs = "request_timeout_ms"
            case maxPixels = "max_pixels"
        }
    }

    public let name: String
    public let architecture: ArchitectureInfo
    public let parameters: Int
    public let classes: Int
    public let preprocessing: Preprocessing
    public let weights: Weights
    public let engine: Engine
    public let serving: Serving
}
