@testable import HTTP

/// What a parser made of an input, independent of how the input was split.
struct ParseTrace: Equatable, CustomStringConvertible {
    struct Message: Equatable {
        var method: String
        var path: String
        var version: HTTPVersion
        var body: [UInt8]
        var keepAlive: Bool
    }
    enum End: Equatable {
        /// Every byte consumed, between messages.
        case idle
        /// More bytes are needed to finish the current message.
        case incomplete
        /// A message without keep-alive completed; the connection would close, later bytes are ignored.
        case closed
        case failed(HTTPServerError.Code)
    }
    var messages: [Message] = []
    var heads: [HTTPRequestHead] = []
    var end: End = .idle

    var description: String {
        "\(messages.map { "\($0.method) \($0.path) body=\($0.body.count)" }) end=\(end)"
    }
}

/// Feeds `chunks` in order, the way a connection does: parse until a chunk is used up, stop after a
/// message that closes the connection, stop at a failure.
func trace(_ chunks: [[UInt8]], limits: RequestParser.Limits = RequestParser.Limits()) -> ParseTrace {
    var parser = RequestParser(limits: limits)
    var result = ParseTrace()
    var pendingHead: HTTPRequestHead?
    var last: RequestParser.Result = .needMoreData
    outer: for chunk in chunks {
        var offset = 0
        while true {
            last = parser.parse(chunk, from: offset)
            switch last {
            case .needMoreData:
                continue outer
            case .head(let head, let consumed):
                offset += consumed
                pendingHead = head
                result.heads.append(head)
            case .complete(let body, let consumed):
                offset += consumed
                let head = pendingHead!
                pendingHead = nil
                result.messages.append(
                    .init(method: head.method.rawValue, path: head.path, version: head.version, body: body, keepAlive: head.keepAlive))
                if !head.keepAlive {
                    result.end = .closed
                    return result
                }
            case .failed(let error):
                result.end = .failed(error.code)
                return result
            }
        }
    }
    result.end = pendingHead == nil && parser.isBetweenMessages ? .idle : .incomplete
    return result
}

func trace(_ bytes: [UInt8], splitAt split: Int, limits: RequestParser.Limits = RequestParser.Limits()) -> ParseTrace {
    trace([Array(bytes[..<split]), Array(bytes[split...])], limits: limits)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
