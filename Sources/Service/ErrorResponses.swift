import Foundation
import HTTP
import Imaging

/// The single mapping from errors to HTTP responses: status, a stable snake_case `code`, and a message,
/// always as `{"error":{"status":…,"code":"…","message":"…"}}`. Client input never maps to a 5xx here;
/// anything unexpected becomes a 500 whose body says nothing about internals.
public enum ErrorResponses {
    /// Renders any error the service can meet.
    public static func response(for error: Error) -> HTTPResponse {
        switch error {
        case let error as ServiceError: return response(for: error)
        case let error as HTTPServerError: return response(for: error)
        case let error as ImageDecodeError: return response(for: ServiceError.image(error))
        default:
            return body(
                status: .internalServerError, code: "internal_error", message: "Internal server error; the request was not processed.")
        }
    }

    /// The HTTP layer's errors (parse errors, timeouts, 404/405, 413…), injected into `HTTPServer`.
    public static func response(for error: HTTPServerError) -> HTTPResponse {
        var response = body(status: error.status, code: error.code.rawValue, message: error.message)
        if error.code == .methodNotAllowed {
            response.headers.replaceOrAdd(name: "Allow", value: error.allowedMethods.map(\.rawValue).joined(separator: ", "))
        }
        if let seconds = error.retryAfterSeconds { response.headers.replaceOrAdd(name: "Retry-After", value: String(seconds)) }
        return response
    }

    public static func response(for error: ServiceError) -> HTTPResponse {
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
        case .invalidMultipart(let reason):
            return body(status: .badRequest, code: "invalid_multipart", message: "The multipart/form-data body is malformed: \(reason)")
        case .noFileInMultipart:
            return body(
                status: .badRequest, code: "missing_file",
                message: "The multipart/form-data body has no file part; send the image as a file field (curl -F file=@image.jpg).")
        case .image(let imageError):
            return response(for: imageError)
        case .notReady:
            var response = body(status: .serviceUnavailable, code: "not_ready", message: "The model is still loading; retry shortly.")
            response.headers.replaceOrAdd(name: "Retry-After", value: "1")
            return response
        case .draining:
            return body(
                status: .serviceUnavailable, code: "shutting_down",
                message: "The service is shutting down; send the request to another replica.")
        case .overloaded(let retryAfter, let limit):
            var response = body(
                status: .serviceUnavailable, code: "overloaded",
                message: "The service is at capacity (\(limit) requests queued); retry after \(retryAfter) s.")
            response.headers.replaceOrAdd(name: "Retry-After", value: String(retryAfter))
            return response
        case .queueTimeout(let waited, let limit):
            var response = body(
                status: .serviceUnavailable, code: "queue_timeout",
                message: "The request waited \(waited) ms in the queue, longer than the \(limit) ms limit, and was not run; retry later.")
            response.headers.replaceOrAdd(name: "Retry-After", value: "1")
            return response
        }
    }

    static func response(for error: ImageDecodeError) -> HTTPResponse {
        switch error {
        case .empty:
            return response(for: ServiceError.emptyBody)
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

    /// The JSON error body every 4xx/5xx carries.
    public static func body(status: HTTPStatus, code: String, message: String) -> HTTPResponse {
        HTTPResponse.json(bytes: Array(errorJSON(status: status.code, code: code, message: message).utf8), status: status)
    }

    /// `{"error":{"status":…,"code":…,"message":…}}` as text (also used by `seresnet classify` per failed image).
    public static func errorJSON(status: Int, code: String, message: String) -> String {
        let object: [String: Any] = ["error": ["status": status, "code": code, "message": message]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
