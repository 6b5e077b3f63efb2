// libFuzzer entry for the Open Inference Protocol and KServe v1 request readers (OpenInference.parse,
// KServeV1.images). The first byte picks the framing: JSON only, raw binary (Inference-Header-Content-Length: 0),
// or the binary extension with the JSON length in the next two bytes (little-endian, may point past the body).
// Reading must refuse with an OpenInference.Refusal or return images that lie inside the body, within the limits.

@_cdecl("LLVMFuzzerTestOneInput")
public func inferenceRequestFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = input.first else { return 0 }
    var body = Array(input.dropFirst())
    var headerLength: Int?
    switch mode % 3 {
    case 0: headerLength = nil
    case 1: headerLength = 0
    default:
        guard body.count >= 2 else { return 0 }
        headerLength = Int(body[0]) | Int(body[1]) << 8
        body.removeFirst(2)
    }
    let maxImages = 8
    do {
        let parsed = try OpenInference.parse(body: body, headerLength: headerLength, classes: 1000, maxImages: maxImages)
        precondition((1...maxImages).contains(parsed.images.count))
        precondition(parsed.images.reduce(0) { $0 + $1.count } <= body.count)
        precondition(!parsed.outputs.isEmpty)
        for output in parsed.outputs { precondition(output.classification.map { (1...1000).contains($0) } ?? true) }
    } catch {
        if case .invalid(let reason) = error { precondition(!reason.isEmpty) }
    }
    do {
        let images = try KServeV1.images(inPredictBody: body, limit: maxImages)
        precondition((1...maxImages).contains(images.count))
        // Base64 takes 4 bytes for every 3 it carries.
        precondition(images.reduce(0) { $0 + $1.count } <= body.count)
    } catch {
        if case .invalid(let reason) = error { precondition(!reason.isEmpty) }
    }
    return 0
}
