import Foundation
import Testing

@testable import HTTP

private let crlf = "\r\n"

private func body(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: crlf).utf8) }

@Test func parsesFieldsAndFiles() throws {
    let b = body([
        "--XyZ",
        "Content-Disposition: form-data; name=\"top_k\"",
        "",
        "5",
        "--XyZ",
        "Content-Disposition: form-data; name=\"file\"; filename=\"cat.jpg\"",
        "Content-Type: image/jpeg",
        "",
        "\u{FF}binary\r\n--Xy not a boundary",
        "--XyZ--",
        "",
    ])
    let parts = try MultipartFormData.parse(body: b, contentType: "multipart/form-data; boundary=XyZ")
    #expect(parts.count == 2)
    #expect(parts[0].name == "top_k" && parts[0].filename == nil && parts[0].contentType == nil && parts[0].body == Array("5".utf8))
    #expect(parts[1].name == "file" && parts[1].filename == "cat.jpg" && parts[1].contentType == "image/jpeg")
    #expect(parts[1].body == Array("\u{FF}binary\r\n--Xy not a boundary".utf8))
}

@Test func acceptsQuotedBoundaryPreambleEpilogueAndEmptyParts() throws {
    let b = body([
        "This is a preamble.",
        "--a b:c",
        "content-disposition: form-data; name=empty",
        "",
        "",
        "--a b:c--",
        "epilogue",
    ])
    let parts = try MultipartFormData.parse(body: b, contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"")
    #expect(parts.count == 1)
    #expect(parts[0].name == "empty" && parts[0].body.isEmpty)
}

@Test func boundaryPrefixesInsideContentAreContent() throws {
    let b = body([
        "--Bxyz is preamble, not a boundary",
        "--B",
        "Content-Disposition: form-data; name=a",
        "",
        "line",
        "--Bnot-a-boundary",
        "--B--",
        "",
    ])
    let parts = try MultipartFormData.parse(body: b, contentType: "multipart/form-data; boundary=B")
    #expect(parts.count == 1)
    #expect(parts.first?.body == Array("line\r\n--Bnot-a-boundary".utf8))
}

@Test func unescapesQuotedParameters() throws {
    let b = body([
        "--B",
        "Content-Disposition: form-data; name=\"f\"; filename=\"a \\\"quoted\\\"; name.jpg\"",
        "",
        "x",
        "--B--",
    ])
    let parts = try MultipartFormData.parse(body: b, contentType: "multipart/form-data; boundary=B")
    #expect(parts.first?.filename == "a \"quoted\"; name.jpg")
    #expect(parts.first?.name == "f")
}

@Test(arguments: [
    ("application/json", HTTPServerError.Code.unsupportedMediaType),
    ("multipart/form-data", .invalidMultipart),
    ("multipart/form-data; boundary=", .invalidMultipart),
    ("multipart/form-data; boundary=\(String(repeating: "b", count: 71))", .invalidMultipart),
])
func refusesBadContentTypes(_ contentType: String, _ code: HTTPServerError.Code) {
    #expect { try MultipartFormData.parse(body: [], contentType: contentType) } throws: { ($0 as? HTTPServerError)?.code == code }
}

@Test func formDataIsTheExactMediaType() {
    for yes in ["multipart/form-data; boundary=b", "Multipart/Form-Data", " multipart/form-data ; boundary=b", "multipart/form-data"] {
        #expect(MultipartFormData.isFormData(contentType: yes), "\(yes)")
    }
    for no in ["multipart/form-datax; boundary=b", "multipart/mixed; boundary=b", "form-data", "", "image/jpeg"] {
        #expect(!MultipartFormData.isFormData(contentType: no), "\(no)")
    }
}

@Test(arguments: [
    ("no boundary in body", ["just text"]),
    ("no closing boundary", ["--B", "Content-Disposition: form-data; name=a", "", "x"]),
    ("no Content-Disposition", ["--B", "Content-Type: text/plain", "", "x", "--B--"]),
    ("not form-data", ["--B", "Content-Disposition: attachment; name=a", "", "x", "--B--"]),
    ("no name", ["--B", "Content-Disposition: form-data; filename=a", "", "x", "--B--"]),
    ("header without colon", ["--B", "Content-Disposition form-data", "", "x", "--B--"]),
    ("headers never end", ["--B", "Content-Disposition: form-data; name=a"]),
    ("boundary-like line only", ["--Bxyz", "Content-Disposition: form-data; name=a", "", "x", "--Bx--"]),
])
func refusesMalformedBodies(_ name: String, _ lines: [String]) {
    #expect(throws: HTTPServerError.self, "\(name)") {
        try MultipartFormData.parse(body: body(lines), contentType: "multipart/form-data; boundary=B")
    }
}

@Test func everyTruncationFailsCleanly() throws {
    let b = body([
        "--B", "Content-Disposition: form-data; name=\"file\"; filename=\"x\"", "Content-Type: image/jpeg", "", "abc", "--B--", "",
    ])
    #expect(try MultipartFormData.parse(body: b, boundary: Array("B".utf8)).count == 1)
    let complete = b.count - 2  // "--B--" without the final CRLF is still a complete body
    for length in 0..<complete {
        #expect(throws: HTTPServerError.self, "prefix \(length)") {
            try MultipartFormData.parse(body: Array(b[..<length]), boundary: Array("B".utf8))
        }
    }
}

/// What `curl -F` really sends, captured by the live server and parsed back.
@Test func parsesWhatCurlSends() throws {
    var router = Router()
    router.add(.post, "/upload") { request, respond in
        do {
            let parts = try MultipartFormData.parse(body: request.body, contentType: request.headers["Content-Type"] ?? "")
            let summary = parts.map {
                "\($0.name)|\($0.filename ?? "-")|\($0.contentType ?? "-")|\($0.body.count)|\($0.body.prefix(4).map(String.init).joined(separator: ","))"
            }
            respond(.text(summary.joined(separator: "\n")))
        } catch let error as HTTPServerError {
            respond(HTTPResponse.defaultError(error))
        } catch {
            respond(.text("\(error)", status: .internalServerError))
        }
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("multipart-\(getpid()).jpg")
    var image = Data([0xFF, 0xD8, 0xFF, 0xE0])
    image.append(Data("--\r\n\r\n--".utf8))
    image.append(Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
    try image.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    try withLiveServer(router: router) { _, port, _ in
        let (status, out, err) = try run(
            "curl",
            [
                "-sS", "-F", "top_k=3", "-F", "file=@\(file.path);type=image/jpeg",
                "http://127.0.0.1:\(port)/upload",
            ])
        #expect(status == 0, "\(err)")
        #expect(out == "top_k|-|-|1|51\nfile|\(file.lastPathComponent)|image/jpeg|\(image.count)|255,216,255,224")
    }
}
