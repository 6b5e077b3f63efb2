import Testing

@testable import HTTP

/// A named parser case: input, expected messages (method, path, body) and how the input ends.
struct ParserCase: CustomStringConvertible, Sendable {
    let name: String
    let input: [UInt8]
    let messages: [(method: String, path: String, body: String)]
    let end: ParseTrace.End
    var limits = RequestParser.Limits()
    var description: String { name }

    init(
        _ name: String, _ input: String, _ messages: [(String, String, String)] = [], end: ParseTrace.End = .idle,
        limits: RequestParser.Limits = RequestParser.Limits()
    ) {
        self.name = name
        self.input = Array(input.utf8)
        self.messages = messages.map { (method: $0.0, path: $0.1, body: $0.2) }
        self.end = end
        self.limits = limits
    }

    init(
        _ name: String, bytes: [UInt8], _ messages: [(String, String, String)] = [], end: ParseTrace.End = .idle,
        limits: RequestParser.Limits = RequestParser.Limits()
    ) {
        self.name = name
        self.input = bytes
        self.messages = messages.map { (method: $0.0, path: $0.1, body: $0.2) }
        self.end = end
        self.limits = limits
    }
}

private let small: RequestParser.Limits = {
    var limits = RequestParser.Limits()
    limits.maxTargetBytes = 16
    limits.maxHeaderBytes = 64
    limits.maxHeaderCount = 3
    limits.maxBodyBytes = 10
    limits.maxChunkExtensionBytes = 8
    return limits
}()

let validCases: [ParserCase] = [
    ParserCase("GET with Host", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", [("GET", "/", "")]),
    ParserCase(
        "POST with Content-Length", "POST /classify HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", [("POST", "/classify", "hello")]
    ),
    ParserCase("Content-Length with leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc", [("POST", "/", "abc")]),
    ParserCase("identical Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", [("POST", "/", "abc")]),
    ParserCase(
        "identical Content-Length lines", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        [("POST", "/", "abc")]),
    ParserCase("Content-Length zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", [("POST", "/", "")]),
    ParserCase(
        "chunked with extensions and trailers",
        "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d\\\"e\";f\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        [("POST", "/u", "hello world")]),
    ParserCase(
        "chunked, uppercase hex and zero padding",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n000\r\n\r\n", [("POST", "/", "0123456789")]),
    ParserCase(
        "chunk size with twenty leading zeros",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000005\r\nhello\r\n0\r\n\r\n",
        [("POST", "/", "hello")]),
    ParserCase("chunked empty body", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", [("POST", "/", "")]),
    ParserCase(
        "three pipelined requests",
        "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: a\r\n\r\n",
        [("GET", "/a", ""), ("POST", "/b", "hi"), ("GET", "/c", "")]),
    ParserCase("HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\nGET /ignored HTTP/1.0\r\n\r\n", [("GET", "/", "")], end: .closed),
    ParserCase(
        "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
        [("GET", "/", ""), ("GET", "/2", "")], end: .closed),
    ParserCase(
        "Connection: close on HTTP/1.1", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\nGET / HTTP/1.1\r\n",
        [("GET", "/", "")], end: .closed),
    ParserCase("empty lines before the request line", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", [("GET", "/", "")]),
    ParserCase("absolute-form target", "GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", [("GET", "/p/q", "")]),
    ParserCase("absolute-form without path", "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", [("GET", "/", "")]),
    ParserCase("asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", [("OPTIONS", "*", "")]),
    ParserCase("percent-decoded path", "GET /a%20b/%E2%9C%93 HTTP/1.1\r\nHost: a\r\n\r\n", [("GET", "/a b/✓", "")]),
    ParserCase("fragment ignored", "GET /a?b=1#frag HTTP/1.1\r\nHost: a\r\n\r\n", [("GET", "/a", "")]),
    ParserCase("OWS around values, empty value", "GET / HTTP/1.1\r\nHost:a\r\nX-Empty:\r\nX-Pad: \t v \t\r\n\r\n", [("GET", "/", "")]),
    ParserCase(
        "obs-text in a value", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8),
        [("GET", "/", "")]),
    ParserCase("HTTP/1.2 is treated as 1.x", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", [("GET", "/", "")]),
    ParserCase("extension method", "QUERY /q HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", [("QUERY", "/q", "x")]),
    ParserCase(
        "Expect: 100-continue", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx", [("POST", "/", "x")]),
    ParserCase(
        "Transfer-Encoding over several lines ending in chunked, refused only with another coding",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", [("POST", "/", "")]),
    ParserCase("header count at the limit", "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\n\r\n", [("GET", "/", "")], limits: small),
    ParserCase(
        "body at the limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", [("POST", "/", "0123456789")],
        limits: small),
    ParserCase(
        "chunked body at the limit",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
        [("POST", "/", "0123456789")], limits: small),
    ParserCase("incomplete head", "GET / HTTP/1.1\r\nHost: a\r\n", end: .incomplete),
    ParserCase("incomplete body", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel", end: .incomplete),
    ParserCase(
        "incomplete chunked trailer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n", end: .incomplete),
]

let malformedCases: [ParserCase] = [
    // Framing (RFC 9112 §6).
    ParserCase(
        "Content-Length and Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        end: .failed(.contentLengthWithTransferEncoding)),
    ParserCase(
        "differing Content-Length lines", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        end: .failed(.invalidContentLength)),
    ParserCase(
        "differing Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n", end: .failed(.invalidContentLength)),
    ParserCase("Content-Length +5", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", end: .failed(.invalidContentLength)),
    ParserCase("Content-Length -1", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", end: .failed(.invalidContentLength)),
    ParserCase("Content-Length 0x5", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", end: .failed(.invalidContentLength)),
    ParserCase(
        "Content-Length with inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4 2\r\n\r\n", end: .failed(.invalidContentLength)),
    ParserCase("Content-Length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", end: .failed(.invalidContentLength)),
    ParserCase(
        "Content-Length empty list element", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,\r\n\r\n", end: .failed(.invalidContentLength)
    ),
    ParserCase(
        "Content-Length overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000000\r\n\r\n",
        end: .failed(.invalidContentLength)),
    ParserCase(
        "Content-Length 2^63", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n",
        end: .failed(.invalidContentLength)),
    ParserCase(
        "Content-Length over the body limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", end: .failed(.payloadTooLarge),
        limits: small),
    ParserCase(
        "Transfer-Encoding gzip only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
        end: .failed(.transferEncodingNotChunked)),
    ParserCase(
        "Transfer-Encoding chunked then gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        end: .failed(.transferEncodingNotChunked)),
    ParserCase(
        "Transfer-Encoding chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        end: .failed(.transferEncodingNotChunked)),
    ParserCase(
        "Transfer-Encoding chunkedchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedchunked\r\n\r\n",
        end: .failed(.transferEncodingNotChunked)),
    ParserCase(
        "Transfer-Encoding empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", end: .failed(.transferEncodingNotChunked)),
    ParserCase(
        "Transfer-Encoding unknown coding before chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        end: .failed(.unsupportedTransferCoding)),
    // Field syntax (RFC 9112 §5).
    ParserCase("whitespace before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", end: .failed(.whitespaceBeforeColon)),
    ParserCase("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", end: .failed(.whitespaceBeforeColon)),
    ParserCase("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-Long: a\r\n b\r\n\r\n", end: .failed(.obsoleteLineFolding)),
    ParserCase("whitespace before the first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", end: .failed(.obsoleteLineFolding)),
    ParserCase("bare CR in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", end: .failed(.invalidLineEnding)),
    ParserCase("bare CR ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\rX", end: .failed(.invalidLineEnding)),
    ParserCase("bare LF ending a header", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", end: .failed(.invalidLineEnding)),
    ParserCase("bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", end: .failed(.invalidLineEnding)),
    ParserCase("bare CR after the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", end: .failed(.invalidLineEnding)),
    ParserCase("bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.invalidLineEnding)),
    ParserCase(
        "control character in a header name", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX\u{1}Y: b\r\n\r\n".utf8),
        end: .failed(.invalidHeaderName)),
    ParserCase(
        "NUL in a header value", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX: a".utf8) + [0] + Array("b\r\n\r\n".utf8),
        end: .failed(.invalidHeaderValue)),
    ParserCase(
        "DEL in a header value", bytes: Array("GET / HTTP/1.1\r\nHost: a\r\nX: a".utf8) + [0x7F] + Array("\r\n\r\n".utf8),
        end: .failed(.invalidHeaderValue)),
    ParserCase("form feed in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0C}b\r\n\r\n", end: .failed(.invalidHeaderValue)),
    ParserCase("header line without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", end: .failed(.invalidHeaderName)),
    ParserCase("empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", end: .failed(.invalidHeaderName)),
    ParserCase("header name with a slash", "GET / HTTP/1.1\r\nHost: a\r\nX/Y: b\r\n\r\n", end: .failed(.invalidHeaderName)),
    // Host (RFC 9112 §3.2).
    ParserCase("missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", end: .failed(.missingHost)),
    ParserCase("duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", end: .failed(.duplicateHost)),
    ParserCase("duplicate Host on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", end: .failed(.duplicateHost)),
    // Request line (RFC 9112 §3).
    ParserCase("two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("two spaces before the version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("space after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("no version (HTTP/0.9)", "GET /\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("other protocol", "GET / ICE/1.0\r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("two-digit minor version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("tab as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.malformedRequestLine)),
    ParserCase("method too long", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ / HTTP/1.1\r\n", end: .failed(.malformedRequestLine)),
    ParserCase(
        "non-ASCII byte in the target", bytes: Array("GET /caf".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
        end: .failed(.invalidTarget)),
    ParserCase("target not starting with /", "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.invalidTarget)),
    ParserCase("bad percent-encoding", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.invalidTarget)),
    ParserCase("truncated percent-encoding", "GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.invalidTarget)),
    ParserCase("percent-encoding of invalid UTF-8", "GET /%FF HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.invalidTarget)),
    ParserCase("bad escape in the query", "GET /a?x=%G0 HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.invalidTarget)),
    ParserCase("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", end: .failed(.httpVersionNotSupported)),
    ParserCase("HTTP/0.9 with version", "GET / HTTP/0.9\r\n\r\n", end: .failed(.httpVersionNotSupported)),
    // Limits.
    ParserCase("target over the limit", "GET /0123456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n", end: .failed(.uriTooLong), limits: small),
    ParserCase(
        "header section over the limit",
        "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789012345678901234567890123456789012345678901234567\r\n\r\n",
        end: .failed(.headersTooLarge), limits: small),
    ParserCase(
        "too many headers", "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\n\r\n", end: .failed(.tooManyHeaders), limits: small),
    ParserCase(
        "chunked body over the limit", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n",
        end: .failed(.payloadTooLarge), limits: small),
    ParserCase(
        "chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n",
        end: .failed(.payloadTooLarge)),
    ParserCase(
        "chunk extension over the limit", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;abcdefghij\r\n",
        end: .failed(.chunkExtensionTooLong), limits: small),
    ParserCase(
        "trailer section over the limit",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 012345678901234567890123456789012345678901234567890123456789012345\r\n\r\n",
        end: .failed(.headersTooLarge), limits: small),
    // Chunked syntax (RFC 9112 §7.1).
    ParserCase("chunk size not hex", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", end: .failed(.invalidChunk)),
    ParserCase("empty chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", end: .failed(.invalidChunk)),
    ParserCase(
        "space after chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
        end: .failed(.invalidChunk)),
    ParserCase(
        "chunk data without CRLF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n",
        end: .failed(.invalidChunk)),
    ParserCase(
        "chunk data with CR only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX",
        end: .failed(.invalidChunk)),
    ParserCase(
        "chunk size line with bare CR", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello",
        end: .failed(.invalidChunk)),
    ParserCase(
        "chunk extension without a name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\naa\r\n0\r\n\r\n",
        end: .failed(.invalidChunk)),
    ParserCase(
        "unterminated quoted chunk extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"b\r\naa\r\n",
        end: .failed(.invalidChunk)),
    ParserCase(
        "missing last chunk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfoo\r\n\r\n",
        end: .failed(.invalidChunk)),
    ParserCase(
        "trailer with whitespace before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : y\r\n\r\n",
        end: .failed(.whitespaceBeforeColon)),
    ParserCase(
        "trailer with a control character", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\u{1}\r\n\r\n",
        end: .failed(.invalidHeaderValue)),
    // Expectations.
    ParserCase(
        "unknown expectation", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx",
        end: .failed(.expectationFailed)),
    // A failure after a good message keeps the good one.
    ParserCase(
        "valid request then garbage", "GET / HTTP/1.1\r\nHost: a\r\n\r\n\u{1}GET", [("GET", "/", "")], end: .failed(.malformedRequestLine)),
]

private func check(_ t: ParseTrace, against c: ParserCase, _ comment: String) {
    #expect(t.end == c.end, "\(c.name) \(comment): \(t)")
    #expect(t.messages.count == c.messages.count, "\(c.name) \(comment): \(t)")
    for (got, want) in zip(t.messages, c.messages) {
        #expect(got.method == want.method && got.path == want.path && got.body == Array(want.body.utf8), "\(c.name) \(comment): \(t)")
    }
}

@Test(arguments: validCases + malformedCases)
func parsesWholeAndAtEverySplitPoint(_ c: ParserCase) {
    check(trace([c.input], limits: c.limits), against: c, "whole")
    for split in 0...c.input.count {
        check(trace(c.input, splitAt: split, limits: c.limits), against: c, "split at \(split)")
    }
    check(trace(c.input.map { [$0] }, limits: c.limits), against: c, "byte by byte")
}

/// Every strict prefix of a case is either still incomplete or has already failed with the case's own error;
/// it never completes a message the full input would not, and never fails differently.
@Test(arguments: validCases + malformedCases)
func everyPrefixIsIncompleteOrFailsTheSameWay(_ c: ParserCase) {
    for length in 0..<c.input.count {
        let t = trace([Array(c.input[..<length])], limits: c.limits)
        #expect(t.messages.count <= c.messages.count, "\(c.name) prefix \(length): \(t)")
        if case .failed(let code) = t.end {
            #expect(t.end == c.end, "\(c.name) prefix \(length) failed with \(code)")
        }
    }
}

@Test func malformedCasesMapToClientErrors() {
    for c in malformedCases {
        guard case .failed(let code) = c.end else { continue }
        let status = code.status.code
        #expect((400..<500).contains(status), "\(c.name): \(status)")
    }
}

@Test func headCarriesDecodedQueryHeadersAndFlags() throws {
    let input = bytes(
        "POST /classify?top_k=5&name=a%20b+c&flag&top_k=7 HTTP/1.1\r\nHost: x\r\nX-Request-ID: abc\r\nexpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"
    )
    let t = trace([input])
    let head = try #require(t.heads.first)
    #expect(head.method == .post)
    #expect(head.path == "/classify")
    #expect(head.target == "/classify?top_k=5&name=a%20b+c&flag&top_k=7")
    #expect(head.query["top_k"] == "5")
    #expect(head.query.values(for: "top_k") == ["5", "7"])
    #expect(head.query["name"] == "a b c")
    #expect(head.query["flag"] == "")
    #expect(head.headers["x-request-id"] == "abc")
    #expect(head.headers["HOST"] == "x")
    #expect(head.expectsContinue)
    #expect(head.framing == .contentLength(2))
    #expect(head.keepAlive)
    #expect(head.version == .http1_1)
}

@Test func expectContinueIsIgnoredOnHTTP10() throws {
    let t = trace([bytes("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")])
    #expect(try #require(t.heads.first).expectsContinue == false)
}

@Test func chunkedOnHTTP10ClosesAfterwards() throws {
    let t = trace([bytes("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")])
    #expect(t.messages.count == 1)
    #expect(t.end == .closed)
}

@Test func defaultLimitsRejectLongTargetsAndLargeHeaderSections() {
    let longTarget = bytes("GET /" + String(repeating: "a", count: 8 * 1024) + " HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(trace([longTarget]).end == .failed(.uriTooLong))
    let okTarget = bytes("GET /" + String(repeating: "a", count: 8 * 1024 - 1) + " HTTP/1.1\r\nHost: a\r\n\r\n")
    #expect(trace([okTarget]).messages.count == 1)
    let bigHeaders = bytes("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 16 * 1024) + "\r\n\r\n")
    #expect(trace([bigHeaders]).end == .failed(.headersTooLarge))
    let manyHeaders = bytes("GET / HTTP/1.1\r\nHost: a\r\n" + (1...100).map { "X-\($0): v\r\n" }.joined() + "\r\n")
    #expect(trace([manyHeaders]).end == .failed(.tooManyHeaders))
    let hundredHeaders = bytes("GET / HTTP/1.1\r\nHost: a\r\n" + (1...99).map { "X-\($0): v\r\n" }.joined() + "\r\n")
    #expect(trace([hundredHeaders]).messages.count == 1)
}

@Test func contentLengthParsingIsStrict() {
    #expect(RequestParser.parseContentLength(bytes("42")[...]) == 42)
    #expect(RequestParser.parseContentLength(bytes(" 42 ")[...]) == 42)
    #expect(RequestParser.parseContentLength(bytes("7, 7")[...]) == 7)
    for bad in ["+5", "-1", "0x5", "", " ", "4 2", "1e3", "5,6", "١٢", "999999999999999999999"] {
        #expect(RequestParser.parseContentLength(bytes(bad)[...]) == nil, "\(bad)")
    }
}

@Test func failedParserStaysFailed() {
    var parser = RequestParser()
    #expect(parser.parse(bytes("GET / HTTP/1.1\r\nHost : a\r\n")) == .failed(.whitespaceBeforeColon))
    #expect(parser.parse(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n")) == .failed(.whitespaceBeforeColon))
}
