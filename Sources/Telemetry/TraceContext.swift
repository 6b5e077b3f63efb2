import Foundation

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

    /// `tracestate` if it is one the specification allows passing on (§3.3.1: at most 32 `key=value` members, keys
    /// `simple-key` or `tenant@system` of lowercase letters, digits and `_-*/`, values of printable ASCII without `,` and
    /// `=` not ending in a space, no key twice, at most 512 characters); otherwise nil: the whole header is dropped.
    /// The list's optional whitespace around members (OWS: space and tab).
    private static let listWhitespace = CharacterSet(charactersIn: " \t")

    static func validTraceState(_ header: String?) -> String? {
        guard let header, !header.isEmpty, header.utf8.count <= 512 else { return nil }
        var keys = Set<Substring>()
        for member in header.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = member.trimmingCharacters(in: Self.listWhitespace)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "="), keys.count < 32 else { return nil }
            let key = trimmed[..<equals]
            let value = trimmed[trimmed.index(after: equals)...]
            guard validKey(key), keys.insert(key).inserted, validValue(value) else { return nil }
        }
        return keys.isEmpty ? nil : header
    }

    private static func keyCharacter(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D || c == 0x2A || c == 0x2F
    }

    private static func validKey(_ key: Substring) -> Bool {
        let bytes = Array(key.utf8)
        let lowercase: (UInt8) -> Bool = { $0 >= 0x61 && $0 <= 0x7A }
        let digit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        if let at = bytes.firstIndex(of: 0x40) {
            let tenant = bytes[..<at]
            let system = bytes[(at + 1)...]
            guard let t = tenant.first, lowercase(t) || digit(t), tenant.count <= 241, tenant.allSatisfy(keyCharacter),
                let s = system.first, lowercase(s), system.count <= 14, system.allSatisfy(keyCharacter)
            else { return false }
            return true
        }
        guard let first = bytes.first, lowercase(first), bytes.count <= 256 else { return false }
        return bytes.allSatisfy(keyCharacter)
    }

    private static func validValue(_ value: Substring) -> Bool {
        let bytes = Array(value.utf8)
        guard let last = bytes.last, bytes.count <= 256, last != 0x20 else { return false }
        return bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != 0x2C && $0 != 0x3D }
    }
}
