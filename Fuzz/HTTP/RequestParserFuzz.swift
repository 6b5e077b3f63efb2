// libFuzzer entry for RequestParser: built by Fuzz/fuzz-http.sh together with Sources/HTTP/*.swift.
// Beyond "no crash, no hang", it checks the parser's central promise: the outcome does not depend on how
// the input is split (whole, at a point chosen from the data, and byte by byte).

/// The messages completed and how the input ended, as a comparable summary.
private func summarize(_ input: [UInt8], chunks: [Range<Int>]) -> [String] {
    var parser = RequestParser()
    var events: [String] = []
    var head: HTTPRequestHead?
    for range in chunks {
        var offset = range.lowerBound
        parsing: while true {
            let result = input.withUnsafeBufferPointer { parser.parse(UnsafeBufferPointer(rebasing: $0[offset..<range.upperBound])) }
            switch result {
            case .needMoreData:
                break parsing
            case .head(let h, let consumed):
                offset += consumed
                head = h
                precondition(offset <= range.upperBound)
            case .complete(let body, let consumed):
                offset += consumed
                precondition(offset <= range.upperBound)
                guard let h = head else { preconditionFailure("complete without head") }
                if case .contentLength(let n) = h.framing { precondition(body.count == n) }
                precondition(body.count <= parser.limits.maxBodyBytes)
                events.append("\(h.method) \(h.path) \(h.headers.count) \(body.count)")
                head = nil
                if !h.keepAlive {
                    events.append("closed")
                    return events
                }
            case .failed(let error):
                precondition(error.status.code >= 400 && error.status.code < 600)
                events.append("failed \(error.code.rawValue)")
                return events
            }
        }
    }
    events.append(head == nil && parser.isBetweenMessages ? "idle" : "incomplete")
    return events
}

@_cdecl("LLVMFuzzerTestOneInput")
public func requestParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = summarize(input, chunks: [0..<input.count])
    let split = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
    let halves = summarize(input, chunks: [0..<split, split..<input.count])
    precondition(whole == halves, "split at \(split): \(whole) vs \(halves)")
    if input.count <= 512 {
        let bytes = summarize(input, chunks: input.indices.map { $0..<($0 + 1) })
        precondition(whole == bytes, "byte by byte: \(whole) vs \(bytes)")
    }
    return 0
}
