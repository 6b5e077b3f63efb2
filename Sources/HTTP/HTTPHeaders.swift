/// Header fields in the order received, looked up case-insensitively (field names are ASCII tokens).
public struct HTTPHeaders: Sequence, Equatable, Sendable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One field line.
    public struct Field: Equatable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// All fields, in order.
    public private(set) var fields: [Field]

    public init() { fields = [] }
    public init(_ pairs: [(String, String)]) { fields = pairs.map { Field(name: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        for field in fields where Self.namesEqual(field.name, name) { return field.value }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        fields.compactMap { Self.namesEqual($0.name, name) ? $0.value : nil }
    }

    /// Whether a field called `name` is present.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Appends a field, keeping any existing ones with the same name.
    public mutating func add(name: String, value: String) { fields.append(Field(name: name, value: value)) }

    /// Replaces every field called `name` with one field.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field called `name`.
    public mutating func remove(name: String) { fields.removeAll { Self.namesEqual($0.name, name) } }

    /// Whether a comma-separated header (e.g. `Connection`) lists `token`, case-insensitively.
    public func containsToken(_ token: String, in name: String) -> Bool {
        for value in values(for: name) {
            for element in value.split(separator: ",") {
                if Self.namesEqual(String(element).trimmingOWS(), token) { return true }
            }
        }
        return false
    }

    public var description: String { fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }

    /// ASCII case-insensitive comparison without allocating.
    @inline(__always)
    static func namesEqual(_ a: String, _ b: String) -> Bool {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                if x != y && ASCII.lower(x) != ASCII.lower(y) { return false }
            default: return false
            }
        }
    }
}

extension String {
    /// Removes leading and trailing spaces and tabs (RFC 9110 OWS).
    func trimmingOWS() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == ASCII.space || bytes[start] == ASCII.tab { start += 1 }
        while end > start, bytes[end - 1] == ASCII.space || bytes[end - 1] == ASCII.tab { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// Byte constants and character classes from RFC 9110 §5.6.
enum ASCII {
    static let cr: UInt8 = 13, lf: UInt8 = 10, space: UInt8 = 32, tab: UInt8 = 9
    static let colon: UInt8 = 58, semicolon: UInt8 = 59, equals: UInt8 = 61, comma: UInt8 = 44
    static let quote: UInt8 = 34, backslash: UInt8 = 92, slash: UInt8 = 47, question: UInt8 = 63
    static let percent: UInt8 = 37, plus: UInt8 = 43, hash: UInt8 = 35, ampersand: UInt8 = 38

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b | 0x20 : b }

    /// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    static let tokenTable: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = true }
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = true }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = true }
        for c in "!#$%&'*+-.^_`|~".utf8 { table[Int(c)] = true }
        return table
    }()

    @inline(__always) static func isToken(_ b: UInt8) -> Bool { tokenTable[Int(b)] }
    /// field-vchar / SP / HTAB: visible ASCII, obs-text (0x80–0xFF), space, tab.
    @inline(__always) static func isFieldValue(_ b: UInt8) -> Bool { b >= 0x20 ? b != 0x7F : b == tab }
    /// Characters accepted in a request target: visible ASCII (RFC 9112 §3.2 with RFC 3986 leniency for `"|\^{}`).
    @inline(__always) static func isTargetChar(_ b: UInt8) -> Bool { b > 0x20 && b < 0x7F }
    @inline(__always) static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: return Int(b) - 48
        case 65...70: return Int(b) - 55
        case 97...102: return Int(b) - 87
        default: return nil
        }
    }
}
