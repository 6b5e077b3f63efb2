import COpenSSL
import Foundation

/// A tokens file that cannot be used: the message names the file and the line, never a token.
public struct TokenFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
}

/// Bearer-token authentication (RFC 6750 §2.1: `Authorization: Bearer <token>`, what KServe clients, tritonclient's
/// `headers=` and OpenAI-style clients send) against a tokens file: one token per line, `#` comment lines and blank
/// lines ignored, and a line `sha256:<64 hex digits>` standing for the token with that SHA-256, so the file need not
/// hold the secret itself. Only digests are kept in memory; a presented token is hashed and compared with every digest
/// without stopping at a match or a differing byte, so the time taken says nothing about how close a guess was.
///
/// Like `TLSContextStore`, it reloads on SIGHUP and when the file changes (modification time, size or inode: a
/// Kubernetes Secret update swaps a symlink), and keeps the previous set when the new file is unreadable or invalid.
public final class BearerTokens: @unchecked Sendable {
    /// Why a request was refused; the raw value is the failure reason counted in metrics.
    public enum Failure: String, Sendable, CaseIterable {
        /// No `Authorization` header.
        case missing
        /// An `Authorization` header that is not `Bearer <token>`.
        case malformed
        /// A bearer token that is not in the file.
        case invalid
    }

    public let path: String
    private let lock = NSLock()
    private var digests: [[UInt8]]
    private var stamp: FileStamp?

    /// Loads the file; throws at start-up with a message naming the file and line.
    public init(path: String) throws {
        self.path = path
        stamp = FileStamp(path)
        digests = try Self.load(path)
    }

    /// Tokens (counting `sha256:` lines) currently accepted.
    public var count: Int { lock.withLock { digests.count } }

    /// Nil when `authorization` (the header's value, nil when absent) carries an accepted bearer token.
    public func check(_ authorization: String?) -> Failure? {
        guard let authorization else { return .missing }
        // RFC 6750 §2.1: the scheme is case-insensitive, one or more spaces, then a b64token.
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .malformed }
        let token = parts[1].drop { $0 == " " }
        guard Self.isToken(token.utf8) else { return .malformed }
        let presented = Self.sha256(Array(token.utf8))
        let accepted = lock.withLock { digests }
        var matched: UInt8 = 0
        for digest in accepted {
            var difference: UInt8 = 0
            for i in 0..<32 { difference |= digest[i] ^ presented[i] }
            // 1 when equal, without a branch on the bytes.
            matched |= UInt8(truncatingIfNeeded: (Int(difference) - 1) >> 8) & 1
        }
        return matched == 1 ? nil : .invalid
    }

    /// Loads the file again and, if it is valid, accepts its tokens from now on; on failure the previous set stays.
    /// Returns how many tokens are accepted.
    public func reload() -> Result<Int, TokenFileError> {
        let fresh = FileStamp(path)
        do {
            let loaded = try Self.load(path)
            lock.withLock {
                digests = loaded
                stamp = fresh
            }
            return .success(loaded.count)
        } catch let error as TokenFileError {
            // Not retried until the file changes again.
            lock.withLock { stamp = fresh }
            return .failure(error)
        } catch {
            return .failure(TokenFileError(description: "\(error)"))
        }
    }

    /// `reload()` if the file changed since the last load; nil when it did not.
    public func reloadIfChanged() -> Result<Int, TokenFileError>? {
        let current = FileStamp(path)
        guard lock.withLock({ current != stamp }) else { return nil }
        return reload()
    }

    /// The token file's digests, in file order.
    static func load(_ path: String) throws -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenFileError(description: "cannot read the tokens file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenFileError(description: "\(path) is not UTF-8 text")
        }
        var digests: [[UInt8]] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.lowercased().hasPrefix("sha256:") {
                let hex = line.dropFirst("sha256:".count)
                guard let digest = Self.bytes(hex: hex) else {
                    throw TokenFileError(description: "\(path) line \(index + 1): sha256: must be followed by 64 hexadecimal digits")
                }
                digests.append(digest)
            } else {
                guard Self.isToken(line.utf8) else {
                    throw TokenFileError(
                        description:
                            "\(path) line \(index + 1): a token may hold only letters, digits and - . _ ~ + / (then = padding), as RFC 6750 allows"
                    )
                }
                digests.append(Self.sha256(Array(line.utf8)))
            }
        }
        guard !digests.isEmpty else {
            throw TokenFileError(description: "\(path) holds no tokens: every request would be refused")
        }
        return digests
    }

    /// RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
    static func isToken<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var padding = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "="): padding = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding { return false }
            default: return false
            }
        }
        return bytes.first.map { $0 != UInt8(ascii: "=") } ?? false
    }

    /// The SHA-256 of `bytes` (libcrypto).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }
        return digest
    }

    private static func bytes<S: StringProtocol>(hex: S) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var result: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
            result.append(high << 4 | low)
        }
        return result
    }
}
