#if canImport(Glibc)
    import Glibc
#endif

/// `multipart/form-data` bodies (RFC 7578 over RFC 2046 §5.1), as `curl -F name=value -F file=@photo.jpg`
/// sends them. A pure function over the body bytes.
public enum MultipartFormData {
    /// One form field.
    public struct Part: Equatable, Sendable {
        /// The `name` parameter of Content-Disposition.
        public var name: String
        /// The `filename` parameter, when the part is a file.
        public var filename: String?
        /// The part's Content-Type, nil when absent (RFC 7578 §4.4 then means `text/plain`).
        public var contentType: String?
        /// All header fields of the part.
        public var headers: HTTPHeaders
        public var body: [UInt8]
    }

    /// Most parts accepted in one body.
    public static let maxParts = 1000
    /// Largest header section of one part.
    public static let maxPartHeaderBytes = 8 * 1024

    /// Whether a Content-Type's media type (parameters aside, case-insensitively) is multipart/form-data;
    /// `multipart/form-datax` is not.
    public static func isFormData(contentType: String) -> Bool {
        guard let mediaType = splitParameters(Array(contentType.utf8)[...]).first?.name else { return false }
        return HTTPHeaders.namesEqual(mediaType, "multipart/form-data")
    }

    /// The boundary parameter of a `multipart/form-data` Content-Type, or an error saying what is wrong.
    public static func boundary(fromContentType contentType: String) throws -> [UInt8] {
        let parameters = splitParameters(Array(contentType.utf8)[...])
        guard let mediaType = parameters.first?.name, HTTPHeaders.namesEqual(mediaType, "multipart/form-data") else {
            throw HTTPServerError(
                .unsupportedMediaType,
                "Expected Content-Type multipart/form-data, got `\(contentType)`; send the file with `curl -F file=@image.jpg`.")
        }
        guard let boundary = parameters.dropFirst().first(where: { HTTPHeaders.namesEqual($0.name, "boundary") })?.value,
            (1...70).contains(boundary.utf8.count)
        else {
            throw HTTPServerError(
                .invalidMultipart,
                "The multipart/form-data Content-Type has no valid boundary parameter (1–70 characters, RFC 2046 §5.1.1).")
        }
        return Array(boundary.utf8)
    }

    /// Splits `body` into parts using the boundary from `contentType`.
    public static func parse(body: [UInt8], contentType: String) throws -> [Part] {
        try parse(body: body, boundary: try boundary(fromContentType: contentType))
    }

    /// Splits `body` into parts delimited by `--boundary` lines.
    public static func parse(body: [UInt8], boundary: [UInt8]) throws -> [Part] {
        let dashBoundary: [UInt8] = [45, 45] + boundary
        let delimiter: [UInt8] = [ASCII.cr, ASCII.lf] + dashBoundary
        // The first boundary may start the body or follow a preamble and CRLF.
        var position: Int
        if body.starts(with: dashBoundary), endsBoundaryLine(body, at: dashBoundary.count) {
            position = dashBoundary.count
        } else if let found = findDelimiter(delimiter, in: body, from: 0) {
            position = found + delimiter.count
        } else {
            throw invalid("the body does not contain the boundary from Content-Type")
        }
        var parts: [Part] = []
        while true {
            // After a boundary: `--` ends the body; otherwise optional whitespace then CRLF starts a part.
            if body[position...].starts(with: [45, 45]) { return parts }
            while body[position] == ASCII.space || body[position] == ASCII.tab { position += 1 }
            position += 2
            guard parts.count < maxParts else { throw invalid("more than \(maxParts) parts") }
            let headerEnd: Int
            if body[position...].starts(with: [ASCII.cr, ASCII.lf]) {
                headerEnd = position
            } else if let end = find([ASCII.cr, ASCII.lf, ASCII.cr, ASCII.lf], in: body, from: position) {
                headerEnd = end + 2
            } else {
                throw invalid("a part's headers are not terminated by an empty line")
            }
            guard headerEnd - position <= maxPartHeaderBytes else { throw invalid("a part's headers exceed \(maxPartHeaderBytes) bytes") }
            let headers = try parseHeaders(body[position..<headerEnd])
            let bodyStart = headerEnd + 2
            guard let bodyEnd = findDelimiter(delimiter, in: body, from: bodyStart) else {
                throw invalid("the body ends before the closing boundary `--\(String(decoding: boundary, as: UTF8.self))--`")
            }
            parts.append(try makePart(headers: headers, body: Array(body[bodyStart..<bodyEnd])))
            position = bodyEnd + delimiter.count
        }
    }

    /// Whether the bytes after a boundary at `index` finish a boundary line: `--`, or optional
    /// whitespace then CRLF (RFC 2046 §5.1.1). A boundary followed by anything else is content.
    private static func endsBoundaryLine(_ body: [UInt8], at index: Int) -> Bool {
        if body[index...].starts(with: [45, 45]) { return true }
        var i = index
        while i < body.count, body[i] == ASCII.space || body[i] == ASCII.tab { i += 1 }
        return body[i...].starts(with: [ASCII.cr, ASCII.lf])
    }

    /// The next `CRLF--boundary` that forms a whole boundary line.
    private static func findDelimiter(_ delimiter: [UInt8], in body: [UInt8], from start: Int) -> Int? {
        var from = start
        while let found = find(delimiter, in: body, from: from) {
            if endsBoundaryLine(body, at: found + delimiter.count) { return found }
            from = found + 1
        }
        return nil
    }

    private static func invalid(_ detail: String) -> HTTPServerError {
        HTTPServerError(.invalidMultipart, "Malformed multipart/form-data body: \(detail).")
    }

    private static func parseHeaders(_ bytes: ArraySlice<UInt8>) throws -> HTTPHeaders {
        var headers = HTTPHeaders()
        var lineStart = bytes.startIndex
        while lineStart < bytes.endIndex {
            guard let lineEnd = find([ASCII.cr, ASCII.lf], in: bytes, from: lineStart) else {
                throw invalid("a part header line must end with CRLF")
            }
            let line = bytes[lineStart..<lineEnd]
            guard let colon = line.firstIndex(of: ASCII.colon), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(ASCII.isToken)
            else {
                throw invalid("a part header line is not `Name: value`")
            }
            let value = line[(colon + 1)...]
            guard value.allSatisfy(ASCII.isFieldValue) else { throw invalid("a part header value contains a control character") }
            headers.add(
                name: String(decoding: line[line.startIndex..<colon], as: UTF8.self),
                value: String(decoding: value, as: UTF8.self).trimmingOWS())
            lineStart = lineEnd + 2
        }
        return headers
    }

    private static func makePart(headers: HTTPHeaders, body: [UInt8]) throws -> Part {
        guard let disposition = headers["Content-Disposition"] else {
            throw invalid("a part has no Content-Disposition header")
        }
        let parameters = splitParameters(Array(disposition.utf8)[...])
        guard let kind = parameters.first?.name, HTTPHeaders.namesEqual(kind, "form-data") else {
            throw invalid("a part's Content-Disposition is not form-data")
        }
        guard let name = parameters.dropFirst().first(where: { HTTPHeaders.namesEqual($0.name, "name") })?.value else {
            throw invalid("a part's Content-Disposition has no name parameter")
        }
        let filename = parameters.dropFirst().first(where: { HTTPHeaders.namesEqual($0.name, "filename") })?.value
        return Part(name: name, filename: filename, contentType: headers["Content-Type"], headers: headers, body: body)
    }

    /// Splits `type; a=b; c="d;e"` into `[(type, ""), (a, b), (c, d;e)]`, unquoting quoted-strings.
    static func splitParameters(_ bytes: ArraySlice<UInt8>) -> [(name: String, value: String)] {
        var result: [(String, String)] = []
        var i = bytes.startIndex
        func skipSpace() { while i < bytes.endIndex, bytes[i] == ASCII.space || bytes[i] == ASCII.tab { i += 1 } }
        var first = true
        while i < bytes.endIndex {
            skipSpace()
            var name: [UInt8] = []
            while i < bytes.endIndex, bytes[i] != ASCII.semicolon, bytes[i] != ASCII.equals || first {
                name.append(bytes[i])
                i += 1
            }
            var value: [UInt8] = []
            if i < bytes.endIndex, bytes[i] == ASCII.equals {
                i += 1
                skipSpace()
                if i < bytes.endIndex, bytes[i] == ASCII.quote {
                    i += 1
                    while i < bytes.endIndex, bytes[i] != ASCII.quote {
                        if bytes[i] == ASCII.backslash, i + 1 < bytes.endIndex { i += 1 }
                        value.append(bytes[i])
                        i += 1
                    }
                    i += 1
                    while i < bytes.endIndex, bytes[i] != ASCII.semicolon { i += 1 }
                } else {
                    while i < bytes.endIndex, bytes[i] != ASCII.semicolon {
                        value.append(bytes[i])
                        i += 1
                    }
                }
            }
            if i < bytes.endIndex, bytes[i] == ASCII.semicolon { i += 1 }
            let trimmedName = String(decoding: name, as: UTF8.self).trimmingOWS()
            result.append((trimmedName, first ? "" : String(decoding: value, as: UTF8.self).trimmingOWS()))
            first = false
        }
        return result
    }

    /// The first index of `needle` in `haystack` at or after `from` (indices are `haystack`'s own).
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from: Int) -> Int? {
        guard !needle.isEmpty, from >= haystack.startIndex, haystack.endIndex - from >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { buffer -> Int? in
            // memchr finds candidates for the first byte at memory speed; memcmp confirms them.
            let base = buffer.baseAddress!
            let end = base + (buffer.count - needle.count + 1)
            var cursor = base + (from - haystack.startIndex)
            return needle.withUnsafeBytes { n -> Int? in
                while cursor < end {
                    guard let hit = memchr(UnsafeRawPointer(cursor), Int32(needle[0]), end - cursor) else { return nil }
                    let candidate = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self))
                    if memcmp(UnsafeRawPointer(candidate), n.baseAddress!, n.count) == 0 {
                        return haystack.startIndex + (candidate - base)
                    }
                    cursor = candidate + 1
                }
                return nil
            }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        find(needle, in: haystack[...], from: from)
    }
}
