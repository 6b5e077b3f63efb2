import Foundation
import HTTP

/// KServe's v1 protocol (TensorFlow Serving's REST shape): `GET /v1/models[/{model}]` and
/// `POST /v1/models/{model}:predict` with `{"instances":[{"image":{"b64":"…"}}, …]}`, answered with
/// `{"predictions":[<the /classify predictions array>, …]}`. `top_k` comes from the query, as for `/classify`.
/// `POST /v1/models/{model}:explain` takes the same bodies and adds `"explanations"`, one `Explanation` (class
/// activation maps) per image.
extension ServiceRoutes {
    struct PredictResponse: Encodable {
        let predictions: [[Classification.Prediction]]
    }

    struct ExplainResponse: Encodable {
        let predictions: [[Classification.Prediction]]
        let explanations: [Explanation]
    }

    func addKServeV1Routes(to router: inout Router) {
        let fail = Self.respondInProtocolShape
        register(&router, .get, "/v1/models", readsBody: false) { [self] request, respond in
            guard let service = pipeline else { return fail(request, respond, ServiceError.notReady) }
            respond(Self.withRequestID(JSONBody.response(OpenInference.ModelList(models: [service.modelName])), request))
        }
        register(&router, .get, "/v1/models/{model}", readsBody: false) { [self] request, respond in
            do {
                let service = try model(named: request.pathParameters)
                if let reason = unavailability() { throw reason }
                respond(Self.withRequestID(JSONBody.response(OpenInference.ModelReadiness(name: service.modelName, ready: true)), request))
            } catch { fail(request, respond, error) }
        }
        register(&router, .post, "/v1/models/{model}:predict", headCheck: refusalFromHead()) { [self] request, respond in
            predictOrExplain(request, respond, explain: nil)
        }
        register(&router, .post, "/v1/models/{model}:explain", headCheck: refusalFromHead()) { [self] request, respond in
            do {
                let asked = try Explanation.Request(request.query, classes: try model(named: request.pathParameters).classCount)
                predictOrExplain(request, respond, explain: asked)
            } catch { fail(request, respond, error) }
        }
    }

    /// `:predict`, or with `explain` `:explain`: the instances through the pipeline, the top-k predictions of each, and
    /// its class activation maps when explaining.
    private func predictOrExplain(
        _ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void, explain: Explanation.Request?
    ) {
        let fail = Self.respondInProtocolShape
        do {
            let service = try model(named: request.pathParameters)
            let topK = try Self.topK(request.query, classes: service.classCount)
            let images = try KServeV1.images(inPredictBody: request.body, limit: service.configuration.maxImagesPerRequest)
            service.infer(images, features: explain != nil, trace: request.trace) { result in
                switch result {
                case .success(let rows):
                    let predictions = rows.map {
                        Classification($0, topK: topK, labels: service.labels, model: service.modelName).predictions
                    }
                    guard let explain else {
                        return respond(Self.withRequestID(JSONBody.response(PredictResponse(predictions: predictions)), request))
                    }
                    // Maps, PNGs and their JSON (up to 10 classes × 32 images) on a decode worker, not the engine's thread.
                    service.offEngine {
                        let explanations = rows.map { Explanation($0, request: explain, service: service) }
                        let body = ExplainResponse(predictions: predictions, explanations: explanations)
                        respond(Self.withRequestID(JSONBody.response(body), request))
                    }
                case .failure(let error): fail(request, respond, error)
                }
            }
        } catch { fail(request, respond, error) }
    }
}
