/// An incremental HTTP/1.1 request parser: a pure state machine over bytes (RFC 9112), fed any split of
/// the input. It never touches sockets or clocks; it buffers only the head and the body it returns.
///
/// Each message yields `.head` once the header section is complete (so the caller can route, answer
/// `Expect: 100-continue` or refuse early), then `.complete` with the body. After `.complete` the parser
/// is ready for the next pipelined request. After `.failed` it stays failed: framing is lost.
public struct RequestParser {
    /// Size limits; exceeding one fails with the matching 4xx.
    public struct Limits: Sendable, Equatable {
        /// Longest request target (414 beyond).
        public var maxTargetBytes = 8 * 1024
        /// Largest header section (and trailer section), excluding the request line (431 beyond).
        public var maxHeaderBytes = 16 * 1024
        /// Most header fields (431 beyond).
        public var maxHeaderCount = 100
        /// Largest body, before chunked decoding framing is removed (413 beyond).
        public var maxBodyBytes = 16 * 1024 * 1024
        /// Longest chunk extension on one chunk-size line; extensions are read and ignored.
        public var maxChunkExtensionBytes = 1024
        /// Longest method token.
        public var maxMethodBytes = 32
        public init() {}
    }

    /// The outcome of feeding bytes.
    public enum Result: Equatable {
        /// Every byte was consumed; feed more.
        case needMoreData
        /// The head of a request is complete after `consumed` bytes of this input; call again for the body.
        case head(HTTPRequestHead, consumed: Int)
        /// The message is complete after `consumed` bytes of this input; the parser is reset for the next one.
        case complete(body: [UInt8], consumed: Int)
        /// The input is not a valid request; the connection must answer `error.status` and close.
        case failed(HTTPServerError)
    }

    private enum State {
        case start, startLF
        case method, target, version, requestLineLF
        case lineStart, name, valueLeadingSpace, value, valueLF, headEndLF
        case headDone
        case bodyLength
        case chunkSize, chunkExtNameStart, chunkExtName, chunkExtValueStart, chunkExtToken
        case chunkExtQuoted, chunkExtQuotedPair, chunkExtAfterQuoted, chunkSizeLF
        case chunkData, chunkDataCR, chunkDataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, trailerEndLF
        case failed
    }

    public let limits: Limits
    private var state: State = .start
    private var error: HTTPServerError?

    // The head accumulates in one buffer; fields are ranges into it.
    private var headBuffer: [UInt8] = []
    private var methodEnd = 0
    private var targetEnd = 0
    private var versionStart = 0
    private var version = HTTPVersion.http1_1
    private var fieldStart = 0
    private var nameEnd = 0
    private var valueStart = 0
    private var valueEnd = 0
    private var fields: [(name: Range<Int>, value: Range<Int>)] = []
    private var headerBytes = 0
    private var earlyContentLength: Int?
    private static let contentLengthName = Array("content-length".utf8)

    // Body state.
    private var framing: BodyFraming = .none
    private var body: [UInt8] = []
    private var remaining = 0
    private var chunkSizeDigits = 0
    private var chunkExtensionBytes = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
        headBuffer.reserveCapacity(512)
    }

    /// The method and target of the request being parsed, once its request line has been read (for logs).
    public var requestLine: (method: String, target: String)? {
        guard targetEnd > 0 else { return nil }
        return (
            String(decoding: headBuffer[0..<methodEnd], as: UTF8.self),
            String(decoding: headBuffer[(methodEnd + 1)..<targetEnd], as: UTF8.self)
        )
    }

    /// Body bytes received so far for the request being parsed (what it holds in memory).
    public var bufferedBodyBytes: Int { body.count }

    /// Whether the parser sits between messages with nothing buffered.
    public var isBetweenMessages: Bool { state == .start }

    /// Feeds bytes from an array, starting at `offset`.
    public mutating func parse(_ bytes: [UInt8], from offset: Int = 0) -> Result {
        bytes.withUnsafeBufferPointer { buffer in
            parse(UnsafeBufferPointer(rebasing: buffer[offset...]))
        }
    }

    /// Feeds bytes; `consumed` in the result counts from the start of `input`.
    public mutating func parse(_ input: UnsafeBufferPointer<UInt8>) -> Result {
        if state == .failed { return .failed(error!) }
        if state == .headDone {
            switch framing {
            case .none:
                return complete(consumed: 0)
            case .contentLength(let n):
                if n > limits.maxBodyBytes { return fail(.payloadTooLarge(limit: limits.maxBodyBytes)) }
                if n == 0 { return complete(consumed: 0) }
                body.reserveCapacity(min(n, 1 << 20))
                remaining = n
                state = .bodyLength
            case .chunked:
                remaining = 0
                chunkSizeDigits = 0
                state = .chunkSize
            }
        }
        var i = 0
        let count = input.count
        while i < count {
            let b = input[i]
            switch state {
            case .start:
                if b == ASCII.cr {
                    state = .startLF
                } else if ASCII.isToken(b) {
                    headBuffer.append(b)
                    state = .method
                } else if b == ASCII.lf {
                    return fail(.invalidLineEnding)
                } else {
                    return fail(.malformedRequestLine("it must start with a method token"))
                }

            case .startLF:
                // RFC 9112 §2.2: empty lines before the request line are ignored.
                guard b == ASCII.lf else { return fail(.invalidLineEnding) }
                state = .start

            case .method:
                if ASCII.isToken(b) {
                    headBuffer.append(b)
                    if headBuffer.count > limits.maxMethodBytes {
                        return fail(.malformedRequestLine("the method is longer than \(limits.maxMethodBytes) bytes"))
                    }
                } else if b == ASCII.space {
                    methodEnd = headBuffer.count
                    headBuffer.append(b)
                    state = .target
                } else {
                    return fail(.malformedRequestLine("expected one space after the method"))
                }

            case .target:
                if ASCII.isTargetChar(b) {
                    headBuffer.append(b)
                    if headBuffer.count - methodEnd - 1 > limits.maxTargetBytes { return fail(.uriTooLong(limit: limits.maxTargetBytes)) }
                } else if b == ASCII.space {
                    if headBuffer.count == methodEnd + 1 {
                        return fail(.malformedRequestLine("expected one space between method and target"))
                    }
                    targetEnd = headBuffer.count
                    headBuffer.append(b)
                    versionStart = headBuffer.count
                    state = .version
                } else if b == ASCII.cr || b == ASCII.lf {
                    return fail(.malformedRequestLine("the HTTP version is missing"))
                } else {
                    return fail(.invalidTarget("it contains a byte that must be percent-encoded"))
                }

            case .version:
                if b == ASCII.cr {
                    if let failure = checkVersion() { return fail(failure) }
                    state = .requestLineLF
                } else if b == ASCII.lf {
                    return fail(.invalidLineEnding)
                } else if headBuffer.count - versionStart >= 8 || b == ASCII.space {
                    return fail(.malformedRequestLine("expected `HTTP/1.1` then CRLF after the target"))
                } else {
                    headBuffer.append(b)
                }

            case .requestLineLF:
                guard b == ASCII.lf else { return fail(.invalidLineEnding) }
                state = .lineStart

            case .lineStart:
                headerBytes += 1
                if headerBytes > limits.maxHeaderBytes { return fail(.headersTooLarge(limit: limits.maxHeaderBytes)) }
                if ASCII.isToken(b) {
                    fieldStart = headBuffer.count
                    headBuffer.append(b)
                    state = .name
                } else if b == ASCII.cr {
                    state = .headEndLF
                } else if b == ASCII.space || b == ASCII.tab {
                    return fail(.obsoleteLineFolding)
                } else if b == ASCII.lf {
                    return fail(.invalidLineEnding)
                } else {
                    return fail(.invalidHeaderName)
                }

            case .name:
                headerBytes += 1
                if headerBytes > limits.maxHeaderBytes { return fail(.headersTooLarge(limit: limits.maxHeaderBytes)) }
                if ASCII.isToken(b) {
                    headBuffer.append(b)
                } else if b == ASCII.colon {
                    nameEnd = headBuffer.count
                    valueStart = nameEnd
                    valueEnd = nameEnd
                    state = .valueLeadingSpace
                } else if b == ASCII.space || b == ASCII.tab {
                    return fail(.whitespaceBeforeColon)
                } else {
                    return fail(.invalidHeaderName)
                }

            case .valueLeadingSpace, .value:
                headerBytes += 1
                if headerBytes > limits.maxHeaderBytes { return fail(.headersTooLarge(limit: limits.maxHeaderBytes)) }
                if b == ASCII.cr {
                    state = .valueLF
                } else if b == ASCII.space || b == ASCII.tab {
                    if state == .value { headBuffer.append(b) }
                } else if ASCII.isFieldValue(b) {
                    if state == .valueLeadingSpace {
                        valueStart = headBuffer.count
                        state = .value
                    }
                    headBuffer.append(b)
                    valueEnd = headBuffer.count
                } else if b == ASCII.lf {
                    return fail(.invalidLineEnding)
                } else {
                    return fail(.invalidHeaderValue)
                }

            case .valueLF:
                headerBytes += 1
                guard b == ASCII.lf else { return fail(.invalidLineEnding) }
                if fields.count >= limits.maxHeaderCount { return fail(.tooManyHeaders(limit: limits.maxHeaderCount)) }
                fields.append((fieldStart..<nameEnd, valueStart..<valueEnd))
                // Content-Length is checked as soon as its line ends, so a bad one fails before the rest of the head.
                if nameEnd - fieldStart == 14 && nameEquals(fieldStart..<nameEnd, Self.contentLengthName) {
                    guard let n = Self.parseContentLength(headBuffer[valueStart..<valueEnd]) else {
                        return fail(
                            .invalidContentLength(
                                "`\(String(decoding: headBuffer[valueStart..<valueEnd], as: UTF8.self))` is not a decimal number of bytes"))
                    }
                    if let previous = earlyContentLength, previous != n {
                        return fail(.invalidContentLength("the request carries differing lengths \(previous) and \(n)"))
                    }
                    earlyContentLength = n
                }
                state = .lineStart

            case .headEndLF:
                guard b == ASCII.lf else { return fail(.invalidLineEnding) }
                switch finishHead() {
                case .success(let head):
                    state = .headDone
                    return .head(head, consumed: i + 1)
                case .failure(let failure):
                    return fail(failure)
                }

            case .headDone:
                // Unreachable: `.head` returns before the next byte and the next call leaves this state first.
                return fail(.malformedRequestLine("internal parser state"))

            case .bodyLength:
                let take = min(remaining, count - i)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<(i + take)]))
                remaining -= take
                i += take
                if remaining == 0 { return complete(consumed: i) }
                continue

            case .chunkSize:
                if let v = ASCII.hexValue(b) {
                    // Leading zeros are allowed; the size is checked against the limit after every digit, and
                    // against overflow before it, whatever limit the caller chose.
                    chunkSizeDigits += 1
                    if remaining > (Int.max - 15) / 16 { return fail(.payloadTooLarge(limit: limits.maxBodyBytes)) }
                    remaining = remaining * 16 + v
                    if remaining > limits.maxBodyBytes - body.count {
                        return fail(.payloadTooLarge(limit: limits.maxBodyBytes))
                    }
                } else if chunkSizeDigits == 0 {
                    return fail(.invalidChunk("a chunk must start with its size in hexadecimal"))
                } else if b == ASCII.cr {
                    state = .chunkSizeLF
                } else if b == ASCII.semicolon {
                    chunkExtensionBytes = 0
                    state = .chunkExtNameStart
                } else {
                    return fail(.invalidChunk("invalid character after the chunk size"))
                }

            case .chunkExtNameStart, .chunkExtName, .chunkExtValueStart, .chunkExtToken,
                .chunkExtQuoted, .chunkExtQuotedPair, .chunkExtAfterQuoted:
                chunkExtensionBytes += 1
                if chunkExtensionBytes > limits.maxChunkExtensionBytes {
                    return fail(.chunkExtensionTooLong(limit: limits.maxChunkExtensionBytes))
                }
                if let failure = chunkExtension(b) { return fail(failure) }

            case .chunkSizeLF:
                guard b == ASCII.lf else { return fail(.invalidChunk("the chunk size line must end with CRLF")) }
                if remaining == 0 {
                    headerBytes = 0
                    state = .trailerLineStart
                } else {
                    state = .chunkData
                }

            case .chunkData:
                let take = min(remaining, count - i)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<(i + take)]))
                remaining -= take
                i += take
                if remaining == 0 { state = .chunkDataCR }
                continue

            case .chunkDataCR:
                guard b == ASCII.cr else { return fail(.invalidChunk("chunk data must be followed by CRLF")) }
                state = .chunkDataLF

            case .chunkDataLF:
                guard b == ASCII.lf else { return fail(.invalidChunk("chunk data must be followed by CRLF")) }
                chunkSizeDigits = 0
                remaining = 0
                state = .chunkSize

            case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .trailerEndLF:
                headerBytes += 1
                if headerBytes > limits.maxHeaderBytes { return fail(.headersTooLarge(limit: limits.maxHeaderBytes)) }
                if state == .trailerEndLF {
                    guard b == ASCII.lf else { return fail(.invalidLineEnding) }
                    return complete(consumed: i + 1)
                }
                if let failure = trailer(b) { return fail(failure) }

            case .failed:
                return .failed(error!)
            }
            i += 1
        }
        return .needMoreData
    }

    /// Chunk extensions (RFC 9112 §7.1.1) are validated and discarded.
    private mutating func chunkExtension(_ b: UInt8) -> HTTPServerError? {
        switch state {
        case .chunkExtNameStart:
            guard ASCII.isToken(b) else { return .invalidChunk("a chunk extension must have a token name") }
            state = .chunkExtName
        case .chunkExtName, .chunkExtToken:
            if ASCII.isToken(b) { return nil }
            if b == ASCII.semicolon {
                state = .chunkExtNameStart
            } else if b == ASCII.equals && state == .chunkExtName {
                state = .chunkExtValueStart
            } else if b == ASCII.cr {
                state = .chunkSizeLF
            } else {
                return .invalidChunk("invalid character in a chunk extension")
            }
        case .chunkExtValueStart:
            if b == ASCII.quote {
                state = .chunkExtQuoted
            } else if ASCII.isToken(b) {
                state = .chunkExtToken
            } else {
                return .invalidChunk("a chunk extension value must be a token or a quoted string")
            }
        case .chunkExtQuoted:
            if b == ASCII.quote {
                state = .chunkExtAfterQuoted
            } else if b == ASCII.backslash {
                state = .chunkExtQuotedPair
            } else if !ASCII.isFieldValue(b) {
                return .invalidChunk("unterminated quoted string in a chunk extension")
            }
        case .chunkExtQuotedPair:
            guard ASCII.isFieldValue(b) else { return .invalidChunk("invalid escape in a chunk extension") }
            state = .chunkExtQuoted
        case .chunkExtAfterQuoted:
            if b == ASCII.semicolon {
                state = .chunkExtNameStart
            } else if b == ASCII.cr {
                state = .chunkSizeLF
            } else {
                return .invalidChunk("invalid character after a quoted chunk extension")
            }
        default:
            break
        }
        return nil
    }

    /// Trailer fields (RFC 9112 §7.1.2) are validated like header fields and discarded.
    private mutating func trailer(_ b: UInt8) -> HTTPServerError? {
        switch state {
        case .trailerLineStart:
            if ASCII.isToken(b) {
                state = .trailerName
            } else if b == ASCII.cr {
                state = .trailerEndLF
            } else if b == ASCII.space || b == ASCII.tab {
                return .obsoleteLineFolding
            } else if b == ASCII.lf {
                return .invalidLineEnding
            } else {
                return .invalidHeaderName
            }
        case .trailerName:
            if ASCII.isToken(b) { return nil }
            if b == ASCII.colon {
                state = .trailerValue
            } else if b == ASCII.space || b == ASCII.tab {
                return .whitespaceBeforeColon
            } else {
                return .invalidHeaderName
            }
        case .trailerValue:
            if b == ASCII.cr {
                state = .trailerLF
            } else if b == ASCII.lf {
                return .invalidLineEnding
            } else if !ASCII.isFieldValue(b) {
                return .invalidHeaderValue
            }
        case .trailerLF:
            guard b == ASCII.lf else { return .invalidLineEnding }
            state = .trailerLineStart
        default:
            break
        }
        return nil
    }

    /// Whether the head bytes in `range` equal the lowercase `name`, ignoring ASCII case.
    private func nameEquals(_ range: Range<Int>, _ name: [UInt8]) -> Bool {
        var j = 0
        for k in range {
            if ASCII.lower(headBuffer[k]) != name[j] { return false }
            j += 1
        }
        return true
    }

    /// `HTTP-version = "HTTP/" DIGIT "." DIGIT`; major versions other than 1 are `http_version_not_supported`.
    private mutating func checkVersion() -> HTTPServerError? {
        let v = headBuffer[versionStart...]
        guard v.count == 8, v.starts(with: "HTTP/".utf8) else {
            return .malformedRequestLine("expected `HTTP/1.1` after the target")
        }
        let major = v[versionStart + 5]
        let dot = v[versionStart + 6]
        let minor = v[versionStart + 7]
        guard (48...57).contains(major), dot == UInt8(ascii: "."), (48...57).contains(minor) else {
            return .malformedRequestLine("expected `HTTP/1.1` after the target")
        }
        version = HTTPVersion(major: Int(major) - 48, minor: Int(minor) - 48)
        if version.major != 1 { return .versionNotSupported(version.description) }
        return nil
    }

    /// Turns the buffered head into a value and applies the message-level rules of RFC 9112 §3.2 and §6.
    private mutating func finishHead() -> Swift.Result<HTTPRequestHead, HTTPServerError> {
        let method = HTTPMethod(String(decoding: headBuffer[0..<methodEnd], as: UTF8.self))
        var headers = HTTPHeaders()
        var hostCount = 0
        var contentLength: Int?
        var sawTransferEncoding = false
        var codings: [String] = []
        var keepAliveToken = false
        var closeToken = false
        var expectation: String?
        for field in fields {
            let name = String(decoding: headBuffer[field.name], as: UTF8.self)
            let valueBytes = headBuffer[field.value]
            // Header values may carry obs-text; decode as UTF-8 with replacement rather than refusing.
            let value = String(decoding: valueBytes, as: UTF8.self)
            headers.add(name: name, value: value)
            switch field.name.count {
            case 4 where HTTPHeaders.namesEqual(name, "Host"):
                hostCount += 1
            case 14 where HTTPHeaders.namesEqual(name, "Content-Length"):
                guard let n = Self.parseContentLength(valueBytes) else {
                    return .failure(.invalidContentLength("`\(value)` is not a decimal number of bytes"))
                }
                if let previous = contentLength, previous != n {
                    return .failure(.invalidContentLength("the request carries differing lengths \(previous) and \(n)"))
                }
                contentLength = n
            case 17 where HTTPHeaders.namesEqual(name, "Transfer-Encoding"):
                sawTransferEncoding = true
                for element in valueBytes.split(separator: ASCII.comma) {
                    let coding = String(decoding: element, as: UTF8.self).trimmingOWS().lowercased()
                    if !coding.isEmpty { codings.append(coding) }
                }
            case 10 where HTTPHeaders.namesEqual(name, "Connection"):
                for element in valueBytes.split(separator: ASCII.comma) {
                    let token = String(decoding: element, as: UTF8.self).trimmingOWS()
                    if HTTPHeaders.namesEqual(token, "close") { closeToken = true }
                    if HTTPHeaders.namesEqual(token, "keep-alive") { keepAliveToken = true }
                }
            case 6 where HTTPHeaders.namesEqual(name, "Expect"):
                expectation = value
            default:
                break
            }
        }
        if hostCount > 1 { return .failure(.duplicateHost) }
        if hostCount == 0 && version.minor >= 1 { return .failure(.missingHost) }

        var framing = BodyFraming.none
        if sawTransferEncoding {
            if contentLength != nil { return .failure(.contentLengthWithTransferEncoding) }
            guard codings.last == "chunked", codings.firstIndex(of: "chunked") == codings.count - 1 else {
                return .failure(.transferEncodingNotChunked)
            }
            if let other = codings.first(where: { $0 != "chunked" }) {
                return .failure(.unsupportedTransferCoding(other))
            }
            framing = .chunked
        } else if let contentLength {
            framing = .contentLength(contentLength)
        }

        var expectsContinue = false
        if let expectation {
            guard HTTPHeaders.namesEqual(expectation, "100-continue") else { return .failure(.expectationFailed(expectation)) }
            // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
            expectsContinue = version.minor >= 1
        }

        var keepAlive = version.minor >= 1 ? !closeToken : (keepAliveToken && !closeToken)
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is suspect; close afterwards.
        if version.minor == 0 && framing == .chunked { keepAlive = false }

        let targetBytes = headBuffer[(methodEnd + 1)..<targetEnd]
        let decoded: (String, QueryParameters)
        switch RequestTarget.decode(targetBytes, method: method) {
        case .success(let value): decoded = value
        case .failure(let failure): return .failure(failure)
        }
        return .success(
            HTTPRequestHead(
                method: method,
                target: String(decoding: targetBytes, as: UTF8.self),
                path: decoded.0,
                query: decoded.1,
                version: version,
                headers: headers,
                framing: framing,
                keepAlive: keepAlive,
                expectsContinue: expectsContinue
            )
        )
        .map { head in
            self.framing = framing
            return head
        }
    }

    /// `Content-Length = 1*DIGIT`, also as a list of identical values (RFC 9110 §8.6). Rejects signs,
    /// hex, empty elements and anything longer than 18 digits (which would overflow before any limit applies).
    static func parseContentLength(_ bytes: ArraySlice<UInt8>) -> Int? {
        var result: Int?
        for element in bytes.split(separator: ASCII.comma, omittingEmptySubsequences: false) {
            var start = element.startIndex
            var end = element.endIndex
            while start < end, element[start] == ASCII.space || element[start] == ASCII.tab { start += 1 }
            while end > start, element[end - 1] == ASCII.space || element[end - 1] == ASCII.tab { end -= 1 }
            guard start < end, end - start <= 18 else { return nil }
            var n = 0
            for b in element[start..<end] {
                guard b >= 48 && b <= 57 else { return nil }
                n = n * 10 + Int(b - 48)
            }
            if let result, result != n { return nil }
            result = n
        }
        return result
    }

    private mutating func complete(consumed: Int) -> Result {
        let finished = body
        reset()
        return .complete(body: finished, consumed: consumed)
    }

    private mutating func reset() {
        state = .start
        headBuffer.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        methodEnd = 0
        targetEnd = 0
        versionStart = 0
        headerBytes = 0
        earlyContentLength = nil
        framing = .none
        body = []
        remaining = 0
        chunkSizeDigits = 0
    }

    private mutating func fail(_ failure: HTTPServerError) -> Result {
        state = .failed
        error = failure
        return .failed(failure)
    }
}
