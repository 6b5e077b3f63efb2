import Foundation
import Testing

@testable import HTTP

/// llhttp's own request cases as a second opinion. Where llhttp completes N messages we complete N; where it
/// reports an error we fail (or close) after the same messages. Deliberate differences are listed here by
/// case name with the reason.
enum CorpusExpectation {
    /// Our outcome differs from llhttp's for a stated reason.
    case deviation(messages: Int, end: ParseTrace.End, reason: String)
}

/// llhttp omits Host in most cases; RFC 9112 §3.2 requires 400 for an HTTP/1.1 request without one. Those
/// cases are checked twice: as sent (we must fail with missing_host unless something else fails first) and
/// with `Host: corpus` added after each HTTP/1.1 request line, where we must then agree with llhttp.
let llhttpDeviations: [String: CorpusExpectation] = [
    "HTTP protocol and ANNOUNCE method": .deviation(
        messages: 1, end: .closed,
        reason:
            "RFC 9110 §9: methods are an open set of tokens; the parser accepts any token and the router answers 404/405."),
    "Invalid method": .deviation(
        messages: 1, end: .idle,
        reason:
            "`MKCOLA` is a valid token; unknown methods are the router's business (405/404), not a framing error."),
    "SOURCE request with ICE": .deviation(
        messages: 0, end: .failed(.malformedRequestLine),
        reason:
            "This is an HTTP server: a request line must end in HTTP/x.y (RFC 9112 §2.3); ICE is refused with 400."),
    "OPTIONS request with RTSP": .deviation(
        messages: 0, end: .failed(.malformedRequestLine),
        reason:
            "RTSP is not HTTP; RFC 9112 §2.3 requires `HTTP/` DIGIT `.` DIGIT, so 400."),
    "ANNOUNCE request with RTSP": .deviation(
        messages: 0, end: .failed(.malformedRequestLine),
        reason:
            "RTSP is not HTTP; RFC 9112 §2.3 requires `HTTP/` DIGIT `.` DIGIT, so 400."),
    "No HTTP version": .deviation(
        messages: 0, end: .failed(.malformedRequestLine),
        reason:
            "An HTTP/0.9 simple request has no version and expects no status line; RFC 9112 serves only 1.x, so 400."),
    "POST with `chunked` as last transfer-encoding": .deviation(
        messages: 0, end: .failed(.unsupportedTransferCoding),
        reason:
            "A transfer coding the server does not implement (deflate) is refused (400 unsupported_transfer_coding, where RFC 9112 §6.1 suggests 501: client input never gets a 5xx here); passing the still-deflated body to a handler as if it were the content would be wrong."
    ),
    "POST with `chunked` as last transfer-encoding (multiple headers)": .deviation(
        messages: 0, end: .failed(.unsupportedTransferCoding),
        reason:
            "Same as above: `deflate` is not implemented, 400 unsupported_transfer_coding."),
]

extension LLHTTPCase {
    var request: [UInt8] { Array(Data(base64Encoded: requestBase64)!) }

    /// llhttp error 22/23: it pauses on CONNECT and Upgrade (the bytes after are another protocol).
    var llhttpPaused: Bool { llhttpError == 22 || llhttpError == 23 }

    /// Whether some HTTP/1.1 request line lacks a Host header (the whole input has no `Host:`).
    var lacksHost: Bool {
        let text = String(decoding: request, as: UTF8.self).lowercased()
        return !text.contains("\nhost:") && text.contains(" http/1.1\r\n")
    }

    /// The request with `Host: corpus` inserted after every ` HTTP/1.1\r\n`.
    var requestWithHost: [UInt8] {
        let marker = Array(" HTTP/1.1\r\n".utf8)
        let insertion = Array("Host: corpus\r\n".utf8)
        var out: [UInt8] = []
        var i = 0
        let input = request
        while i < input.count {
            if input[i...].starts(with: marker) {
                out += marker + insertion
                i += marker.count
            } else {
                out.append(input[i])
                i += 1
            }
        }
        return out
    }
}

/// Whether our trace agrees with llhttp's result, with a description of the disagreement.
func agreesWithLLHTTP(_ t: ParseTrace, _ c: LLHTTPCase) -> (Bool, String) {
    let body = t.messages.reduce(0) { $0 + $1.body.count }
    let summary =
        "ours: \(t) body=\(body); llhttp: error=\(c.llhttpError.map(String.init) ?? "none") \(c.llhttpReason ?? "") messages=\(c.messagesComplete) body=\(c.bodyBytes)"
    if c.llhttpError == nil {
        let failed: Bool
        if case .failed = t.end { failed = true } else { failed = false }
        // llhttp counts body bytes of a message it has not finished; we deliver bodies only when complete.
        let bodyAgrees = body == c.bodyBytes || (t.end == .incomplete && body <= c.bodyBytes)
        return (t.messages.count == c.messagesComplete && !failed && bodyAgrees, summary)
    }
    if c.llhttpPaused {
        // llhttp stops parsing HTTP after the CONNECT/Upgrade message; we serve it and read on.
        return (t.messages.count >= c.messagesComplete, summary)
    }
    switch t.end {
    case .failed(let code):
        return (t.messages.count == c.messagesComplete && (400..<600).contains(code.status.code), summary)
    case .closed:
        // llhttp's "data after Connection: close": we stop reading after such a message.
        return (t.messages.count == c.messagesComplete && c.llhttpError == 5, summary)
    default:
        return (false, summary)
    }
}

@Test(arguments: llhttpCases)
func llhttpCaseAgreesOrDeviatesForAReason(_ c: LLHTTPCase) {
    let input = c.request
    let whole = trace([input])
    // Split anywhere, the outcome is the same.
    for split in 0...input.count {
        #expect(trace(input, splitAt: split) == whole, "split at \(split)")
    }
    if case .deviation(let messages, let end, _)? = llhttpDeviations[c.name] {
        let t = c.lacksHost ? trace([c.requestWithHost]) : whole
        #expect(t.messages.count == messages && t.end == end, "\(t)")
        return
    }
    if c.lacksHost {
        if c.llhttpError == nil || c.llhttpPaused {
            #expect(whole.end == .failed(.missingHost), "Host-less HTTP/1.1 must be refused: \(whole)")
        } else {
            let (ok, summary) = agreesWithLLHTTP(whole, c)
            #expect(ok, "as sent — \(summary)")
        }
        let withHost = trace([c.requestWithHost])
        let (ok, summary) = agreesWithLLHTTP(withHost, c)
        #expect(ok, "with Host added — \(summary)")
    } else {
        let (ok, summary) = agreesWithLLHTTP(whole, c)
        #expect(ok, "\(summary)")
    }
}

@Test func everyDeviationNamesACorpusCaseAndAReason() {
    #expect(llhttpCases.count == 103)
    let names = Set(llhttpCases.map(\.name))
    for (name, expectation) in llhttpDeviations {
        #expect(names.contains(name), "\(name) is not in the corpus")
        if case .deviation(_, _, let reason) = expectation { #expect(reason.count > 20) }
    }
}
