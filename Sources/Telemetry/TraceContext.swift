/// A W3C Trace Context (https://www.w3.org/TR/trace-context/) position in a trace: the trace, the span, and whether the
/// trace is sampled; with the vendors' `tracestate`, passed on unchanged.
public struct TraceContext: Sendable, Equatable {
    /// 16 bytes, not all zero.
    public let traceID: [UInt8]
    /// 8 bytes, not all zero.
    public let spanID: [UInt8]
    /// The `sampled` trace flag.
    public let sampled: Bool
    /// The `tracestate` header as received (validated), or nil.
    public let traceState: String?

    public init(traceID: [UInt8], spanID: [UInt8], sampled: Bool, traceState: String? = nil) {
        precondition(traceID.count == 16 && spanID.count == 8)
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
        self.traceState = traceState
    }

    /// A `traceparent` header (and its `tracestate`), or nil when either is missing or invalid as the specification
    /// defines it: then a receiver starts a new trace (§3.2.2.x "…if the traceparent header is invalid, … restart").
    /// Version 00 must be exactly 55 characters; a later version may carry more after a `-`; version ff is invalid.
    public init?(traceparent: String?, tracestate: String?) {
        guard let header = traceparent?.utf8.map({ $0 }), header.count >= 55 else { return nil }
        func hex(_ range: Range<Int>) -> [UInt8]? {
            var bytes: [UInt8] = []
            var index = range.lowerBound
            while index < range.upperBound {
                guard let high = Self.nibble(header[index]), let low = Self.nibble(header[index + 1]) else { return nil }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
        let dash = UInt8(ascii: "-")
        guard header[2] == dash, header[35] == dash, header[52] == dash, let version = hex(0..<2)?.first, version != 0xFF,
            header.count == 55 || (version != 0 && header[55] == dash), let traceID = hex(3..<35), let spanID = hex(36..<52),
            let flags = hex(53..<55)?.first, traceID.contains(where: { $0 != 0 }), spanID.contains(where: { $0 != 0 })
        else { return nil }
        self.init(traceID: traceID, spanID: spanID, sampled: flags & 1 == 1, traceState: Self.validTraceState(tracestate))
    }

    /// The `traceparent` header naming this span: `00-<trace>-<span>-<flags>`.
    public var traceparent: String {
        "00-\(Self.hex(traceID))-\(Self.hex(spanID))-\(sampled ? "01" : "00")"
    }

    public var traceIDHex: String { Self.hex(traceID) }
    public var spanIDHex: String { Self.hex(spanID) }

    /// A child position: the same trace, sampling and state, a new span.
    public func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.randomSpanID(), sampled: sampled, traceState: traceState)
    }

    public static func randomTraceID() -> [UInt8] { nonZero(16) }
    public static func randomSpanID() -> [UInt8] { nonZero(8) }

    private static func nonZero(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.contains(where: { $0 != 0 }) { return bytes }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercase hex only, as the specification requires.
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// `tracestate` if it is one the specification allows passing on: at most 512 characters of printable ASCII in at
    /// most 32 `key=value` members; otherwise nil (dropped, as §3.3.1.x allows).
    static func validTraceState(_ header: String?) -> String? {
        guard let header, !header.isEmpty, header.utf8.count <= 512, header.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            return nil
        }
        let members = header.split(separator: ",").map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
        guard members.count <= 32, members.allSatisfy({ $0.contains("=") && !$0.hasPrefix("=") }) else { return nil }
        return header
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return slice
    }
}
