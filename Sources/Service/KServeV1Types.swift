import Foundation

/// KServe's v1 protocol (TensorFlow Serving's REST shape) on the wire: `{"instances":[{"image":{"b64":"…"}}, …]}`.
public enum KServeV1 {
    /// `{"instances":[…]}`; an instance is `{"image":{"b64":…}}` (KServe's samples), `{"b64":…}`, or `{"image":"<base64>"}`.
    struct PredictRequest: Decodable {
        struct Instance: Decodable {
            struct Encoded: Decodable { let b64: String }
            let base64: String

            enum CodingKeys: String, CodingKey { case image, b64 }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                if let encoded = try? container.decode(Encoded.self, forKey: .image) {
                    base64 = encoded.b64
                } else if let text = try? container.decode(String.self, forKey: .image) {
                    base64 = text
                } else {
                    base64 = try container.decode(String.self, forKey: .b64)
                }
            }
        }
        let instances: [Instance]
    }

    /// The JPEGs of a predict body, in order.
    public static func images(inPredictBody body: [UInt8], limit: Int) throws(OpenInference.Refusal) -> [[UInt8]] {
        guard !body.isEmpty else { throw .empty }
        let request: PredictRequest
        do {
            request = try JSONDecoder().decode(PredictRequest.self, from: Data(body))
        } catch let error as DecodingError {
            throw .invalid(
                "The predict request is not valid: \(OpenInference.describe(error)). Send {\"instances\":[{\"image\":{\"b64\":\"<base64 JPEG>\"}}]}."
            )
        } catch {
            throw .invalid("The predict request is not valid JSON.")
        }
        guard !request.instances.isEmpty else { throw .invalid("\"instances\" is empty; send at least one image.") }
        guard request.instances.count <= limit else { throw .tooManyImages(count: request.instances.count, limit: limit) }
        return try request.instances.enumerated().map { index, instance throws(OpenInference.Refusal) in
            guard let bytes = Data(base64Encoded: instance.base64) else {
                throw .invalid("Instance \(index): image.b64 is not valid base64.")
            }
            return Array(bytes)
        }
    }
}
