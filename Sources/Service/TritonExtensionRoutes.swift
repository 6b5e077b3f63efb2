import Foundation
import HTTP

/// Two of Triton's HTTP extensions, which its tools read before they send anything (perf_analyzer stops without the
/// first): model configuration (`GET /v2/models/{model}[/versions/{v}]/config`, Triton's `extension_model_configuration.md`)
/// and statistics (`GET /v2/models[/{model}[/versions/{v}]]/stats`, `extension_statistics.md`).
extension ServiceRoutes {
    func addTritonExtensionRoutes(to router: inout Router) {
        let fail = Self.respondInProtocolShape
        for prefix in ["/v2/models/{model}", "/v2/models/{model}/versions/{version}"] {
            register(&router, .get, prefix + "/config", readsBody: false) { [self] request, respond in
                do {
                    let service = try model(named: request.pathParameters)
                    respond(Self.withRequestID(JSONBody.response(TritonModelConfiguration(of: service)), request))
                } catch { fail(request, respond, error) }
            }
            register(&router, .get, prefix + "/stats", readsBody: false) { [self] request, respond in
                do {
                    let service = try model(named: request.pathParameters)
                    respond(Self.withRequestID(JSONBody.response(Self.statistics(of: service)), request))
                } catch { fail(request, respond, error) }
            }
        }
        // Every model's statistics: the one served.
        register(&router, .get, "/v2/models/stats", readsBody: false) { [self] request, respond in
            guard let service = pipeline else { return fail(request, respond, ServiceError.notReady) }
            respond(Self.withRequestID(JSONBody.response(Self.statistics(of: service)), request))
        }
    }

    struct StatisticsResponse: Encodable {
        let modelStats: [InferenceStatistics.ModelStatistics]
        enum CodingKeys: String, CodingKey { case modelStats = "model_stats" }
    }

    static func statistics(of service: ClassificationService) -> StatisticsResponse {
        StatisticsResponse(modelStats: [service.statistics.snapshot(name: service.modelName, version: OpenInference.modelVersion)])
    }
}

/// Triton's model configuration (`model_config.proto`, as its HTTP API renders it in JSON) of what is served: one
/// BYTES input of JPEGs (`TYPE_STRING`, dims `[1]` after the batch dimension), one FP32 output of class
/// probabilities, dynamic batching with the service's delay and batch size, one CPU instance per engine.
struct TritonModelConfiguration: Encodable {
    struct Tensor: Encodable {
        let name: String
        let dataType: String
        let format: String?
        let dims: [Int]
        let labelFilename: String?
        let isShapeTensor = false
        enum CodingKeys: String, CodingKey {
            case name, format, dims
            case dataType = "data_type"
            case labelFilename = "label_filename"
            case isShapeTensor = "is_shape_tensor"
        }
    }
    struct VersionPolicy: Encodable {
        struct Latest: Encodable {
            let numVersions = 1
            enum CodingKeys: String, CodingKey { case numVersions = "num_versions" }
        }
        let latest = Latest()
    }
    struct DynamicBatching: Encodable {
        let preferredBatchSize: [Int]
        let maxQueueDelayMicroseconds: Int
        let preserveOrdering = false
        enum CodingKeys: String, CodingKey {
            case preferredBatchSize = "preferred_batch_size"
            case maxQueueDelayMicroseconds = "max_queue_delay_microseconds"
            case preserveOrdering = "preserve_ordering"
        }
    }
    struct InstanceGroup: Encodable {
        let name: String
        let kind = "KIND_CPU"
        let count: Int
        let gpus: [Int] = []
    }
    struct Parameter: Encodable {
        let stringValue: String
        enum CodingKeys: String, CodingKey { case stringValue = "string_value" }
    }

    let name: String
    let platform = "seresnet_safetensors"
    let backend = "seresnet"
    let versionPolicy = VersionPolicy()
    /// The most images one request may carry (`--max-images-per-request`): the batch dimension's bound.
    let maxBatchSize: Int
    let input: [Tensor]
    let output: [Tensor]
    let dynamicBatching: DynamicBatching
    let instanceGroup: [InstanceGroup]
    let parameters: [String: Parameter]

    enum CodingKeys: String, CodingKey {
        case name, platform, backend, input, output, parameters
        case versionPolicy = "version_policy"
        case maxBatchSize = "max_batch_size"
        case dynamicBatching = "dynamic_batching"
        case instanceGroup = "instance_group"
    }

    init(of service: ClassificationService) {
        let configuration = service.configuration
        let description = service.modelDescription()
        name = service.modelName
        maxBatchSize = configuration.maxImagesPerRequest
        input = [.init(name: OpenInference.inputName, dataType: "TYPE_STRING", format: "FORMAT_NONE", dims: [1], labelFilename: nil)]
        output = [.init(name: OpenInference.outputName, dataType: "TYPE_FP32", format: nil, dims: [service.classCount], labelFilename: "")]
        dynamicBatching = DynamicBatching(
            // Triton refuses a preferred size above max_batch_size.
            preferredBatchSize: [min(configuration.maxBatch, configuration.maxImagesPerRequest)],
            maxQueueDelayMicroseconds: Int(configuration.maxBatchDelay.components.seconds) * 1_000_000
                + Int(configuration.maxBatchDelay.components.attoseconds / 1_000_000_000_000))
        instanceGroup = [.init(name: service.modelName, count: configuration.engines)]
        parameters = [
            "precision": .init(stringValue: description.engine.precision),
            "kernels": .init(stringValue: description.engine.kernels),
            "threads_per_engine": .init(stringValue: String(configuration.threadsPerEngine)),
            "max_queue": .init(stringValue: String(configuration.maxQueue)),
            "weights_sha256": .init(stringValue: description.weights.sha256),
        ]
    }
}
