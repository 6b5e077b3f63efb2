// libFuzzer entry for MultipartFormData: the first line of the input is the Content-Type, the rest the body.
// Parsing must throw HTTPServerError or return parts whose bodies lie inside the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func multipartFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = input.firstIndex(of: 10) ?? input.count
    let contentType = String(decoding: input[..<newline], as: UTF8.self)
    let body = newline < input.count ? Array(input[(newline + 1)...]) : []
    do {
        let parts = try MultipartFormData.parse(body: body, contentType: contentType)
        precondition(parts.count <= MultipartFormData.maxParts)
        precondition(parts.reduce(0) { $0 + $1.body.count } <= body.count)
    } catch is HTTPServerError {
    } catch {
        preconditionFailure("unexpected error type \(error)")
    }
    return 0
}
