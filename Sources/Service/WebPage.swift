import HTTP

/// `GET /`: one self-contained page for people with a browser (no external assets: the HTML, CSS and script are
/// `Resources/index.html`), and for everything else — curl, KServe v1 clients, which read `status` — a JSON object.
enum WebPage {
    /// What `GET /` answers: the page when the client asks for HTML, else `{"status":"alive",…}`.
    static func response(accept: String?) -> HTTPResponse {
        var response: HTTPResponse
        if let accept, accept.lowercased().contains("text/html") {
            response = HTTPResponse(body: html)
            response.headers.replaceOrAdd(name: "Content-Type", value: "text/html; charset=utf-8")
            // The page runs only its own inline script and talks only to this server.
            response.headers.replaceOrAdd(
                name: "Content-Security-Policy",
                value: "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src blob:; connect-src 'self'")
        } else {
            response = JSONBody.response(Alive())
        }
        // One URL, two representations: a cache in front must key on Accept (and need not keep either).
        response.headers.replaceOrAdd(name: "Vary", value: "Accept")
        response.headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return response
    }

    /// `GET /` for API clients: liveness and a map of the endpoints.
    struct Alive: Encodable {
        let status = "alive"
        let endpoints = [
            "classify": "POST /classify (a JPEG as the body, or multipart/form-data; ?top_k=N)",
            "health": "GET /healthz", "ready": "GET /readyz", "model": "GET /v1/model", "metrics": "GET /metrics",
            "openapi": "GET /openapi.json",
            "open_inference_protocol": "GET /v2, POST /v2/models/{model}/infer (KServe v2 / Triton HTTP)",
            "kserve_v1": "POST /v1/models/{model}:predict",
        ]
    }

    /// The page: `Resources/index.html`, embedded in the binary at build time (HTML, CSS and script in one file).
    static let html = PackageResources.index_html
}
