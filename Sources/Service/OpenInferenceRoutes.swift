import Foundation
import HTTP

/// The Open Inference Protocol v2 (KServe v2, Triton's HTTP API): health, server and model metadata, and
/// `POST /v2/models/{model}[/versions/{version}]/infer` with JPEGs as a BYTES input, in JSON (base64), in the binary
/// tensor extension, or raw. Errors are `{"error":"…"}` with the statuses `ErrorResponses` maps.
extension ServiceRoutes {
    func addOpenInferenceRoutes(to router: inout Router) {
        @Sendable func reply(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void, _ response: HTTPResponse) {
            respond(Self.withRequestID(response, request))
        }
        let fail = Self.respondInProtocolShape

        for path in ["/v2", "/v2/"] {
            register(&router, .get, path, readsBody: false) { request, respond in
                reply(
                    request, respond,
                    JSONBody.response(
                        OpenInference.ServerMetadata(
                            name: ServiceInfo.name, version: ServiceInfo.version,
                            extensions: ["binary_tensor_data", "classification", "model_configuration", "statistics"])))
            }
        }
        register(&router, .get, "/v2/health/live", readsBody: false) { request, respond in
            reply(request, respond, JSONBody.response(OpenInference.Liveness(live: true)))
        }
        register(&router, .get, "/v2/health/ready", readsBody: false) { [self] request, respond in
            if let reason = unavailability() { return fail(request, respond, reason) }
            reply(request, respond, JSONBody.response(OpenInference.Readiness(ready: true)))
        }
        register(&router, .get, "/v2/models", readsBody: false) { [self] request, respond in
            guard let service = pipeline else { return fail(request, respond, ServiceError.notReady) }
            reply(request, respond, JSONBody.response(OpenInference.ModelList(models: [service.modelName])))
        }
        for prefix in ["/v2/models/{model}", "/v2/models/{model}/versions/{version}"] {
            register(&router, .get, prefix, readsBody: false) { [self] request, respond in
                do {
                    let service = try model(named: request.pathParameters)
                    reply(request, respond, JSONBody.response(Self.openInferenceMetadata(of: service)))
                } catch { fail(request, respond, error) }
            }
            register(&router, .get, prefix + "/ready", readsBody: false) { [self] request, respond in
                do {
                    let service = try model(named: request.pathParameters)
                    if let reason = unavailability() { return fail(request, respond, reason) }
                    reply(request, respond, JSONBody.response(OpenInference.ModelReadiness(name: service.modelName, ready: true)))
                } catch { fail(request, respond, error) }
            }
            // Unknown models and a full queue are refused from the head, before a batch of images is uploaded.
            register(
                &router, .post, prefix + "/infer",
                headCheck: refusalFromHead()
            ) { [self] request, respond in
                do {
                    let service = try model(named: request.pathParameters)
                    let headerLength = try Self.inferenceHeaderLength(request.headers)
                    let parsed = try OpenInference.parse(
                        body: request.body, headerLength: headerLength, classes: service.classCount,
                        maxImages: service.configuration.maxImagesPerRequest)
                    service.infer(parsed.images, trace: request.trace) { result in
                        switch result {
                        case .success(let rows): reply(request, respond, Self.openInferenceResponse(parsed, rows, service))
                        case .failure(let error): fail(request, respond, error)
                        }
                    }
                } catch { fail(request, respond, error) }
            }
        }
    }

    /// A head check for the protocols' inference routes: an unknown model or version (404) and a full queue (503) are
    /// refused before the body (a batch of images) is uploaded.
    func refusalFromHead() -> @Sendable (HTTPRequestHead) -> HTTPResponse? {
        { [self] head in
            do {
                let service = try model(named: head.pathParameters)
                if let refusal = service.refusalBeforeBody() { throw refusal }
                return nil
            } catch {
                return ErrorResponses.response(for: error, surface: .inferenceProtocol)
            }
        }
    }

    /// The pipeline, if `parameters` (`model`, `version`) name what it serves: 404 otherwise, 503 before it is loaded.
    func model(named parameters: [String: String]) throws(ServiceError) -> ClassificationService {
        guard let service = pipeline else { throw .notReady }
        let name = parameters["model"] ?? ""
        guard name == service.modelName else { throw .unknownModel(name: name, served: service.modelName) }
        if let version = parameters["version"], version != OpenInference.modelVersion {
            throw .unknownModelVersion(name: name, version: version, served: OpenInference.modelVersion)
        }
        return service
    }

    /// `Inference-Header-Content-Length`: absent → nil (the body is JSON); otherwise a non-negative integer.
    static func inferenceHeaderLength(_ headers: HTTPHeaders) throws(ServiceError) -> Int? {
        guard let text = headers[OpenInference.headerLengthField] else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 12, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(trimmed) else {
            throw .invalidInferenceRequest(reason: "\(OpenInference.headerLengthField) must be a byte count; got '\(text.prefix(32))'.")
        }
        return value
    }

    static func openInferenceMetadata(of service: ClassificationService) -> OpenInference.ModelMetadata {
        let description = service.modelDescription()
        let preprocessing = description.preprocessing
        return OpenInference.ModelMetadata(
            name: service.modelName, versions: [OpenInference.modelVersion], platform: "seresnet_safetensors",
            inputs: [.init(name: OpenInference.inputName, datatype: "BYTES", shape: [-1, 1])],
            outputs: [.init(name: OpenInference.outputName, datatype: "FP32", shape: [-1, service.classCount])],
            properties: [
                "input_encoding": "JPEG (one encoded image per BYTES element)",
                "output": "softmax probabilities; classification extension: \"score:index:label\"",
                "weights_sha256": description.weights.sha256,
                "architecture": description.architecture.family,
                "parameters": String(description.parameters),
                "preprocessing":
                    "resize shorter side to \(preprocessing.resizeShorterSide) (\(preprocessing.interpolation)), center crop "
                    + "\(preprocessing.inputSize[1])x\(preprocessing.inputSize[2]), normalize mean \(preprocessing.mean) std \(preprocessing.std)",
            ])
    }

    /// The inference response: each requested output in JSON or, when asked, as binary data after the JSON
    /// (`Inference-Header-Content-Length` then gives the JSON's length).
    static func openInferenceResponse(
        _ parsed: OpenInference.ParsedRequest, _ rows: [ImageInference], _ service: ClassificationService
    ) -> HTTPResponse {
        var outputs: [OpenInference.InferenceResponse.Output] = []
        var binary: [UInt8] = []
        for requested in parsed.outputs {
            let chunkStart = binary.count
            let datatype: String
            let shape: [Int]
            var data: OpenInference.InferenceResponse.OutputData?
            if let k = requested.classification {
                let labels = service.labels
                let elements = rows.flatMap { row in
                    Probabilities.top(k, of: row.logits).map { "\(Probabilities.reported($0.score)):\($0.index):\(labels[$0.index])" }
                }
                (datatype, shape) = ("BYTES", [rows.count, k])
                if requested.binary {
                    for element in elements { OpenInference.appendLengthPrefixed(Array(element.utf8), to: &binary) }
                } else {
                    data = .bytes(elements)
                }
            } else {
                let probabilities = rows.flatMap { Probabilities.softmax($0.logits).map(Float.init) }
                (datatype, shape) = ("FP32", [rows.count, service.classCount])
                if requested.binary {
                    binary.reserveCapacity(binary.count + 4 * probabilities.count)
                    for value in probabilities { withUnsafeBytes(of: value.bitPattern.littleEndian) { binary += $0 } }
                } else {
                    data = .fp32(probabilities)
                }
            }
            outputs.append(
                .init(
                    name: OpenInference.outputName, datatype: datatype, shape: shape,
                    parameters: requested.binary ? ["binary_data_size": .int(binary.count - chunkStart)] : nil, data: data))
        }
        let body = OpenInference.InferenceResponse(
            modelName: service.modelName, modelVersion: OpenInference.modelVersion, id: parsed.id, outputs: outputs)
        do {
            let json = try JSONBody.encode(body)
            guard !binary.isEmpty || parsed.outputs.contains(where: \.binary) else { return .json(bytes: json) }
            var response = HTTPResponse(status: .ok, body: json + binary)
            response.headers.replaceOrAdd(name: "Content-Type", value: "application/octet-stream")
            response.headers.replaceOrAdd(name: OpenInference.headerLengthField, value: String(json.count))
            return response
        } catch {
            return ErrorResponses.response(for: error, surface: .inferenceProtocol)
        }
    }
}
