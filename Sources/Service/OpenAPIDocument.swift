import HTTP

/// The OpenAPI 3.1 document of every endpoint, served at `GET /openapi.json` with the served model's name and class
/// count filled in (so a generated client, and Schemathesis, know the one valid model name, the `top_k` range and
/// the most images a request may carry). The document is `Resources/openapi.json`, embedded in the binary at build
/// time; its placeholders are `__MODEL__`, `__CLASSES__`, `__MAX_IMAGES__` and `__VERSION__`.
public enum OpenAPIDocument {
    public static func json(modelName: String, classes: Int, maxImages: Int) -> String {
        template.replacingOccurrences(of: "__MODEL__", with: String(HTTPResponse.jsonStringLiteral(modelName).dropFirst().dropLast()))
            .replacingOccurrences(of: "__CLASSES__", with: String(classes))
            .replacingOccurrences(of: "__MAX_IMAGES__", with: String(maxImages))
            .replacingOccurrences(of: "__VERSION__", with: ServiceInfo.version)
    }

    /// `Resources/openapi.json` as it was built in.
    static let template = String(decoding: PackageResources.openapi_json, as: UTF8.self)
}
