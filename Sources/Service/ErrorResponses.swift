import Foundation
import HTTP
import Imaging

/// The single mapping from errors to HTTP responses: status, a stable snake_case `code`, and a message. Each API
/// renders it in its own shape: `{"error":{"status":…,"code":"…","message":"…"}}` for `/classify` and the
/// service's own endpoints, `{"error":"…"}` for the Open Inference Protocol and KServe v1 (`Surface`), with the
/// same status and headers. Client input never maps to a 5xx here; anything unexpected becomes a 500 whose body
/// says nothing about internals.
public enum ErrorResponses {
    /// Which API a response belongs to, by path.
    public enum Surface: Sendable {
        /// `/classify`, health, `/v1/model`, `/metrics`, `/`.
        case service
        /// Open Inference Protocol v2 (`/v2…`) and KServe v1 (`/v1/models…`): `{"error":"…"}`.
        case inferenceProtocol

        public init(path: String?) {
            guard let path else {
                self = .service
                return
            }
            self = ServiceRoutes.apiProtocol(path: path) == "classify" ? .service : .inferenceProtocol
        }
    }

    /// An error's status, code, message and headers, before an API gives it its shape.
    public struct Description: Sendable {
        public let status: HTTPStatus
        public let code: String
        public var message: String
        public var headers = HTTPHeaders()

        /// The response in `surface`'s shape.
        public func rendered(_ surface: Surface) -> HTTPResponse {
            let bytes: [UInt8]?
            switch surface {
            case .service: bytes = try? JSONBody.encode(ErrorBody(status: status.code, code: code, message: message))
            case .inferenceProtocol: bytes = try? JSONBody.encode(ProtocolErrorBody(error: message))
            }
            var response = HTTPResponse.json(bytes: bytes ?? [], status: status)
            for field in headers { response.headers.replaceOrAdd(name: field.name, value: field.value) }
            return response
        }
    }

    /// Renders any error the service can meet in `surface`'s shape.
    public static func response(for error: Error, surface: Surface = .service) -> HTTPResponse {
        describe(error).rendered(surface)
    }

    /// The HTTP layer's errors (parse errors, timeouts, 404/405, 413…), injected into `HTTPServer`: in the shape of
    /// the API the request's path belongs to.
    public static func response(for error: HTTPServerError) -> HTTPResponse {
        describe(error).rendered(Surface(path: error.requestPath))
    }

    /// Status, code and message of any error the service can meet.
    public static func describe(_ error: Error) -> Description {
        switch error {
        case let error as ServiceError: return describe(error)
        case let refusal as OpenInference.Refusal: return describe(ServiceError(refusal))
        case let error as HTTPServerError: return describe(error)
        case let error as ImageDecodeError: return describe(ServiceError.image(error))
        default:
            return body(
                status: .internalServerError, code: "internal_error", message: "Internal server error; the request was not processed.")
        }
    }

    static func describe(_ error: HTTPServerError) -> Description {
        var response = body(status: error.status, code: error.code.rawValue, message: error.message)
        if error.code == .methodNotAllowed {
            response.headers.replaceOrAdd(name: "Allow", value: error.allowedMethods.map(\.rawValue).joined(separator: ", "))
        }
        if let seconds = error.retryAfterSeconds { response.headers.replaceOrAdd(name: "Retry-After", value: String(seconds)) }
        if let failure = error.authenticationFailure {
            // RFC 6750 §3: the challenge; error="invalid_token" only when a token was presented and refused.
            response.headers.replaceOrAdd(
                name: "WWW-Authenticate",
                value: failure == .invalid ? #"Bearer realm="seresnet", error="invalid_token""# : #"Bearer realm="seresnet""#)
        }
        return response
    }

    static func describe(_ error: ServiceError) -> Description {
        switch error {
        case .emptyBody:
            return body(
                status: .badRequest, code: "empty_body",
                message:
                    "The request body is empty; send JPEG bytes (curl --data-binary @image.jpg) or a multipart form file (curl -F file=@image.jpg)."
            )
        case .invalidTopK(let value, let classes):
            return body(
                status: .badRequest, code: "invalid_top_k", message: "top_k must be an integer from 1 to \(classes); got '\(value)'.")
        case .invalidExplainParameter(let name, let value, let reason):
            return body(status: .badRequest, code: "invalid_\(name)", message: "\(name) \(reason); got '\(value)'.")
        case .invalidMultipart(let reason):
            return body(status: .badRequest, code: "invalid_multipart", message: "The multipart/form-data body is malformed: \(reason)")
        case .noFileInMultipart:
            return body(
                status: .badRequest, code: "missing_file",
                message: "The multipart/form-data body has no file part; send the image as a file field (curl -F file=@image.jpg).")
        case .image(let imageError):
            return describe(imageError)
        case .notReady:
            var response = body(status: .serviceUnavailable, code: "not_ready", message: "The model is still loading; retry shortly.")
            response.headers.replaceOrAdd(name: "Retry-After", value: "1")
            return response
        case .draining:
            return body(
                status: .serviceUnavailable, code: "shutting_down",
                message: "The service is shutting down; send the request to another replica.")
        case .memoryExhausted(let needed, let budget, let fitsLater):
            let mib = { (bytes: Int) in (bytes + (1 << 20) - 1) >> 20 }
            guard fitsLater else {
                // Never decodable under this memory limit: retrying cannot help, so not a 503 with Retry-After.
                return body(
                    status: .contentTooLarge, code: "image_exceeds_memory",
                    message:
                        "Decoding this image needs \(mib(needed)) MiB, more than the \(mib(budget)) MiB the service can spare for decoding under its memory limit; send a smaller image (fewer pixels, or baseline rather than progressive JPEG)."
                )
            }
            var response = body(
                status: .serviceUnavailable, code: "memory_exhausted",
                message:
                    "Decoding this image needs \(mib(needed)) MiB and other decodes hold the memory the service may use under its memory limit; retry after 1 s."
            )
            response.headers.replaceOrAdd(name: "Retry-After", value: "1")
            return response
        case .overloaded(let retryAfter, let limit):
            var response = body(
                status: .serviceUnavailable, code: "overloaded",
                message: "The service is at capacity (\(limit) images queued); retry after \(retryAfter) s.")
            response.headers.replaceOrAdd(name: "Retry-After", value: String(retryAfter))
            return response
        case .inImage(let index, .image(.empty)), .inImage(let index, .emptyBody):
            return body(status: .badRequest, code: "empty_body", message: "Image \(index) of the request is empty (0 bytes); send a JPEG.")
        case .inImage(let index, let inner):
            var description = describe(inner)
            description.message = "Image \(index) of the request: \(description.message)"
            return description
        case .tooManyImages(let count, let limit):
            return body(
                status: .contentTooLarge, code: "too_many_images",
                message: "The request carries \(count) images; at most \(limit) are accepted per request (--max-batch-images). Split it.")
        case .invalidInferenceRequest(let reason):
            return body(status: .badRequest, code: "invalid_inference_request", message: reason)
        case .unknownModel(let name, let served):
            return body(status: .notFound, code: "unknown_model", message: "Unknown model '\(name)'; this server serves '\(served)'.")
        case .unknownModelVersion(let name, let version, let served):
            return body(
                status: .notFound, code: "unknown_model_version",
                message: "Model '\(name)' has no version '\(version)'; it serves version '\(served)'.")
        case .queueTimeout(let waited, let limit):
            var response = body(
                status: .serviceUnavailable, code: "queue_timeout",
                message: "The request waited \(waited) ms in the queue, longer than the \(limit) ms limit, and was not run; retry later.")
            response.headers.replaceOrAdd(name: "Retry-After", value: "1")
            return response
        }
    }

    static func describe(_ error: ImageDecodeError) -> Description {
        switch error {
        case .empty:
            return describe(ServiceError.emptyBody)
        case .notJPEG:
            return body(status: .unsupportedMediaType, code: "unsupported_media_type", message: error.message)
        case .truncated:
            return body(status: .unprocessableContent, code: "truncated_image", message: error.message)
        case .corrupt:
            return body(status: .unprocessableContent, code: "corrupt_image", message: error.message)
        case .unsupported:
            return body(status: .unprocessableContent, code: "unsupported_image", message: error.message)
        case .tooManyPixels:
            return body(status: .unprocessableContent, code: "image_too_large", message: error.message)
        case .exceedsDecodingLimits:
            return body(status: .unprocessableContent, code: "image_too_complex", message: error.message)
        }
    }

    static func body(status: HTTPStatus, code: String, message: String) -> Description {
        Description(status: status, code: code, message: message)
    }

    /// The service-shaped error response every 4xx/5xx of its own endpoints carries.
    public static func response(status: HTTPStatus, code: String, message: String) -> HTTPResponse {
        body(status: status, code: code, message: message).rendered(.service)
    }

    /// `{"error":{"status":…,"code":…,"message":…}}` as text (also used by `seresnet classify` per failed image).
    public static func errorJSON(status: Int, code: String, message: String) -> String {
        String(decoding: (try? JSONBody.encode(ErrorBody(status: status, code: code, message: message))) ?? [], as: UTF8.self)
    }
}
