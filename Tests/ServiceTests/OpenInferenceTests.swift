import Foundation
import TestSupport
import Testing

@testable import HTTP
@testable import Inference
@testable import Service

/// The Open Inference Protocol v2 and KServe v1 surfaces, in-process through the router as the server runs them.
@Suite(.serialized, .needsFixtures) struct OpenInferenceTests {
    static let service: ClassificationService = BatchingTests.makeService({ (configuration: inout ServiceConfiguration) in
        configuration.maxBatch = 8
        configuration.maxImagesPerRequest = 8
        configuration.modelName = "seresnet-test"
    })
    static let routes: ServiceRoutes = {
        let routes = ServiceRoutes(metrics: service.metrics, accessLog: .init(label: "test"))
        routes.attach(service)
        return routes
    }()
    static let router = routes.makeRouter()
    static let images = ["cat-444.jpg", "coffee-422.jpg", "astronaut-restart.jpg"]

    /// The binary tensor extension's body: JSON, then each element as a 4-byte little-endian length and its bytes.
    static func binaryBody(_ images: [[UInt8]], outputs: String = #"[{"name":"probabilities","parameters":{"classification":5}}]"#)
        -> (body: [UInt8], headerLength: Int)
    {
        var tensor: [UInt8] = []
        for image in images { OpenInference.appendLengthPrefixed(image, to: &tensor) }
        let json = Array(
            #"{"id":"req-7","inputs":[{"name":"image","shape":[\#(images.count)],"datatype":"BYTES","parameters":{"binary_data_size":\#(tensor.count)}}],"outputs":\#(outputs)}"#
                .utf8)
        return (json + tensor, json.count)
    }

    static func infer(_ body: [UInt8], headerLength: Int?, path: String = "/v2/models/seresnet-test/infer") -> HTTPResponse {
        let headers = headerLength.map { [(OpenInference.headerLengthField, String($0))] } ?? []
        return respond(router, makeRequest(path, headers: headers, body: body))
    }

    /// The JSON part of a response (all of it when no binary follows).
    static func jsonPart(_ response: HTTPResponse) -> [String: Any] {
        let length = response.headers[OpenInference.headerLengthField].flatMap(Int.init) ?? response.body.count
        return (try? JSONSerialization.jsonObject(with: Data(response.body.prefix(length)))) as? [String: Any] ?? [:]
    }

    @Test func healthAndMetadata() throws {
        let server = json(respond(Self.router, makeRequest("/v2", method: .get)))
        #expect(server["name"] as? String == "seresnet")
        #expect(server["extensions"] as? [String] == ["binary_tensor_data", "classification", "model_configuration", "statistics"])
        #expect(respond(Self.router, makeRequest("/v2/", method: .get)).status == .ok)
        #expect(json(respond(Self.router, makeRequest("/v2/health/live", method: .get)))["live"] as? Bool == true)
        #expect(json(respond(Self.router, makeRequest("/v2/health/ready", method: .get)))["ready"] as? Bool == true)
        for path in ["/v2/models/seresnet-test", "/v2/models/seresnet-test/versions/1"] {
            let metadata = json(respond(Self.router, makeRequest(path, method: .get)))
            #expect(metadata["name"] as? String == "seresnet-test")
            let input = (metadata["inputs"] as? [[String: Any]])?.first
            #expect(input?["name"] as? String == "image" && input?["datatype"] as? String == "BYTES")
            #expect(input?["shape"] as? [Int] == [-1, 1])
            let output = (metadata["outputs"] as? [[String: Any]])?.first
            #expect(output?["datatype"] as? String == "FP32" && output?["shape"] as? [Int] == [-1, 1000])
            #expect(
                (metadata["properties"] as? [String: String])?["weights_sha256"]
                    == "25fcaab24568ebb97d7cc8276fa9f4550ef3b6f00888b3f2b11207ee792cb5bd")
            #expect(json(respond(Self.router, makeRequest(path + "/ready", method: .get)))["ready"] as? Bool == true)
        }
        #expect(json(respond(Self.router, makeRequest("/v1/models/seresnet-test", method: .get)))["ready"] as? Bool == true)
        #expect(json(respond(Self.router, makeRequest("/v1/model", method: .get)))["name"] as? String == "seresnet-test")
    }

    @Test func unknownModelsAndVersionsAre404InTheProtocolsErrorShape() {
        for (path, method) in [
            ("/v2/models/other", HTTPMethod.get), ("/v2/models/other/ready", .get), ("/v2/models/seresnet-test/versions/2", .get),
            ("/v2/models/other/infer", .post), ("/v1/models/other", .get), ("/v1/models/other:predict", .post), ("/v2/nothing", .get),
            // Refused by the head check, from the parameters the router bound: before the body is read.
            ("/v2/models/seresnet-test/versions/2/infer", .post), ("/v2/models/other/versions/1/infer", .post),
        ] {
            let response = respond(Self.router, makeRequest(path, method: method, body: method == .post ? Array("{}".utf8) : []))
            #expect(response.status == .notFound, "\(path)")
            #expect(json(response)["error"] is String, "\(path): \(String(decoding: response.body, as: UTF8.self))")
        }
        let wrongMethod = respond(Self.router, makeRequest("/v2/models/seresnet-test/infer", method: .put))
        #expect(wrongMethod.status == .methodNotAllowed && wrongMethod.headers["Allow"] == "POST")
        #expect(json(wrongMethod)["error"] is String)
    }

    /// Three JPEGs as one BYTES tensor (binary extension) with the classification extension: per row the same
    /// top-5 as `/classify` gives for that image alone, and the request's id echoed.
    @Test func binaryBatchWithClassificationMatchesClassify() throws {
        let images = Self.images.map(Fixtures.jpeg)
        let (body, headerLength) = Self.binaryBody(images)
        let response = Self.infer(body, headerLength: headerLength)
        #expect(response.status == .ok, "\(String(decoding: response.body, as: UTF8.self))")
        let answer = Self.jsonPart(response)
        #expect(answer["id"] as? String == "req-7")
        #expect(answer["model_name"] as? String == "seresnet-test" && answer["model_version"] as? String == "1")
        let output = try #require((answer["outputs"] as? [[String: Any]])?.first)
        #expect(output["datatype"] as? String == "BYTES" && output["shape"] as? [Int] == [3, 5])
        let elements = try #require(output["data"] as? [String])
        for (row, image) in images.enumerated() {
            let alone = try Self.service.classifySynchronously(image, topK: 5).get()
            let expected = alone.predictions.map { "\($0.score):\($0.index):\($0.label)" }
            #expect(Array(elements[row * 5..<row * 5 + 5]) == expected, "\(Self.images[row])")
        }
    }

    @Test func probabilitiesAsBinaryAndAsJSONAgree() throws {
        let image = Fixtures.jpeg("cat-444.jpg")
        let (binaryBody, binaryLength) = Self.binaryBody(
            [image], outputs: #"[{"name":"probabilities","parameters":{"binary_data":true}}]"#)
        let binary = Self.infer(binaryBody, headerLength: binaryLength)
        #expect(binary.status == .ok)
        let header = Self.jsonPart(binary)
        let output = try #require((header["outputs"] as? [[String: Any]])?.first)
        #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 4000)
        let jsonLength = try #require(binary.headers[OpenInference.headerLengthField].flatMap(Int.init))
        #expect(binary.body.count == jsonLength + 4000)
        let floats = stride(from: jsonLength, to: binary.body.count, by: 4).map { offset in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(binary.body[offset + $1]) << (8 * UInt32($1)) })
        }

        let (jsonBody, jsonBodyLength) = Self.binaryBody([image], outputs: #"[{"name":"probabilities"}]"#)
        let plain = Self.infer(jsonBody, headerLength: jsonBodyLength)
        #expect(plain.headers[OpenInference.headerLengthField] == nil && plain.headers["Content-Type"] == "application/json")
        let data = try #require(((json(plain)["outputs"] as? [[String: Any]])?.first?["data"] as? [NSNumber])?.map(\.floatValue))
        #expect(data == floats, "JSON floats round-trip to the binary ones exactly")
        #expect(abs(floats.reduce(0, +) - 1) < 1e-4)
        let top = try Self.service.classifySynchronously(image, topK: 1).get().predictions[0]
        #expect(floats.indices.max { floats[$0] < floats[$1] } == top.index)
        #expect(abs(Double(floats[top.index]) - top.score) < 1e-6)
    }

    /// `Inference-Header-Content-Length: 0`: the body is the JPEG itself, and the output comes back binary.
    @Test func rawBinaryAndBase64JSONForms() throws {
        let image = Fixtures.jpeg("coffee-422.jpg")
        let raw = Self.infer(image, headerLength: 0)
        #expect(raw.status == .ok && raw.headers[OpenInference.headerLengthField] != nil)
        let request =
            #"{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["\#(Data(image).base64EncodedString())"]}],"#
            + #""outputs":[{"name":"probabilities","parameters":{"classification":1}}]}"#
        let viaJSON = Self.infer(Array(request.utf8), headerLength: nil)
        #expect(viaJSON.status == .ok)
        let top = try Self.service.classifySynchronously(image, topK: 1).get().predictions[0]
        #expect(((json(viaJSON)["outputs"] as? [[String: Any]])?.first?["data"] as? [String]) == ["\(top.score):\(top.index):\(top.label)"])
    }

    @Test(arguments: [
        (#"{"inputs":[]}"#, "exactly one input"),
        (#"{"inputs":[{"name":"pixels","shape":[1],"datatype":"BYTES","data":["AA=="]}]}"#, "Unknown input 'pixels'"),
        (#"{"inputs":[{"name":"image","shape":[1],"datatype":"FP32","data":[1.0]}]}"#, "must be BYTES"),
        (#"{"inputs":[{"name":"image","shape":[2],"datatype":"BYTES","data":["AA=="]}]}"#, "carries 1 elements"),
        (
            #"{"inputs":[{"name":"image","shape":[2],"datatype":"BYTES","data":["/9j/","%%%"]}]}"#,
            "Element 1 of input 'image' is not valid base64"
        ),
        (#"{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":[7]}]}"#, "Element 0 of input 'image' must be a base64 string"),
        (#"{"inputs":[{"name":"image","shape":"1","datatype":"BYTES"}]}"#, "'inputs[0].shape'"),
        (#"{"inputs":[{"shape":[1],"datatype":"BYTES"}]}"#, "'inputs[0].name' is missing"),
        (#"{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["AA=="]}],"outputs":[{"name":"logits"}]}"#, "Unknown output"),
        (
            #"{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["AA=="]}],"outputs":[{"name":"probabilities","parameters":{"classification":1001}}]}"#,
            "from 1 to 1000"
        ),
        ("not json", "not JSON"),
    ])
    func malformedRequestsAre400NamingTheProblem(_ body: String, _ expected: String) {
        let response = Self.infer(Array(body.utf8), headerLength: nil)
        #expect(response.status == .badRequest)
        let message = json(response)["error"] as? String ?? ""
        #expect(message.contains(expected), "\(message)")
    }

    @Test func binaryFramingErrorsAre400() {
        let image = Fixtures.jpeg("cat-444.jpg")
        var (body, headerLength) = Self.binaryBody([image])
        #expect(Self.infer(body, headerLength: body.count + 1).status == .badRequest, "header length beyond the body")
        body.removeLast()
        #expect((json(Self.infer(body, headerLength: headerLength))["error"] as? String)?.contains("binary_data_size") == true)
        let bad = respond(
            Self.router, makeRequest("/v2/models/seresnet-test/infer", headers: [(OpenInference.headerLengthField, "x1")], body: image))
        #expect(bad.status == .badRequest)
    }

    @Test func tooManyImagesIs413() {
        let request =
            #"{"inputs":[{"name":"image","shape":[9],"datatype":"BYTES","data":[\#(Array(repeating: "\"AA==\"", count: 9).joined(separator: ","))]}]}"#
        let response = Self.infer(Array(request.utf8), headerLength: nil)
        #expect(response.status == .contentTooLarge)
        #expect((json(response)["error"] as? String)?.contains("at most 8") == true)
    }

    /// A corrupt or non-JPEG element fails the request with the status `/classify` would give, naming its index.
    @Test(arguments: [("bad-truncated-60pct.jpg", HTTPStatus.unprocessableContent), ("bad-not-an-image.jpg", .unsupportedMediaType)])
    func aBadElementFailsTheRequestNamingItsIndex(_ name: String, _ status: HTTPStatus) {
        let images = [Fixtures.jpeg("cat-444.jpg"), Fixtures.jpeg(name), Fixtures.jpeg("coffee-422.jpg")]
        let response = Self.infer(Self.binaryBody(images).body, headerLength: Self.binaryBody(images).headerLength)
        #expect(response.status == status)
        #expect((json(response)["error"] as? String)?.hasPrefix("Image 1 of the request:") == true, "\(json(response))")
    }

    @Test func anEmptyElementIs400NamingIt() {
        let images = [Fixtures.jpeg("cat-444.jpg"), []]
        let response = Self.infer(Self.binaryBody(images).body, headerLength: Self.binaryBody(images).headerLength)
        #expect(response.status == .badRequest)
        #expect(json(response)["error"] as? String == "Image 1 of the request is empty (0 bytes); send a JPEG.")
    }

    /// Eight images in one request are admitted together and run as one engine batch of 8.
    @Test func eightImagesInOneRequestRunAsOneBatch() throws {
        let images = (0..<8).map { Fixtures.jpeg(Self.images[$0 % Self.images.count]) }
        let rows = try Self.service.inferSynchronously(images).get()
        #expect(rows.map(\.batchSize) == Array(repeating: 8, count: 8))
        let response = Self.infer(Self.binaryBody(images).body, headerLength: Self.binaryBody(images).headerLength)
        #expect(response.status == .ok)
    }

    @Test func kserveV1PredictAnswersLikeClassify() throws {
        let images = Self.images.prefix(2).map(Fixtures.jpeg)
        let body =
            #"{"instances":[{"image":{"b64":"\#(Data(images[0]).base64EncodedString())"}},{"b64":"\#(Data(images[1]).base64EncodedString())"}]}"#
        let response = respond(Self.router, makeRequest("/v1/models/seresnet-test:predict?top_k=3", body: Array(body.utf8)))
        #expect(response.status == .ok)
        let predictions = try #require(json(response)["predictions"] as? [[[String: Any]]])
        #expect(predictions.count == 2)
        for (row, image) in images.enumerated() {
            let alone = try Self.service.classifySynchronously(image, topK: 3).get()
            #expect(predictions[row].map { $0["index"] as? Int } == alone.predictions.map(\.index))
            #expect(predictions[row].map { $0["score"] as? Double } == alone.predictions.map(\.score))
        }
        let bad = respond(Self.router, makeRequest("/v1/models/seresnet-test:predict", body: Array(#"{"instances":[{"b64":"%"}]}"#.utf8)))
        #expect(bad.status == .badRequest && (json(bad)["error"] as? String)?.contains("Instance 0") == true)
    }

    @Test func requestMetricsCarryTheProtocol() {
        for (path, expected) in [
            ("/v2/models/{model}/infer", "v2"), ("/v2/models/m/infer", "v2"), ("/v1/models/{model}:predict", "v1"),
            ("/v1/models/m:predict", "v1"), ("/classify", "classify"), ("/readyz", "classify"), ("/v2/nope", "v2"), ("/v2", "v2"),
            ("/v1/model", "classify"), ("/v2x", "classify"),
        ] {
            #expect(ServiceRoutes.apiProtocol(path: path) == expected, "\(path)")
        }
    }

    @Test func openAPIDocumentIsJSONWithTheServedModel() throws {
        let response = respond(Self.router, makeRequest("/openapi.json", method: .get))
        let document = json(response)
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        for path in ["/classify", "/v2/models/{model}/infer", "/v1/models/{model}:predict", "/metrics", "/readyz"] {
            #expect(paths[path] != nil, "\(path)")
        }
        let model = ((document["components"] as? [String: Any])?["parameters"] as? [String: Any])?["model"] as? [String: Any]
        #expect((model?["schema"] as? [String: Any])?["enum"] as? [String] == ["seresnet-test"])
    }

    /// The served document is the repository's `Resources/openapi.json` with the served values filled in.
    @Test func openAPIDocumentIsTheResourceFile() throws {
        let file = try String(
            contentsOf: Fixtures.packageRoot.appendingPathComponent("Sources/Service/Resources/openapi.json"), encoding: .utf8)
        let filled = file.replacingOccurrences(of: "__MODEL__", with: "seresnet-test")
            .replacingOccurrences(of: "__CLASSES__", with: "1000").replacingOccurrences(of: "__MAX_IMAGES__", with: "8")
            .replacingOccurrences(of: "__VERSION__", with: ServiceInfo.version)
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(filled.utf8)) as? NSDictionary)
        let served = respond(Self.router, makeRequest("/openapi.json", method: .get))
        #expect(served.status == .ok)
        #expect(NSDictionary(dictionary: json(served)) == expected)
    }

    /// Every body goes through `Codable`: a non-finite number is an error, never invalid JSON.
    @Test func nonFiniteNumbersFailLoudly() {
        #expect(throws: EncodingError.self) { try JSONBody.encode(OpenInference.InferenceResponse.OutputData.fp32([.nan])) }
        let response = JSONBody.response(["score": Double.infinity])
        #expect(response.status == .internalServerError)
    }
}
