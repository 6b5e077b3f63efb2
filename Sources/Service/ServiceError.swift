import Imaging

/// The one error type of the service layer: everything that can stop a classification, in words a
/// client can act on. `ErrorResponses` is the only place that turns it (and the HTTP layer's errors) into
/// statuses and JSON bodies.
public indirect enum ServiceError: Error, Equatable, Sendable {
    /// The request carried no image bytes.
    case emptyBody
    /// `top_k` is not an integer in 1…classes.
    case invalidTopK(value: String, classes: Int)
    /// A query parameter of `:explain` (`classes`, `heatmap`) that cannot be used; `reason` says what it takes.
    case invalidExplainParameter(name: String, value: String, reason: String)
    /// A multipart/form-data body that cannot be parsed.
    case invalidMultipart(reason: String)
    /// A multipart/form-data body without any part that carries a file.
    case noFileInMultipart
    /// The image could not be decoded (not a JPEG, corrupt, truncated, too large…).
    case image(ImageDecodeError)
    /// The model is still loading or warming up.
    case notReady
    /// The service is shutting down and takes no new work.
    case draining
    /// The queue is full; the client should retry after this many seconds.
    case overloaded(retryAfterSeconds: Int, queueLimit: Int)
    /// Decoding the image needs more memory than the service can spare under its memory limit: now (`fitsLater`:
    /// other decodes hold it; 503 + Retry-After) or ever (413 `image_exceeds_memory`).
    case memoryExhausted(neededBytes: Int, budgetBytes: Int, fitsLater: Bool)
    /// The request waited in the queue longer than the configured timeout and was not run.
    case queueTimeout(waitedMilliseconds: Int, limitMilliseconds: Int)
    /// Image `index` of a request carrying several failed with `error`.
    case inImage(index: Int, ServiceError)
    /// A request carried more images than `--max-batch-images`.
    case tooManyImages(count: Int, limit: Int)
    /// An Open Inference Protocol or KServe v1 request that cannot be read: bad JSON, a tensor of the wrong
    /// name, type or shape, bad base64… `reason` names the field or element.
    case invalidInferenceRequest(reason: String)
    /// No model of that name is served here.
    case unknownModel(name: String, served: String)
    /// The model exists but not in that version.
    case unknownModelVersion(name: String, version: String, served: String)
}

extension ServiceError {
    /// A request body the Open Inference Protocol or KServe v1 wire format refused.
    public init(_ refusal: OpenInference.Refusal) {
        switch refusal {
        case .empty: self = .emptyBody
        case .tooManyImages(let count, let limit): self = .tooManyImages(count: count, limit: limit)
        case .invalid(let reason): self = .invalidInferenceRequest(reason: reason)
        }
    }
}
