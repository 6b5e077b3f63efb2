import HTTP

/// `POST /classify`: the service's own API. A JPEG as the raw body or a multipart file, `top_k` in the query, the
/// top classes with labels as JSON.
extension ServiceRoutes {
    func addClassifyRoutes(to router: inout Router) {
        // Refusals that need no body are answered from the head, so a client sending `Expect: 100-continue`
        // does not upload an image only to be told the service is loading or full.
        register(
            &router, .post, "/classify",
            headCheck: { [self] head in
                guard let service = pipeline else { return ErrorResponses.response(for: ServiceError.notReady) }
                if let refusal = service.refusalBeforeBody() { return ErrorResponses.response(for: refusal) }
                return nil
            }
        ) { [self] request, respond in classify(request, respond) }
    }

    /// POST /classify: image from the raw body or the first multipart file part; `top_k` from the query.
    private func classify(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let service = pipeline else {
            return respond(Self.withRequestID(ErrorResponses.response(for: ServiceError.notReady), request))
        }
        let topK: Int
        let image: [UInt8]
        do {
            topK = try Self.topK(request.query, classes: service.classCount)
            image = try Self.imageBytes(of: request)
        } catch {
            return respond(Self.withRequestID(ErrorResponses.response(for: error), request))
        }
        service.classify(image, topK: topK, trace: request.trace) { result in
            switch result {
            case .success(let classification):
                var response = JSONBody.response(classification)
                response.headers.replaceOrAdd(name: "Server-Timing", value: classification.serverTiming)
                respond(Self.withRequestID(response, request))
            case .failure(let error):
                respond(Self.withRequestID(ErrorResponses.response(for: error), request))
            }
        }
    }

    /// `top_k`: absent → 5 (or the class count if smaller); otherwise digits only, 1…classes.
    static func topK(_ query: QueryParameters, classes: Int) throws -> Int {
        guard let text = query["top_k"] else { return min(5, classes) }
        guard !text.isEmpty, text.count <= 9, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text), value >= 1,
            value <= classes
        else {
            throw ServiceError.invalidTopK(value: String(text.prefix(32)), classes: classes)
        }
        return value
    }

    /// The image bytes: what the body is is decided by sniffing, not by the declared type. A body that
    /// starts like a JPEG is the image; a multipart/form-data body yields its first part carrying a file.
    static func imageBytes(of request: HTTPRequest) throws -> [UInt8] {
        let body = request.body
        guard !body.isEmpty else { throw ServiceError.emptyBody }
        let isJPEG = body.count >= 2 && body[0] == 0xFF && body[1] == 0xD8
        if !isJPEG, let contentType = request.headers["Content-Type"], MultipartFormData.isFormData(contentType: contentType) {
            let parts: [MultipartFormData.Part]
            do {
                parts = try MultipartFormData.parse(body: body, contentType: contentType)
            } catch let error as HTTPServerError {
                throw ServiceError.invalidMultipart(reason: error.message)
            }
            guard let file = parts.first(where: { $0.filename != nil }) else { throw ServiceError.noFileInMultipart }
            guard !file.body.isEmpty else { throw ServiceError.emptyBody }
            return file.body
        }
        return body
    }

}
