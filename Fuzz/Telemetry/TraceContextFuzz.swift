// libFuzzer entry for the W3C Trace Context reader (TraceContext(traceparent:tracestate:)), which reads two request
// headers of every traced request. The input is the traceparent value, then a NUL, then the tracestate value.
// A parsed context must name a non-zero trace and span, format back to a 55-character version-00 header that parses
// to the same context, and keep only a tracestate the specification allows passing on (passed on as received, so with
// its list whitespace).

@_cdecl("LLVMFuzzerTestOneInput")
public func traceContextFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let parts = input.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    let traceparent = String(decoding: parts[0], as: UTF8.self)
    let tracestate = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil
    guard let context = TraceContext(traceparent: traceparent, tracestate: tracestate) else { return 0 }
    precondition(context.traceID.count == 16 && context.traceID.contains { $0 != 0 })
    precondition(context.spanID.count == 8 && context.spanID.contains { $0 != 0 })
    let header = context.traceparent
    precondition(header.utf8.count == 55 && header.hasPrefix("00-"))
    let again = TraceContext(traceparent: header, tracestate: context.traceState)
    precondition(again == context)
    if let state = context.traceState {
        // Printable ASCII, and the list's optional whitespace (space or tab) around members.
        precondition(state.utf8.count <= 512 && state.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 })
    }
    let child = context.child()
    precondition(child.traceID == context.traceID && child.spanID.contains { $0 != 0 })
    return 0
}
